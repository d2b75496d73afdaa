//! OAuth 2.0 as HubSpot serves it (`docs/hubspot-api.md` §12): an auto-approving authorize
//! page, the token endpoint (v1, v3 and dated paths), access/refresh token introspection and
//! revocation, plus app installs (which portals an app is installed on; webhooks only flow to
//! those) and `/_sim/hubspot/oauth/…` control routes.
//!
//! Simulator choices (the docs leave them open):
//! - `GET /oauth/authorize` approves at once; the portal is chosen with a `portal_id` query
//!   parameter (default: the first configured portal). All requested `scope` and
//!   `optional_scope` values are granted.
//! - Every token-endpoint error answers 400 with [`errors::oauth_error`]'s shape.
//! - Exchanging a code installs the app on the portal. Uninstalling (control route) invalidates
//!   every code, access and refresh token of that app on that portal; revoking one refresh token
//!   does not uninstall (as HubSpot documents) and leaves issued access tokens alive.
//! - v1 introspection of an unknown, revoked or expired access token answers 404 `invalid_token`
//!   / `BAD_ACCESS_TOKEN`; v3 introspection answers `{"active":false}` (RFC 7662).
//! - With `preinstall_first_app` (default on) the first configured app counts as installed on
//!   every portal from the start, so the demo gets webhooks without an OAuth round trip.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, RwLock};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{SecondsFormat, TimeZone, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{HubspotError, oauth_error};
use super::scopes;
use super::{AppSpec, Config, Simulator};

/// OAuth behaviour. Every field can be changed at run time with
/// `PUT /_sim/hubspot/oauth/knobs`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthKnobs {
    /// Access-token lifetime in seconds (§13 `access_token_ttl_s`). Default 1,800.
    pub access_token_ttl_s: u64,
    /// When true, a refresh returns a new refresh token and revokes the old one (§13
    /// `refresh_token_rotates`). Default false: the same refresh token comes back.
    pub refresh_token_rotates: bool,
    /// Token endpoint paths served (§13 `oauth_token_paths`); others answer 404. Default
    /// `/oauth/v1/token`, `/oauth/v3/token` and `/oauth/2026-03/token`.
    pub oauth_token_paths: Vec<String>,
    /// Authorization-code lifetime in seconds (HubSpot: "short-lived"). Default 600.
    pub code_ttl_s: u64,
    /// Length of issued access and refresh tokens, clamped to 100..=512. Default 160.
    pub token_length: usize,
    /// The first configured app counts as installed on every portal from the start (webhooks
    /// reach it without an OAuth install). Read when the simulator starts. Default true.
    pub preinstall_first_app: bool,
    /// `user_id` reported for the installing user. Default 2,000,001.
    pub user_id: u64,
    /// `user` (e-mail) reported by introspection. Default `sim-user@hubspot.test`.
    pub user: String,
    /// OAuth callers without a scope the call needs get 403 `MISSING_SCOPES` (see
    /// [`super::scopes`]); private-app tokens are never refused. Default true.
    pub enforce_scopes: bool,
}

impl Default for OAuthKnobs {
    fn default() -> Self {
        Self {
            access_token_ttl_s: 1_800,
            refresh_token_rotates: false,
            oauth_token_paths: vec![
                "/oauth/v1/token".into(),
                "/oauth/v3/token".into(),
                "/oauth/2026-03/token".into(),
            ],
            code_ttl_s: 600,
            token_length: 160,
            preinstall_first_app: true,
            user_id: 2_000_001,
            user: "sim-user@hubspot.test".into(),
            enforce_scopes: true,
        }
    }
}

/// What an access token resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLookup {
    /// A live token.
    Valid {
        /// Portal.
        portal_id: u64,
        /// App.
        app_id: u64,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// A token that expired.
    Expired {
        /// Seconds since expiry.
        seconds_ago: i64,
        /// Expiry time.
        expired_at_iso: String,
    },
    /// Not a token we issued (or revoked).
    Unknown,
}

/// Who a code or token was issued to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Grant {
    /// App (OAuth client).
    pub app_id: u64,
    /// Portal the app is installed on.
    pub portal_id: u64,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Installing user.
    pub user_id: u64,
}

struct Code {
    grant: Grant,
    redirect_uri: String,
    expires_at_ms: i64,
}

