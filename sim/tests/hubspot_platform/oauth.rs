//! OAuth (§12): authorize → code → token → API call → introspection → refresh → revoke.

use std::time::Duration;

use serde_json::{Value, json};

use super::{APP, CLIENT_ID, Env, SECRET};

const REDIRECT: &str = "https://app.example.test/oauth/callback?keep=1";

/// Runs the authorize step; the code from the redirect.
async fn authorize(env: &Env, portal: Option<u64>) -> String {
    let mut url = url::Url::parse(&env.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "oauth crm.objects.contacts.read")
        .append_pair("optional_scope", "timeline")
        .append_pair("state", "st@te 1");
    if let Some(p) = portal {
        url.query_pairs_mut()
            .append_pair("portal_id", &p.to_string());
    }
    let resp = env.http.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let loc = url::Url::parse(&location).unwrap();
    assert!(
        location.starts_with("https://app.example.test/oauth/callback?keep=1&"),
        "{location}"
    );
    let q: std::collections::HashMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some("st@te 1"));
    q.get("code").cloned().expect("code in redirect")
}

async fn exchange(env: &Env, path: &str, code: &str) -> (u16, Value) {
    env.form(
        path,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await
}

async fn refresh(env: &Env, refresh_token: &str) -> (u16, Value) {
    env.form(
        "/oauth/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
        ],
    )
    .await
}

fn assert_bad_refresh(status: u16, body: &Value) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["status"], "BAD_REFRESH_TOKEN");
    assert_eq!(
        body["error_description"],
        "refresh token is invalid, expired or revoked"
    );
    assert_eq!(
        body["message"],
        "refresh token is invalid, expired or revoked"
    );
}

