//! OAuth token shapes (§12).

use serde::{Deserialize, Serialize};

/// Token endpoint answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Access token (≥ 512 characters may occur).
    pub access_token: String,
    /// Refresh token (may or may not rotate).
    pub refresh_token: String,
    /// Seconds until the access token expires (1,800).
    pub expires_in: u64,
    /// The portal (newer responses).
    #[serde(default)]
    pub hub_id: Option<u64>,
    /// Granted scopes (newer responses).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Installing user.
    #[serde(default)]
    pub user_id: Option<u64>,
}

/// `GET /oauth/v1/access-tokens/{token}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenInfo {
    /// The token.
    #[serde(default)]
    pub token: Option<String>,
    /// Installing user's email.
    #[serde(default)]
    pub user: Option<String>,
    /// Installing user's id.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// The portal.
    pub hub_id: u64,
    /// The portal's domain.
    #[serde(default)]
    pub hub_domain: Option<String>,
    /// The app.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// Scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Remaining seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// `access`.
    #[serde(default)]
    pub token_type: Option<String>,
}
