//! OAuth token endpoints (§12), on the OAuth base URL, without bearer credentials.
//! `invalid_grant` answers become [`crate::Error::InvalidGrant`].

use reqwest::Method;

use crate::models::oauth::{AccessTokenInfo, TokenResponse};
use crate::{AuthKind, HttpBody, HttpRequest, Request, Result, impl_send, seg};

const TOKEN_PATH: &str = "/oauth/v1/token";

fn token_request(form: Vec<(&str, &str)>) -> HttpRequest {
    let mut r = HttpRequest::new(Method::POST, TOKEN_PATH.to_owned(), AuthKind::None);
    r.body = HttpBody::Form(
        form.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    r
}

/// `POST /oauth/v1/token` `grant_type=authorization_code`: exchange an authorization code.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeCode {
    /// App client id.
    pub client_id: String,
    /// App client secret.
    pub client_secret: String,
    /// The redirect URI used in the authorize step.
    pub redirect_uri: String,
    /// The code from the redirect (single-use, short-lived).
    pub code: String,
}

impl Request for ExchangeCode {
    type Output = TokenResponse;

    fn build(&self) -> Result<HttpRequest> {
        Ok(token_request(vec![
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("redirect_uri", &self.redirect_uri),
            ("code", &self.code),
        ]))
    }
}

impl_send!(ExchangeCode);

/// `POST /oauth/v1/token` `grant_type=refresh_token`: a new access token.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    /// App client id.
    pub client_id: String,
    /// App client secret.
    pub client_secret: String,
    /// The refresh token.
    pub refresh_token: String,
}

impl Request for RefreshToken {
    type Output = TokenResponse;

    fn build(&self) -> Result<HttpRequest> {
        Ok(token_request(vec![
            ("grant_type", "refresh_token"),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("refresh_token", &self.refresh_token),
        ]))
    }
}

impl_send!(RefreshToken);

/// `GET /oauth/v1/access-tokens/{token}`: learn the portal (`hub_id`), app and scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct IntrospectAccessToken {
    /// The access token.
    pub token: String,
}

impl Request for IntrospectAccessToken {
    type Output = AccessTokenInfo;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!("/oauth/v1/access-tokens/{}", seg(&self.token)),
            AuthKind::None,
        ))
    }
}

impl_send!(IntrospectAccessToken);

/// `DELETE /oauth/v1/refresh-tokens/{token}` → 204; does not uninstall the app.
#[derive(Debug, Clone, PartialEq)]
pub struct RevokeRefreshToken {
    /// The refresh token.
    pub token: String,
}

impl Request for RevokeRefreshToken {
    type Output = ();

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::DELETE,
            format!("/oauth/v1/refresh-tokens/{}", seg(&self.token)),
            AuthKind::None,
        ))
    }
}

impl_send!(RevokeRefreshToken);