#[tokio::test]
async fn full_oauth_flow_authorize_exchange_call_introspect_refresh_revoke() {
    let env = Env::start().await;
    let code = authorize(&env, Some(62516)).await;

    let (s, tok) = exchange(&env, "/oauth/v1/token", &code).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 1800);
    assert_eq!(tok["hub_id"], 62516);
    assert_eq!(tok["token_use"], "access_token");
    assert!(tok["user_id"].as_u64().is_some());
    let scopes: Vec<&str> = tok["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["oauth", "crm.objects.contacts.read", "timeline"]);
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh_token = tok["refresh_token"].as_str().unwrap().to_string();
    assert!((100..=512).contains(&access.len()), "{}", access.len());
    assert!((100..=512).contains(&refresh_token.len()));

    // Codes are single-use.
    let (s, again) = exchange(&env, "/oauth/v1/token", &code).await;
    assert_eq!(s, 400);
    assert_eq!(again["error"], "invalid_grant");
    assert_eq!(again["status"], "BAD_AUTH_CODE");

    // The token works on the CRM API, for portal 62516.
    let (s, list) = env
        .get_as("/crm/v3/objects/contacts?limit=1", &access)
        .await;
    assert_eq!(s, 200, "{list}");
    let (s, _) = env.get_as("/crm/v3/objects/contacts", "nope").await;
    assert_eq!(s, 401);

    // v1 introspection.
    let (s, info) = env.get(&format!("/oauth/v1/access-tokens/{access}")).await;
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["hub_id"], 62516);
    assert_eq!(info["app_id"], APP);
    assert_eq!(info["token_type"], "access");
    assert_eq!(info["hub_domain"], "demo-62516.hubspot.test");
    assert_eq!(info["token"], access.as_str());
    assert!(info["user"].as_str().unwrap().contains('@'));
    let left = info["expires_in"].as_i64().unwrap();
    assert!((1790..=1800).contains(&left), "{left}");
    let (s, rinfo) = env
        .get(&format!("/oauth/v1/refresh-tokens/{refresh_token}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(rinfo["client_id"], CLIENT_ID);
    assert_eq!(rinfo["token_type"], "refresh");
    assert_eq!(rinfo["hub_id"], 62516);

    // Refresh: a new access token, the same refresh token (rotation off).
    let (s, refreshed) = refresh(&env, &refresh_token).await;
    assert_eq!(s, 200, "{refreshed}");
    assert_ne!(refreshed["access_token"], access.as_str());
    assert_eq!(refreshed["refresh_token"], refresh_token.as_str());
    assert_eq!(refreshed["hub_id"], 62516);
    let access2 = refreshed["access_token"].as_str().unwrap().to_string();

    // v3 introspection (and the dated alias).
    for path in [
        "/oauth/v3/token/introspect",
        "/oauth/2026-03/token/introspect",
    ] {
        let (s, v3) = env
            .form(
                path,
                &[
                    ("client_id", CLIENT_ID),
                    ("client_secret", SECRET),
                    ("token", &access2),
                    ("token_type_hint", "access_token"),
                ],
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(v3["active"], true);
        assert_eq!(v3["client_id"], CLIENT_ID);
        assert_eq!(v3["token_use"], "access_token");
        assert_eq!(v3["hub_id"], 62516);
    }

    // Revoke the refresh token: 204, then invalid_grant, inactive on introspection.
    let (s, _) = env
        .delete(&format!("/oauth/v1/refresh-tokens/{refresh_token}"))
        .await;
    assert_eq!(s, 204);
    let (s, body) = refresh(&env, &refresh_token).await;
    assert_bad_refresh(s, &body);
    let (s, v3) = env
        .form(
            "/oauth/v3/token/introspect",
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("token", &refresh_token),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v3, json!({"active": false}));

    // v3 revoke of the access token.
    let (s, _) = env
        .form(
            "/oauth/v3/token/revoke",
            &[
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("token", &access2),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = env.get_as("/crm/v3/objects/contacts", &access2).await;
    assert_eq!(s, 401);
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
}

#[tokio::test]
async fn v3_and_dated_token_paths_exchange_codes_and_the_path_knob_limits_them() {
    let env = Env::start().await;
    for path in ["/oauth/v3/token", "/oauth/2026-03/token"] {
        let code = authorize(&env, None).await;
        let (s, tok) = exchange(&env, path, &code).await;
        assert_eq!(s, 200, "{path}: {tok}");
        assert_eq!(tok["hub_id"], 62515, "default portal is the first one");
    }
    let (s, mut knobs) = env.get("/_sim/hubspot/oauth/knobs").await;
    assert_eq!(s, 200);
    knobs["oauth_token_paths"] = json!(["/oauth/v3/token"]);
    let (s, _) = env.put("/_sim/hubspot/oauth/knobs", knobs).await;
    assert_eq!(s, 200);
    let code = authorize(&env, None).await;
    let (s, _) = exchange(&env, "/oauth/v1/token", &code).await;
    assert_eq!(s, 404);
    let (s, _) = exchange(&env, "/oauth/v3/token", &code).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn client_grant_and_redirect_errors() {
    let env = Env::start().await;
    // Unknown client on authorize: an error page, no redirect.
    let resp = env
        .http
        .get(env.url("/oauth/authorize?client_id=nope&redirect_uri=https%3A%2F%2Fx.test%2Fcb"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.headers().get("location").is_none());
    let resp = env
        .http
        .get(env.url(&format!("/oauth/authorize?client_id={CLIENT_ID}&redirect_uri=https%3A%2F%2Fx.test%2Fcb&portal_id=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "unknown portal");

    let code = authorize(&env, None).await;
    let (s, body) = env
        .form(
            "/oauth/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "wrong"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["status"], "BAD_CLIENT_ID");
    assert_eq!(body["message"], "missing or invalid client id");
    let (s, body) = env
        .form(
            "/oauth/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT_ID),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_client");
    let (s, body) = env
        .form(
            "/oauth/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://evil.test/cb"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["status"], "BAD_REDIRECT_URI");
    // The failed attempts did not consume the code.
    let (s, _) = exchange(&env, "/oauth/v1/token", &code).await;
    assert_eq!(s, 200);
    let (s, body) = env
        .form(
            "/oauth/v1/token",
            &[
                ("grant_type", "password"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "unsupported_grant_type");
    let (s, body) = refresh(&env, "not-a-token").await;
    assert_bad_refresh(s, &body);
    let (s, body) = env.get("/oauth/v1/access-tokens/not-a-token").await;
    assert_eq!(s, 404);
    assert_eq!(body["status"], "BAD_ACCESS_TOKEN");
}

#[tokio::test]
async fn expired_tokens_answer_expired_authentication_and_ttl_is_a_knob() {
    let env = Env::start().await;
    let tok = env.mint(62515).await;
    let access = tok["access_token"].as_str().unwrap().to_string();
    let (s, _) = env.get_as("/crm/v3/objects/contacts", &access).await;
    assert_eq!(s, 200);

    let (s, n) = env
        .post(
            "/_sim/hubspot/oauth/expire",
            json!({"token": access, "seconds_ago": 42}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(n["expired"], 1);
    let (s, body) = env.get_as("/crm/v3/objects/contacts", &access).await;
    assert_eq!(s, 401, "{body}");
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
    assert_eq!(
        body["message"],
        "The OAuth token used to make this call expired 42 second(s) ago."
    );
    let at = body["context"]["expire time"][0].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    // Introspection no longer reports it.
    let (s, _) = env.get(&format!("/oauth/v1/access-tokens/{access}")).await;
    assert_eq!(s, 404);
    // Refreshing gives a working token again.
    let (s, r) = refresh(&env, tok["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let fresh = r["access_token"].as_str().unwrap();
    let (s, _) = env.get_as("/crm/v3/objects/contacts", fresh).await;
    assert_eq!(s, 200);

    // TTL knob: a 1-second token expires by itself.
    let (_, mut knobs) = env.get("/_sim/hubspot/oauth/knobs").await;
    knobs["access_token_ttl_s"] = json!(1);
    let (s, _) = env.put("/_sim/hubspot/oauth/knobs", knobs).await;
    assert_eq!(s, 200);
    let short = env.mint(62515).await;
    assert_eq!(short["expires_in"], 1);
    let short = short["access_token"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (s, body) = env.get_as("/crm/v3/objects/contacts", &short).await;
    assert_eq!(s, 401);
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
}

#[tokio::test]
async fn refresh_token_rotation_knob_revokes_the_old_refresh_token() {
    let env = Env::start().await;
    let (_, mut knobs) = env.get("/_sim/hubspot/oauth/knobs").await;
    knobs["refresh_token_rotates"] = json!(true);
    env.put("/_sim/hubspot/oauth/knobs", knobs).await;
    let tok = env.mint(62515).await;
    let old = tok["refresh_token"].as_str().unwrap();
    let (s, r) = refresh(&env, old).await;
    assert_eq!(s, 200);
    let new = r["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);
    let (s, body) = refresh(&env, old).await;
    assert_bad_refresh(s, &body);
    let (s, _) = refresh(&env, new).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn uninstall_invalidates_every_token_of_the_app_on_that_portal() {
    let env = Env::start().await;
    let a = env.mint(62515).await;
    let b = env.mint(62516).await;
    let (s, body) = env
        .delete(&format!("/_sim/hubspot/portals/62516/apps/{APP}/install"))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["revoked_tokens"], 2);
    let (s, body) = env
        .get_as(
            "/crm/v3/objects/contacts",
            b["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    let (s, body) = refresh(&env, b["refresh_token"].as_str().unwrap()).await;
    assert_bad_refresh(s, &body);
    // The other portal's tokens still work.
    let (s, _) = env
        .get_as(
            "/crm/v3/objects/contacts",
            a["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(s, 200);
    let (_, installs) = env.get("/_sim/hubspot/installs").await;
    let list = installs["results"].as_array().unwrap();
    assert!(list.contains(&json!({"app_id": APP, "portal_id": 62515})));
    assert!(!list.contains(&json!({"app_id": APP, "portal_id": 62516})));
    assert!(!env.sim.inner.oauth.is_installed(APP, 62516));
    // Reinstall through the control route.
    let (s, _) = env
        .put(
            &format!("/_sim/hubspot/portals/62516/apps/{APP}/install"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(env.sim.inner.oauth.is_installed(APP, 62516));
    // Token listing shows what is live.
    let (_, tokens) = env.get("/_sim/hubspot/oauth/tokens").await;
    assert_eq!(tokens["access"].as_array().unwrap().len(), 1);
    assert_eq!(tokens["refresh"].as_array().unwrap().len(), 1);
}
