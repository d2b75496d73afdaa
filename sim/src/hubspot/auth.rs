//! Who is calling: bearer tokens (private-app tokens and OAuth access tokens) resolve to a
//! [`Caller`]; developer API keys (`?hapikey=`) resolve to a [`DeveloperApp`]. Failures answer
//! with HubSpot's 401 bodies.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::Simulator;
use super::errors::HubspotError;
use super::oauth::AccessLookup;

/// The account and app behind a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Portal the token belongs to.
    pub portal_id: u64,
    /// The OAuth app, or `None` for a private-app token.
    pub app_id: Option<u64>,
    /// Granted scopes (private-app tokens have every scope).
    pub scopes: Vec<String>,
}

impl Caller {
    /// Whether the caller may use `scope` (private apps may use all).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.app_id.is_none() || self.scopes.iter().any(|s| s == scope)
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequestParts<Simulator> for Caller {
    type Rejection = HubspotError;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(HubspotError::invalid_authentication)?;
        if let Some(portal) = sim
            .inner
            .config
            .portals
            .iter()
            .find(|p| p.private_app_token == token)
        {
            return Ok(Caller {
                portal_id: portal.portal_id,
                app_id: None,
                scopes: Vec::new(),
            });
        }
        match sim.inner.oauth.resolve_access_token(&token) {
            AccessLookup::Valid {
                portal_id,
                app_id,
                scopes,
            } => Ok(Caller {
                portal_id,
                app_id: Some(app_id),
                scopes,
            }),
            AccessLookup::Expired {
                seconds_ago,
                expired_at_iso,
            } => Err(HubspotError::expired_authentication(
                seconds_ago,
                &expired_at_iso,
            )),
            AccessLookup::Unknown => Err(HubspotError::invalid_authentication()),
        }
    }
}

/// The app behind a developer API key (`?hapikey=`), for app-level endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeveloperApp {
    /// App id the key belongs to.
    pub app_id: u64,
}

impl DeveloperApp {
    /// The path's `{app_id}` when it is this key's app. Another app's path answers 401 like an
    /// unknown key, so a key cannot probe which apps exist.
    pub async fn owned_app_id(
        &self,
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<u64, HubspotError> {
        let params = RawPathParams::from_request_parts(parts, sim)
            .await
            .map_err(|_| HubspotError::invalid_authentication())?;
        params
            .iter()
            .find(|(k, _)| *k == "app_id")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .filter(|id| *id == self.app_id)
            .ok_or_else(HubspotError::invalid_authentication)
    }
}

impl FromRequestParts<Simulator> for DeveloperApp {
    type Rejection = HubspotError;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        let key = parts.uri.query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "hapikey")
                .map(|(_, v)| v.into_owned())
        });
        let key = key.ok_or_else(HubspotError::invalid_authentication)?;
        sim.inner
            .config
            .apps
            .iter()
            .find(|a| a.developer_api_key == key)
            .map(|a| DeveloperApp { app_id: a.app_id })
            .ok_or_else(HubspotError::invalid_authentication)
    }
}