struct Access {
    grant: Grant,
    expires_at_ms: i64,
}

struct Refresh {
    grant: Grant,
}

#[derive(Default)]
struct Data {
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    /// (app id, portal id).
    installs: BTreeSet<(u64, u64)>,
}

/// A freshly issued pair, as the token endpoint returns it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedTokens {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Who it was issued to.
    pub grant: Grant,
}

/// Codes, tokens and installs.
pub struct OAuthState {
    knobs: RwLock<OAuthKnobs>,
    data: Mutex<Data>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn random_token(prefix: &str, len: usize) -> String {
    let len = len.clamp(100, 512);
    let mut rng = rand::rng();
    let mut s = String::with_capacity(len);
    s.push_str(prefix);
    while s.len() < len {
        s.push(char::from(rng.sample(rand::distr::Alphanumeric)));
    }
    s
}

impl OAuthState {
    /// New state: no codes or tokens; the first app pre-installed on every portal when
    /// `preinstall_first_app` is on.
    pub fn new(config: &Config) -> Self {
        let mut data = Data::default();
        if config.oauth.preinstall_first_app
            && let Some(app) = config.apps.first()
        {
            for p in &config.portals {
                data.installs.insert((app.app_id, p.portal_id));
            }
        }
        Self {
            knobs: RwLock::new(config.oauth.clone()),
            data: Mutex::new(data),
        }
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current knobs.
    pub fn knobs(&self) -> OAuthKnobs {
        self.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// Replaces the knobs.
    pub fn set_knobs(&self, knobs: OAuthKnobs) {
        if let Ok(mut k) = self.knobs.write() {
            *k = knobs;
        }
    }

    /// Resolves an access token.
    pub fn resolve_access_token(&self, token: &str) -> AccessLookup {
        let data = self.data();
        let Some(a) = data.access.get(token) else {
            return AccessLookup::Unknown;
        };
        let now = now_ms();
        if now >= a.expires_at_ms {
            return AccessLookup::Expired {
                seconds_ago: (now - a.expires_at_ms) / 1000,
                expired_at_iso: iso(a.expires_at_ms),
            };
        }
        AccessLookup::Valid {
            portal_id: a.grant.portal_id,
            app_id: a.grant.app_id,
            scopes: a.grant.scopes.clone(),
        }
    }

    /// Whether `app_id` is installed on `portal_id` (has been granted access and not
    /// uninstalled, or is pre-installed).
    pub fn is_installed(&self, app_id: u64, portal_id: u64) -> bool {
        self.data().installs.contains(&(app_id, portal_id))
    }

    /// Marks `app_id` installed on `portal_id`.
    pub fn install(&self, app_id: u64, portal_id: u64) {
        self.data().installs.insert((app_id, portal_id));
    }

    /// Uninstalls `app_id` from `portal_id`: every code, access and refresh token of the pair
    /// stops working. Returns how many tokens were revoked.
    pub fn uninstall(&self, app_id: u64, portal_id: u64) -> usize {
        let mut data = self.data();
        data.installs.remove(&(app_id, portal_id));
        let hit = |g: &Grant| g.app_id == app_id && g.portal_id == portal_id;
        data.codes.retain(|_, c| !hit(&c.grant));
        let before = data.access.len() + data.refresh.len();
        data.access.retain(|_, a| !hit(&a.grant));
        data.refresh.retain(|_, r| !hit(&r.grant));
        before - data.access.len() - data.refresh.len()
    }

    /// Issues an access/refresh pair for `grant` (and installs the app on the portal).
    pub fn issue(&self, grant: Grant) -> IssuedTokens {
        let knobs = self.knobs();
        let refresh_token = random_token("sim-rt-", knobs.token_length);
        self.data().refresh.insert(
            refresh_token.clone(),
            Refresh {
                grant: grant.clone(),
            },
        );
        self.issue_access(grant, refresh_token, &knobs)
    }

    fn issue_access(
        &self,
        grant: Grant,
        refresh_token: String,
        knobs: &OAuthKnobs,
    ) -> IssuedTokens {
        let access_token = random_token("sim-at-", knobs.token_length);
        let expires_at_ms = now_ms() + (knobs.access_token_ttl_s as i64).saturating_mul(1000);
        let mut data = self.data();
        data.installs.insert((grant.app_id, grant.portal_id));
        data.access.insert(
            access_token.clone(),
            Access {
                grant: grant.clone(),
                expires_at_ms,
            },
        );
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: knobs.access_token_ttl_s,
            grant,
        }
    }

    /// Makes matching access tokens expired `seconds_ago` seconds ago. `None` filters match all.
    /// Returns how many tokens changed.
    pub fn expire_access_tokens(
        &self,
        token: Option<&str>,
        app_id: Option<u64>,
        portal_id: Option<u64>,
        seconds_ago: i64,
    ) -> usize {
        let at = now_ms() - seconds_ago.max(0).saturating_mul(1000);
        let mut n = 0;
        for (t, a) in self.data().access.iter_mut() {
            if token.is_some_and(|x| x != t)
                || app_id.is_some_and(|x| x != a.grant.app_id)
                || portal_id.is_some_and(|x| x != a.grant.portal_id)
            {
                continue;
            }
            a.expires_at_ms = at;
            n += 1;
        }
        n
    }

    /// Installed (app id, portal id) pairs.
    pub fn installs(&self) -> Vec<(u64, u64)> {
        self.data().installs.iter().copied().collect()
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn app_by_client<'a>(sim: &'a Simulator, client_id: Option<&String>) -> Option<&'a AppSpec> {
    let client_id = client_id?;
    sim.inner
        .config
        .apps
        .iter()
        .find(|a| &a.client_id == client_id)
}

fn hub_domain(sim: &Simulator, portal_id: u64) -> String {
    sim.inner
        .config
        .portals
        .iter()
        .find(|p| p.portal_id == portal_id)
        .map(|p| p.hub_domain.clone())
        .unwrap_or_default()
}

fn bad_client() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "BAD_CLIENT_ID",
        "missing or invalid client id",
    )
}

