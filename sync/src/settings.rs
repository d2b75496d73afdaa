//! The cluster's settings for talking to HubSpot and Userflow, as the command line gives them.

/// The HubSpot public app hubsync runs as. Every field but the URLs is optional so that a
/// cluster can start before the app exists; what needs a missing one says which is missing.
#[derive(Clone, Default)]
pub struct HubspotApp {
    /// Numeric app id: the `appId`/`sourceId` of our own changes, and the webhooks API path.
    pub app_id: Option<u64>,
    /// OAuth client id.
    pub client_id: Option<String>,
    /// OAuth client secret; also the key HubSpot signs webhooks with.
    pub client_secret: Option<String>,
    /// Developer API key (`?hapikey=`) for the app's webhook settings and timeline templates.
    pub developer_api_key: Option<String>,
    /// API base URL, e.g. `https://api.hubapi.com`.
    pub api_base: String,
    /// Where operators are sent to approve the app, e.g. `https://app.hubspot.com/oauth/authorize`.
    pub authorize_url: String,
    /// Scopes asked for on connect.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for HubspotApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubspotApp")
            .field("app_id", &self.app_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "developer_api_key",
                &self.developer_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("api_base", &self.api_base)
            .field("authorize_url", &self.authorize_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Scopes asked for by default: CRM objects and schemas read/write and timeline.
pub const DEFAULT_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "timeline",
];

/// Everything a role needs to reach the two systems.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hubspot: HubspotApp,
    /// Userflow API base URL, e.g. `https://api.userflow.com`.
    pub userflow_api_base: String,
    /// The HubSpot call budget per portal that every replica keeps to together (a public
    /// OAuth app gets 100 calls per 10 s per portal; HubSpot's own `X-HubSpot-RateLimit-*`
    /// answers lower it further while they last).
    pub hubspot_limits: crate::ratelimit::PortalLimits,
    /// The api's public base URL (`https://hubsync.example.com`): the OAuth redirect, the
    /// webhook targets, and the URL HubSpot signs in v3 signatures.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            hubspot: HubspotApp::default(),
            userflow_api_base: String::new(),
            hubspot_limits: crate::ratelimit::PortalLimits::OAUTH_APP,
            public_url: None,
        }
    }
}

impl Settings {
    /// `public_url` + `path`, or why it can't be built.
    pub fn public(&self, path: &str) -> Result<String, crate::SyncError> {
        let base = self.public_url.as_deref().ok_or_else(|| {
            crate::SyncError::Settings("--public-url (HUBSYNC_PUBLIC_URL) is not set".into())
        })?;
        Ok(format!("{}{path}", base.trim_end_matches('/')))
    }
}
