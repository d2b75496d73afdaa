//! OAuth scopes (§2.2, §5, §7, §8, §12): an OAuth caller without the scope a call needs gets
//! 403 `MISSING_SCOPES`; private-app tokens and the `enforce_scopes` knob skip the check.

use reqwest::Method;
use serde_json::{Value, json};

use super::timeline::{V3, create_template};
use super::{Env, PAT};

/// `errors[0].context.requiredGranularScopes` of a 403 body.
fn required(body: &Value) -> Vec<String> {
    body["errors"][0]["context"]["requiredGranularScopes"]
        .as_array()
        .unwrap_or_else(|| panic!("no requiredGranularScopes in {body}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Asserts a 403 `MISSING_SCOPES` naming exactly `scopes`.
fn assert_missing(status: u16, body: &Value, scopes: &[&str]) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["category"], "MISSING_SCOPES", "{body}");
    assert_eq!(required(body), scopes, "{body}");
}

#[tokio::test]
async fn missing_scope_answers_hubspots_403_body_with_required_granular_scopes() {
    let env = Env::start().await;
    let token = env
        .token_with(62515, &["oauth", "crm.objects.contacts.read"])
        .await;
    let resp = env
        .send(
            Method::GET,
            "/crm/v3/objects/companies?limit=1",
            Some(&token),
            None,
        )
        .await;
    let header = resp
        .headers()
        .get("x-hubspot-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (s, body) = super::read(resp).await;
    assert_missing(s, &body, &["crm.objects.companies.read"]);
    assert_eq!(body["status"], "error");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("This app hasn't been granted all required scopes"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "One or more of the following scopes are required."
    );
    assert_eq!(
        body["links"]["scopes"],
        "https://developers.hubspot.com/scopes"
    );
    assert!(body["correlationId"].is_string());
    assert_eq!(header.as_deref(), body["correlationId"].as_str());
    // The same token reads contacts, and a refused call spends no rate-limit budget.
    let resp = env
        .send(Method::GET, "/crm/v3/objects/contacts", Some(&token), None)
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let remaining: u64 = resp.headers()["x-hubspot-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let max: u64 = resp.headers()["x-hubspot-ratelimit-max"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(remaining, max - 1, "only the 200 was counted");
}

#[tokio::test]
async fn a_read_only_token_can_read_but_not_write() {
    let env = Env::start().await;
    let id = env.contact("read.only@example.test").await;
    let token = env.token_with(62515, &["crm.objects.contacts.read"]).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let (env, token) = (&env, token.clone());
        async move { env.call(method, &path, Some(&token), body).await }
    };
    let reads = [
        (Method::GET, format!("/crm/v3/objects/contacts/{id}"), None),
        (
            Method::GET,
            "/crm/objects/2026-03/contacts".to_string(),
            None,
        ),
        (
            Method::POST,
            "/crm/v3/objects/contacts/batch/read".to_string(),
            Some(json!({"inputs": [{"id": id}]})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/contacts/search".to_string(),
            Some(json!({"limit": 1})),
        ),
        (
            Method::GET,
            format!("/crm/v4/objects/contacts/{id}/associations/companies"),
            None,
        ),
    ];
    for (method, path, body) in reads {
        let (s, got) = call(method.clone(), path.clone(), body).await;
        assert_eq!(s, 200, "{method} {path}: {got}");
    }
    let writes = [
        (
            Method::PATCH,
            format!("/crm/v3/objects/contacts/{id}"),
            Some(json!({"properties": {"firstname": "Changed"}})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/contacts".to_string(),
            Some(json!({"properties": {"email": "new@example.test"}})),
        ),
        (
            Method::POST,
            "/crm/v3/objects/contacts/batch/upsert".to_string(),
            Some(
                json!({"inputs": [{"id": "read.only@example.test", "idProperty": "email",
                                    "properties": {"firstname": "Up"}}]}),
            ),
        ),
        (
            Method::DELETE,
            format!("/crm/v3/objects/contacts/{id}"),
            None,
        ),
    ];
    for (method, path, body) in writes {
        let (s, got) = call(method, path, body).await;
        assert_missing(s, &got, &["crm.objects.contacts.write"]);
    }
    // Nothing was written.
    let (s, c) = env
        .get_as(
            &format!("/crm/v3/objects/contacts/{id}?properties=firstname"),
            PAT,
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["properties"]["firstname"], "Test");
    assert_eq!(c["archived"], false);
}

#[tokio::test]
async fn properties_and_schemas_need_schema_scopes() {
    let env = Env::start().await;
    let objects_read = env.token_with(62515, &["crm.objects.contacts.read"]).await;
    let schemas_read = env.token_with(62515, &["crm.schemas.contacts.read"]).await;
    for token in [&objects_read, &schemas_read] {
        let (s, body) = env.get_as("/crm/v3/properties/contacts/email", token).await;
        assert_eq!(s, 200, "either read scope reads properties: {body}");
    }
    let (s, body) = env
        .get_as("/crm/v3/properties/companies/groups", &objects_read)
        .await;
    assert_missing(
        s,
        &body,
        &["crm.objects.companies.read", "crm.schemas.companies.read"],
    );
    let (s, body) = env
        .post_as(
            "/crm/v3/properties/contacts",
            &objects_read,
            json!({"name": "x", "label": "X", "type": "string", "fieldType": "text",
                        "groupName": "contactinformation"}),
        )
        .await;
    assert_missing(s, &body, &["crm.schemas.contacts.write"]);
    let (s, body) = env
        .get_as("/crm-object-schemas/v3/schemas", &objects_read)
        .await;
    assert_missing(s, &body, &["crm.schemas.custom.read"]);
    let (s, body) = env
        .get_as("/crm/v3/objects/p62515_cars", &objects_read)
        .await;
    assert_missing(s, &body, &["crm.objects.custom.read"]);
}

#[tokio::test]
async fn timeline_events_need_timeline_or_an_object_write_scope() {
    let env = Env::start().await;
    let tid = create_template(&env, V3).await;
    let contact = env.contact("timeline.scope@example.test").await;
    let event = json!({"eventTemplateId": tid, "objectId": contact, "tokens": {"plan": "pro"}});
    let post = |token: String| {
        let (env, event) = (&env, event.clone());
        async move { env.post_as(&format!("{V3}/events"), &token, event).await }
    };
    let read_only = env.token_with(62515, &["crm.objects.contacts.read"]).await;
    let (s, body) = post(read_only).await;
    assert_eq!(s, 403, "{body}");
    let alternatives = required(&body);
    assert_eq!(alternatives[0], "timeline", "{body}");
    assert!(alternatives.contains(&"crm.objects.contacts.write".to_string()));
    for scopes in [&["timeline"][..], &["crm.objects.contacts.write"][..]] {
        let token = env.token_with(62515, scopes).await;
        let (s, body) = post(token).await;
        assert_eq!(s, 201, "{scopes:?}: {body}");
    }
}

#[tokio::test]
async fn minted_tokens_default_to_every_checked_scope_and_the_knob_turns_checks_off() {
    let env = Env::start().await;
    let tok = env.mint(62515).await;
    let granted: Vec<&str> = tok["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for scope in [
        "timeline",
        "crm.objects.deals.write",
        "crm.objects.custom.read",
        "crm.schemas.custom.write",
        "crm.schemas.companies.write",
    ] {
        assert!(granted.contains(&scope), "{scope} in {granted:?}");
    }

    let none = env.token_with(62515, &["oauth"]).await;
    let create = json!({"properties": {"email": "knob@example.test"}});
    let (s, _) = env
        .post_as("/crm/v3/objects/contacts", &none, create.clone())
        .await;
    assert_eq!(s, 403);
    let (_, mut knobs) = env.get("/_sim/hubspot/oauth/knobs").await;
    assert_eq!(knobs["enforce_scopes"], true);
    knobs["enforce_scopes"] = json!(false);
    let (s, _) = env.put("/_sim/hubspot/oauth/knobs", knobs).await;
    assert_eq!(s, 200);
    let (s, body) = env.post_as("/crm/v3/objects/contacts", &none, create).await;
    assert_eq!(s, 201, "{body}");
}