fn bad_secret() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "BAD_CLIENT_SECRET",
        "missing or invalid client secret",
    )
}

fn bad_refresh() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "BAD_REFRESH_TOKEN",
        "refresh token is invalid, expired or revoked",
    )
}

/// The refresh-token error body with 404, for the v1 refresh-token routes.
fn refresh_not_found() -> Response {
    let mut r = bad_refresh();
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// Why a form of the token endpoints was refused.
enum ClientError {
    BadId,
    BadSecret,
    MissingToken,
}

impl IntoResponse for ClientError {
    fn into_response(self) -> Response {
        match self {
            ClientError::BadId => bad_client(),
            ClientError::BadSecret => bad_secret(),
            ClientError::MissingToken => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "BAD_REQUEST",
                "missing token",
            ),
        }
    }
}

/// Checks `client_id` and `client_secret` of a form; the app on success.
fn authenticate_client<'a>(
    sim: &'a Simulator,
    f: &HashMap<String, String>,
) -> Result<&'a AppSpec, ClientError> {
    let app = app_by_client(sim, f.get("client_id")).ok_or(ClientError::BadId)?;
    if f.get("client_secret") != Some(&app.client_secret) {
        return Err(ClientError::BadSecret);
    }
    Ok(app)
}

fn token_body(t: &IssuedTokens) -> Value {
    json!({
        "token_type": "bearer",
        "access_token": t.access_token,
        "refresh_token": t.refresh_token,
        "expires_in": t.expires_in,
        "hub_id": t.grant.portal_id,
        "scopes": t.grant.scopes,
        "user_id": t.grant.user_id,
        "token_use": "access_token",
    })
}

fn authorize_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html><head><title>Authorization failed</title></head><body><h1>Authorization failed</h1><p>{message}</p></body></html>"
        ),
    )
        .into_response()
}

