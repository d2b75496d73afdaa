//! Webhook management (§9.1, §9.2): settings and subscriptions with a developer key.

use reqwest::Method;
use serde_json::{Value, json};

use super::{APP, Env, KEY};

fn path(version: &str, rest: &str) -> String {
    format!("/webhooks/{version}/{APP}/{rest}?hapikey={KEY}")
}

fn settings(max: i64) -> Value {
    json!({"targetUrl": "https://hooks.example.test/hubspot", "throttling": {"maxConcurrentRequests": max, "period": "SECONDLY"}})
}

#[tokio::test]
async fn settings_lifecycle_validation_and_auth() {
    let env = Env::start().await;
    let (s, body) = env.get(&path("v3", "settings")).await;
    assert_eq!(s, 404, "{body}");

    let (s, body) = env.put(&path("v3", "settings"), settings(5)).await;
    assert_eq!(s, 400);
    assert_eq!(body["category"], "VALIDATION_ERROR");
    assert!(body["message"].as_str().unwrap().contains("greater than 5"));
    let (s, _) = env
        .put(
            &path("v3", "settings"),
            json!({"throttling": {"maxConcurrentRequests": 10}}),
        )
        .await;
    assert_eq!(s, 400, "targetUrl required");
    let (s, _) = env
        .put(
            &path("v3", "settings"),
            json!({"targetUrl": "https://x.test", "throttling": {"maxConcurrentRequests": 10, "period": "HOURLY"}}),
        )
        .await;
    assert_eq!(s, 400, "bad period");
    let (s, _) = env
        .put(
            &path("v3", "settings"),
            json!({"targetUrl": "not a url", "throttling": {"maxConcurrentRequests": 10}}),
        )
        .await;
    assert_eq!(s, 400);

    let (s, body) = env.put(&path("v3", "settings"), settings(6)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["targetUrl"], "https://hooks.example.test/hubspot");
    assert_eq!(body["throttling"]["maxConcurrentRequests"], 6);
    assert_eq!(body["throttling"]["period"], "SECONDLY");
    assert!(body["createdAt"].is_string());

    // The dated path reads the same settings.
    let (s, body) = env.get(&path("2026-03", "settings")).await;
    assert_eq!(s, 200);
    assert_eq!(body["targetUrl"], "https://hooks.example.test/hubspot");
    assert_eq!(
        env.sim.inner.webhooks.target_url(APP).as_deref(),
        Some("https://hooks.example.test/hubspot")
    );

    // Auth: no key, a wrong key, another app's path; unknown version.
    let (s, body) = env.get(&format!("/webhooks/v3/{APP}/settings")).await;
    assert_eq!(s, 401);
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    let (s, _) = env
        .get(&format!("/webhooks/v3/{APP}/settings?hapikey=nope"))
        .await;
    assert_eq!(s, 401);
    let (s, _) = env
        .get(&format!("/webhooks/v3/999/settings?hapikey={KEY}"))
        .await;
    assert_eq!(s, 401);
    let (s, _) = env.get(&path("v2", "settings")).await;
    assert_eq!(s, 404);

    let (s, _) = env.delete(&path("v3", "settings")).await;
    assert_eq!(s, 204);
    let (s, _) = env.get(&path("v3", "settings")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn subscriptions_crud_validation_and_batch_update() {
    let env = Env::start().await;
    let subs = path("v3", "subscriptions");

    let (s, created) = env
        .post(&subs, json!({"eventType": "contact.creation"}))
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["active"], false, "new subscriptions start paused");
    assert_eq!(created["eventType"], "contact.creation");
    let id = created["id"].as_str().expect("id is a string").to_string();

    let (s, pc) = env
        .post(
            &subs,
            json!({"eventType": "contact.propertyChange", "propertyName": "email", "active": true}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(pc["active"], true);
    assert_eq!(pc["propertyName"], "email");
    let (s, generic) = env
        .post(
            &path("2026-03", "subscriptions"),
            json!({"eventType": "object.creation", "objectTypeId": "0-2"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(generic["objectTypeId"], "0-2");

    for bad in [
        json!({"eventType": "contact.propertyChange"}),
        json!({"eventType": "contact.propertyChange", "propertyName": "hs_lastmodifieddate"}),
        json!({"eventType": "object.creation"}),
        json!({"eventType": "contact.explosion"}),
        json!({"eventType": "widget.creation"}),
        json!({"eventType": "company.privacyDeletion"}),
        json!({}),
        json!({"eventType": "contact.creation"}),
    ] {
        let (s, body) = env.post(&subs, bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {body}");
        assert_eq!(body["category"], "VALIDATION_ERROR");
    }
    let (s, _) = env
        .post(&subs, json!({"eventType": "contact.privacyDeletion"}))
        .await;
    assert_eq!(s, 201);

    let (s, list) = env.get(&subs).await;
    assert_eq!(s, 200);
    assert_eq!(list["results"].as_array().unwrap().len(), 4);

    let one = path("v3", &format!("subscriptions/{id}"));
    let (s, got) = env.get(&one).await;
    assert_eq!(s, 200);
    assert_eq!(got["id"], id.as_str());
    let (s, patched) = env
        .call(Method::PATCH, &one, None, Some(json!({"active": true})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(patched["active"], true);

    // Batch update: all known → 200; one unknown → 207 with SUBSCRIPTION_ID_NOT_FOUND.
    let batch = path("v3", "subscriptions/batch/update");
    let pc_id: u64 = pc["id"].as_str().unwrap().parse().unwrap();
    let (s, body) = env
        .post(&batch, json!({"inputs": [{"id": pc_id, "active": false}, {"id": id.parse::<u64>().unwrap(), "active": false}]}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "COMPLETE");
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["active"] == false)
    );
    let (s, body) = env
        .post(
            &batch,
            json!({"inputs": [{"id": pc_id, "active": true}, {"id": 424242, "active": true}]}),
        )
        .await;
    assert_eq!(s, 207, "{body}");
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["errors"][0]["category"], "SUBSCRIPTION_ID_NOT_FOUND");
    assert_eq!(body["errors"][0]["context"]["id"][0], "424242");
    assert_eq!(body["results"][0]["active"], true);

    let (s, _) = env.delete(&one).await;
    assert_eq!(s, 204);
    let (s, _) = env.get(&one).await;
    assert_eq!(s, 404);
    let (s, _) = env.delete(&one).await;
    assert_eq!(s, 404);

    // The control overview sees the same subscriptions without a key.
    let (s, overview) = env.get(&format!("/_sim/hubspot/apps/{APP}/webhooks")).await;
    assert_eq!(s, 200);
    assert_eq!(overview["subscriptions"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_app_can_have_at_most_1000_subscriptions() {
    let env = Env::start().await;
    let subs = path("v3", "subscriptions");
    for i in 0..1000 {
        let (s, body) = env
            .post(
                &subs,
                json!({"eventType": "contact.propertyChange", "propertyName": format!("p{i}")}),
            )
            .await;
        assert_eq!(s, 201, "#{i}: {body}");
    }
    let (s, body) = env
        .post(
            &subs,
            json!({"eventType": "contact.propertyChange", "propertyName": "one_too_many"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(body["message"].as_str().unwrap().contains("1000"), "{body}");
    assert_eq!(env.sim.inner.webhooks.subscriptions(APP).len(), 1000);
}