fn split_scopes(s: Option<&String>) -> Vec<String> {
    s.map(|s| {
        s.split([' ', ','])
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

async fn authorize(
    State(sim): State<Simulator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(app) = app_by_client(&sim, q.get("client_id")) else {
        return authorize_error("Unknown or missing client_id.");
    };
    let Some(redirect_uri) = q.get("redirect_uri") else {
        return authorize_error("Missing redirect_uri.");
    };
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return authorize_error("redirect_uri is not an absolute URL.");
    };
    let portal = match q.get("portal_id") {
        Some(p) => {
            let Ok(id) = p.parse::<u64>() else {
                return authorize_error("portal_id is not a number.");
            };
            sim.inner.config.portals.iter().find(|x| x.portal_id == id)
        }
        None => sim.inner.config.portals.first(),
    };
    let Some(portal) = portal else {
        return authorize_error("Unknown portal_id.");
    };
    let mut scopes = split_scopes(q.get("scope"));
    for s in split_scopes(q.get("optional_scope")) {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    let knobs = sim.inner.oauth.knobs();
    let code = uuid::Uuid::new_v4().to_string();
    sim.inner.oauth.data().codes.insert(
        code.clone(),
        Code {
            grant: Grant {
                app_id: app.app_id,
                portal_id: portal.portal_id,
                scopes,
                user_id: knobs.user_id,
            },
            redirect_uri: redirect_uri.clone(),
            expires_at_ms: now_ms() + (knobs.code_ttl_s as i64).saturating_mul(1000),
        },
    );
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

async fn token(State(sim): State<Simulator>, uri: Uri, body: Bytes) -> Response {
    let oauth = &sim.inner.oauth;
    let knobs = oauth.knobs();
    if !knobs.oauth_token_paths.iter().any(|p| p == uri.path()) {
        return HubspotError::plain(StatusCode::NOT_FOUND, "Not found.").into_response();
    }
    let f = form(&body);
    let app = match authenticate_client(&sim, &f) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let bad_code = || {
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "missing or invalid auth code",
                )
            };
            let Some(code) = f.get("code") else {
                return bad_code();
            };
            let grant = {
                let mut data = oauth.data();
                let Some(c) = data.codes.get(code) else {
                    return bad_code();
                };
                if c.grant.app_id != app.app_id || c.expires_at_ms <= now_ms() {
                    return bad_code();
                }
                if f.get("redirect_uri") != Some(&c.redirect_uri) {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "BAD_REDIRECT_URI",
                        "redirect_uri does not match the one used to get the auth code",
                    );
                }
                let grant = c.grant.clone();
                data.codes.remove(code);
                grant
            };
            Json(token_body(&oauth.issue(grant))).into_response()
        }
        Some("refresh_token") => {
            let Some(rt) = f.get("refresh_token") else {
                return bad_refresh();
            };
            let grant = {
                let mut data = oauth.data();
                let Some(r) = data.refresh.get(rt) else {
                    return bad_refresh();
                };
                if r.grant.app_id != app.app_id {
                    return bad_refresh();
                }
                let grant = r.grant.clone();
                if knobs.refresh_token_rotates {
                    data.refresh.remove(rt);
                }
                grant
            };
            let refresh_token = if knobs.refresh_token_rotates {
                let new = random_token("sim-rt-", knobs.token_length);
                oauth.data().refresh.insert(
                    new.clone(),
                    Refresh {
                        grant: grant.clone(),
                    },
                );
                new
            } else {
                rt.clone()
            };
            Json(token_body(&oauth.issue_access(
                grant,
                refresh_token,
                &knobs,
            )))
            .into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "BAD_GRANT_TYPE",
            "missing or unsupported grant_type",
        ),
    }
}

fn access_info(sim: &Simulator, token: &str, a: &Access, now: i64) -> Value {
    let g = &a.grant;
    let user = sim.inner.oauth.knobs().user;
    json!({
        "token": token,
        "user": user,
        "user_id": g.user_id,
        "hub_id": g.portal_id,
        "hub_domain": hub_domain(sim, g.portal_id),
        "app_id": g.app_id,
        "scopes": g.scopes,
        "expires_in": ((a.expires_at_ms - now) / 1000).max(0),
        "token_type": "access",
        "signed_access_token": {
            "expiresAt": a.expires_at_ms,
            "scopes": g.scopes.join(" "),
            "hubId": g.portal_id,
            "userId": g.user_id,
            "appId": g.app_id,
            "installingUserId": g.user_id,
            "isUserLevel": false,
            "hublet": "na1",
        },
    })
}

fn refresh_info(sim: &Simulator, token: &str, r: &Refresh) -> Value {
    let g = &r.grant;
    let client_id = sim
        .inner
        .config
        .apps
        .iter()
        .find(|a| a.app_id == g.app_id)
        .map(|a| a.client_id.clone())
        .unwrap_or_default();
    json!({
        "token": token,
        "user": sim.inner.oauth.knobs().user,
        "hub_id": g.portal_id,
        "hub_domain": hub_domain(sim, g.portal_id),
        "client_id": client_id,
        "scopes": g.scopes,
        "user_id": g.user_id,
        "token_type": "refresh",
    })
}

async fn access_token_info(State(sim): State<Simulator>, Path(token): Path<String>) -> Response {
    let now = now_ms();
    let data = sim.inner.oauth.data();
    match data.access.get(&token) {
        Some(a) if a.expires_at_ms > now => Json(access_info(&sim, &token, a, now)).into_response(),
        _ => oauth_error(
            StatusCode::NOT_FOUND,
            "invalid_token",
            "BAD_ACCESS_TOKEN",
            "access token is invalid, expired or revoked",
        ),
    }
}

async fn refresh_token_info(State(sim): State<Simulator>, Path(token): Path<String>) -> Response {
    let data = sim.inner.oauth.data();
    match data.refresh.get(&token) {
        Some(r) => Json(refresh_info(&sim, &token, r)).into_response(),
        None => refresh_not_found(),
    }
}

async fn delete_refresh_token(State(sim): State<Simulator>, Path(token): Path<String>) -> Response {
    if sim.inner.oauth.data().refresh.remove(&token).is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        refresh_not_found()
    }
}

/// The authenticated client and the `token` field of a v3 introspect or revoke form.
fn client_and_token<'a, 'f>(
    sim: &'a Simulator,
    f: &'f HashMap<String, String>,
) -> Result<(&'a AppSpec, &'f String), ClientError> {
    let app = authenticate_client(sim, f)?;
    let token = f.get("token").ok_or(ClientError::MissingToken)?;
    Ok((app, token))
}

/// An introspection body marked active, with two more fields.
fn active(mut info: Value, extra: [(&str, Value); 2]) -> Value {
    if let Some(o) = info.as_object_mut() {
        o.insert("active".into(), json!(true));
        for (k, v) in extra {
            o.insert(k.into(), v);
        }
    }
    info
}

async fn introspect_v3(State(sim): State<Simulator>, body: Bytes) -> Response {
    let f = form(&body);
    let (app, token) = match client_and_token(&sim, &f) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let refresh_first = f
        .get("token_type_hint")
        .is_some_and(|h| h == "refresh_token");
    let now = now_ms();
    let data = sim.inner.oauth.data();
    let as_access = || {
        data.access
            .get(token)
            .filter(|a| a.grant.app_id == app.app_id && a.expires_at_ms > now)
            .map(|a| {
                active(
                    access_info(&sim, token, a, now),
                    [
                        ("client_id", json!(app.client_id)),
                        ("token_use", json!("access_token")),
                    ],
                )
            })
    };
    let as_refresh = || {
        data.refresh
            .get(token)
            .filter(|r| r.grant.app_id == app.app_id)
            .map(|r| {
                active(
                    refresh_info(&sim, token, r),
                    [
                        ("app_id", json!(app.app_id)),
                        ("token_use", json!("refresh_token")),
                    ],
                )
            })
    };
    let found = if refresh_first {
        as_refresh().or_else(as_access)
    } else {
        as_access().or_else(as_refresh)
    };
    Json(found.unwrap_or_else(|| json!({"active": false}))).into_response()
}

async fn revoke_v3(State(sim): State<Simulator>, body: Bytes) -> Response {
    let f = form(&body);
    let (app, token) = match client_and_token(&sim, &f) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.oauth.data();
    if data
        .access
        .get(token)
        .is_some_and(|a| a.grant.app_id == app.app_id)
    {
        data.access.remove(token);
    }
    if data
        .refresh
        .get(token)
        .is_some_and(|r| r.grant.app_id == app.app_id)
    {
        data.refresh.remove(token);
    }
    // RFC 7009: revoking an unknown token also succeeds.
    StatusCode::OK.into_response()
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/v1/token", post(token))
        .route("/oauth/v3/token", post(token))
        .route("/oauth/2026-03/token", post(token))
        .route("/oauth/v1/access-tokens/{token}", get(access_token_info))
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            get(refresh_token_info).delete(delete_refresh_token),
        )
        .route("/oauth/v3/token/introspect", post(introspect_v3))
        .route("/oauth/2026-03/token/introspect", post(introspect_v3))
        .route("/oauth/v3/token/revoke", post(revoke_v3))
        .route("/oauth/2026-03/token/revoke", post(revoke_v3))
}

// ---------------------------------------------------------------------------------------------
// Control routes

async fn list_tokens(State(sim): State<Simulator>) -> Json<Value> {
    let now = now_ms();
    let data = sim.inner.oauth.data();
    let mut access: Vec<Value> = data
        .access
        .iter()
        .map(|(t, a)| {
            json!({"token": t, "app_id": a.grant.app_id, "portal_id": a.grant.portal_id,
                   "scopes": a.grant.scopes, "expires_at": iso(a.expires_at_ms),
                   "expired": a.expires_at_ms <= now})
        })
        .collect();
    access.sort_by(|a, b| a["expires_at"].as_str().cmp(&b["expires_at"].as_str()));
    let refresh: Vec<Value> = data
        .refresh
        .iter()
        .map(|(t, r)| {
            json!({"token": t, "app_id": r.grant.app_id, "portal_id": r.grant.portal_id,
                   "scopes": r.grant.scopes})
        })
        .collect();
    let installs: Vec<Value> = data
        .installs
        .iter()
        .map(|(a, p)| json!({"app_id": a, "portal_id": p}))
        .collect();
    Json(
        json!({"access": access, "refresh": refresh, "codes": data.codes.len(), "installs": installs}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    app_id: Option<u64>,
    portal_id: Option<u64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

async fn mint_token(State(sim): State<Simulator>, Json(req): Json<MintRequest>) -> Response {
    let cfg = &sim.inner.config;
    let app = match req.app_id {
        Some(id) => cfg.apps.iter().find(|a| a.app_id == id),
        None => cfg.apps.first(),
    };
    let portal = match req.portal_id {
        Some(id) => cfg.portals.iter().find(|p| p.portal_id == id),
        None => cfg.portals.first(),
    };
    let (Some(app), Some(portal)) = (app, portal) else {
        return HubspotError::validation("Unknown app_id or portal_id.").into_response();
    };
    let scopes = req
        .scopes
        .unwrap_or_else(|| scopes::ALL.iter().map(|s| s.to_string()).collect());
    let grant = Grant {
        app_id: app.app_id,
        portal_id: portal.portal_id,
        scopes,
        user_id: sim.inner.oauth.knobs().user_id,
    };
    (
        StatusCode::CREATED,
        Json(token_body(&sim.inner.oauth.issue(grant))),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ExpireRequest {
    token: Option<String>,
    app_id: Option<u64>,
    portal_id: Option<u64>,
    /// How long ago the tokens expired. Default 1 s.
    seconds_ago: Option<i64>,
}

async fn expire_tokens(State(sim): State<Simulator>, body: Bytes) -> Response {
    let req: ExpireRequest = if body.is_empty() {
        ExpireRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return HubspotError::validation(e.to_string()).into_response(),
        }
    };
    let n = sim.inner.oauth.expire_access_tokens(
        req.token.as_deref(),
        req.app_id,
        req.portal_id,
        req.seconds_ago.unwrap_or(1),
    );
    Json(json!({"expired": n})).into_response()
}

async fn get_knobs(State(sim): State<Simulator>) -> Json<OAuthKnobs> {
    Json(sim.inner.oauth.knobs())
}

async fn put_knobs(State(sim): State<Simulator>, Json(k): Json<OAuthKnobs>) -> Json<OAuthKnobs> {
    sim.inner.oauth.set_knobs(k.clone());
    Json(k)
}

async fn list_installs(State(sim): State<Simulator>) -> Json<Value> {
    let installs: Vec<Value> = sim
        .inner
        .oauth
        .installs()
        .into_iter()
        .map(|(a, p)| json!({"app_id": a, "portal_id": p}))
        .collect();
    Json(json!({"results": installs}))
}

fn known(sim: &Simulator, portal_id: u64, app_id: u64) -> bool {
    sim.inner
        .config
        .portals
        .iter()
        .any(|p| p.portal_id == portal_id)
        && sim.inner.config.apps.iter().any(|a| a.app_id == app_id)
}

async fn install_app(
    State(sim): State<Simulator>,
    Path((portal_id, app_id)): Path<(u64, u64)>,
) -> Response {
    if !known(&sim, portal_id, app_id) {
        return HubspotError::object_not_found(&format!("{portal_id}/{app_id}")).into_response();
    }
    sim.inner.oauth.install(app_id, portal_id);
    Json(json!({"app_id": app_id, "portal_id": portal_id, "installed": true})).into_response()
}

async fn uninstall_app(
    State(sim): State<Simulator>,
    Path((portal_id, app_id)): Path<(u64, u64)>,
) -> Response {
    if !known(&sim, portal_id, app_id) {
        return HubspotError::object_not_found(&format!("{portal_id}/{app_id}")).into_response();
    }
    let revoked = sim.inner.oauth.uninstall(app_id, portal_id);
    Json(json!({"app_id": app_id, "portal_id": portal_id, "installed": false, "revoked_tokens": revoked}))
        .into_response()
}

/// `/_sim/hubspot/oauth/…` and install routes:
/// - `GET /_sim/hubspot/oauth/tokens`: codes count, access tokens (with `expired`), refresh
///   tokens, installs. `POST` the same path with `{app_id?, portal_id?, scopes?}` mints a pair
///   without the browser flow (201, token-endpoint body); without `scopes` it grants every
///   scope the simulator checks ([`scopes::ALL`]).
/// - `POST /_sim/hubspot/oauth/expire` `{token?, app_id?, portal_id?, seconds_ago?}`: expire
///   matching access tokens now (all when empty). Answers `{expired: n}`.
/// - `GET`/`PUT /_sim/hubspot/oauth/knobs`: [`OAuthKnobs`] (e.g. change the TTL at run time).
/// - `GET /_sim/hubspot/installs`; `PUT`/`DELETE /_sim/hubspot/portals/{portal}/apps/{app}/install`
///   (DELETE = uninstall: all of the app's tokens for that portal become invalid).
pub(crate) fn control_routes() -> Router<Simulator> {
    Router::new()
        .route(
            "/_sim/hubspot/oauth/tokens",
            get(list_tokens).post(mint_token),
        )
        .route("/_sim/hubspot/oauth/expire", post(expire_tokens))
        .route("/_sim/hubspot/oauth/knobs", get(get_knobs).put(put_knobs))
        .route("/_sim/hubspot/installs", get(list_installs))
        .route(
            "/_sim/hubspot/portals/{portal}/apps/{app_id}/install",
            put(install_app).delete(uninstall_app),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_defaults_follow_section_13_and_unknown_knobs_are_rejected() {
        let k = OAuthKnobs::default();
        assert_eq!(k.access_token_ttl_s, 1_800);
        assert!(!k.refresh_token_rotates);
        assert!(k.oauth_token_paths.iter().any(|p| p == "/oauth/v1/token"));
        assert!(k.oauth_token_paths.iter().any(|p| p == "/oauth/v3/token"));
        assert!(serde_json::from_str::<OAuthKnobs>(r#"{"ttl":5}"#).is_err());
        let partial: OAuthKnobs = serde_json::from_str(r#"{"access_token_ttl_s":5}"#).unwrap();
        assert_eq!(partial.access_token_ttl_s, 5);
        assert!(partial.preinstall_first_app);
    }

    #[test]
    fn tokens_are_long_random_and_bounded() {
        let a = random_token("sim-at-", 0);
        let b = random_token("sim-at-", 10_000);
        assert_eq!(a.len(), 100);
        assert_eq!(b.len(), 512);
        assert_ne!(random_token("x", 160), random_token("x", 160));
    }

    #[test]
    fn expired_lookup_reports_seconds_and_iso_time() {
        let state = OAuthState::new(&Config::default());
        let t = state.issue(Grant {
            app_id: 54321,
            portal_id: 62515,
            scopes: vec![],
            user_id: 1,
        });
        assert!(matches!(
            state.resolve_access_token(&t.access_token),
            AccessLookup::Valid {
                portal_id: 62515,
                app_id: 54321,
                ..
            }
        ));
        assert_eq!(state.expire_access_tokens(None, Some(54321), None, 10), 1);
        match state.resolve_access_token(&t.access_token) {
            AccessLookup::Expired {
                seconds_ago,
                expired_at_iso,
            } => {
                assert!((10..=11).contains(&seconds_ago), "{seconds_ago}");
                assert!(expired_at_iso.ends_with('Z'));
            }
            other => panic!("expected Expired, got {other:?}"),
        }
        assert_eq!(state.resolve_access_token("nope"), AccessLookup::Unknown);
    }
}
