//! Timeline v3 (§8): templates and tokens (developer key), events (OAuth), both prefixes.

use reqwest::Method;
use serde_json::{Value, json};

use super::{APP, Env, KEY, PAT};

pub(super) const V3: &str = "/integrators/timeline/v3";
const OLD: &str = "/crm/v3/timeline";

fn templates(prefix: &str) -> String {
    format!("{prefix}/{APP}/event-templates?hapikey={KEY}")
}

fn template_path(prefix: &str, id: &str, rest: &str) -> String {
    format!("{prefix}/{APP}/event-templates/{id}{rest}?hapikey={KEY}")
}

fn signup_template() -> Value {
    json!({
        "name": "Signed up",
        "objectType": "contacts",
        "headerTemplate": "Signed up for {{plan}}",
        "detailTemplate": "{{seats}} seats, note: {{extraData.note}}",
        "tokens": [
            {"name": "plan", "label": "Plan", "type": "enumeration",
             "options": [{"value": "pro", "label": "Pro"}, {"value": "free", "label": "Free"}]},
            {"name": "seats", "label": "Seats", "type": "number"},
            {"name": "signed_up.at", "label": "Signed up at", "type": "date"},
            {"name": "source", "label": "Source", "type": "string"}
        ]
    })
}

/// Creates the sign-up template (on contacts) under `prefix`; its id.
pub(super) async fn create_template(env: &Env, prefix: &str) -> String {
    let (s, t) = env.post(&templates(prefix), signup_template()).await;
    assert_eq!(s, 201, "{t}");
    t["id"]
        .as_str()
        .expect("template id is a string")
        .to_string()
}

#[tokio::test]
async fn templates_and_tokens_crud_with_validation_on_both_prefixes() {
    let env = Env::start().await;
    let (s, t) = env.post(&templates(V3), signup_template()).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["name"], "Signed up");
    assert_eq!(t["objectType"], "contacts");
    assert_eq!(t["tokens"].as_array().unwrap().len(), 4);
    assert_eq!(t["tokens"][0]["options"][0]["value"], "pro");
    let id = t["id"].as_str().unwrap().to_string();

    // Reading through the old prefix sees the same template.
    let (s, got) = env.get(&template_path(OLD, &id, "")).await;
    assert_eq!(s, 200);
    assert_eq!(got["id"], id.as_str());
    let (s, list) = env.get(&templates(OLD)).await;
    assert_eq!(s, 200);
    assert_eq!(list["results"].as_array().unwrap().len(), 1);

    // Validation and auth errors.
    for bad in [
        json!({"objectType": "contacts", "tokens": []}),
        json!({"name": "x", "objectType": "widgets", "tokens": []}),
        json!({"name": "x", "tokens": [{"name": "a b", "label": "A", "type": "string"}]}),
        json!({"name": "x", "tokens": [{"name": "a", "label": "A", "type": "boolean"}]}),
        json!({"name": "x", "tokens": [{"name": "a", "label": "A", "type": "enumeration"}]}),
        json!({"name": "x", "tokens": [{"name": "a", "type": "string"}]}),
        json!({"name": "x"}),
    ] {
        let (s, body) = env.post(&templates(V3), bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {body}");
        assert_eq!(body["category"], "VALIDATION_ERROR");
    }
    let (s, _) = env.get(&format!("{V3}/{APP}/event-templates")).await;
    assert_eq!(s, 401);
    let (s, _) = env
        .get(&format!("{V3}/999/event-templates?hapikey={KEY}"))
        .await;
    assert_eq!(s, 401);
    let (s, _) = env.get(&template_path(V3, "123", "")).await;
    assert_eq!(s, 404);

    // PUT replaces name and tokens; it needs the id.
    let mut update = signup_template();
    update["name"] = json!("Signed up (v2)");
    let (s, _) = env
        .call(
            Method::PUT,
            &template_path(V3, &id, ""),
            None,
            Some(update.clone()),
        )
        .await;
    assert_eq!(s, 400, "id required");
    update["id"] = json!(id);
    let (s, updated) = env
        .call(Method::PUT, &template_path(V3, &id, ""), None, Some(update))
        .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["name"], "Signed up (v2)");

    // Tokens: create (200), duplicate (400), update, delete (204), delete again (404).
    let tokens = template_path(V3, &id, "/tokens");
    let (s, tok) = env
        .post(
            &tokens,
            json!({"name": "note", "label": "Note", "type": "string"}),
        )
        .await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["name"], "note");
    let (s, _) = env
        .post(
            &tokens,
            json!({"name": "note", "label": "Note", "type": "string"}),
        )
        .await;
    assert_eq!(s, 400);
    let one = template_path(V3, &id, "/tokens/note");
    let (s, tok) = env
        .put(
            &one,
            json!({"label": "Notes", "objectPropertyName": "lastname"}),
        )
        .await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["label"], "Notes");
    assert_eq!(tok["objectPropertyName"], "lastname");
    let (s, _) = env.delete(&one).await;
    assert_eq!(s, 204);
    let (s, _) = env.delete(&one).await;
    assert_eq!(s, 404);
    let (_, got) = env.get(&template_path(V3, &id, "")).await;
    assert_eq!(got["tokens"].as_array().unwrap().len(), 4);

    let (s, _) = env.delete(&template_path(OLD, &id, "")).await;
    assert_eq!(s, 204);
    let (s, _) = env.get(&template_path(V3, &id, "")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn an_app_can_have_at_most_750_templates() {
    let env = Env::start().await;
    for i in 0..750 {
        let (s, body) = env
            .post(
                &templates(V3),
                json!({"name": format!("t{i}"), "tokens": []}),
            )
            .await;
        assert_eq!(s, 201, "#{i}: {body}");
    }
    let (s, body) = env
        .post(&templates(V3), json!({"name": "t750", "tokens": []}))
        .await;
    assert_eq!(s, 400);
    assert!(body["message"].as_str().unwrap().contains("750"));
}

#[tokio::test]
async fn events_validate_tokens_and_resolve_objects() {
    let env = Env::start().await;
    let tid = create_template(&env, V3).await;
    let a = env.contact("timeline.a@example.test").await;
    let b = env.contact("timeline.b@example.test").await;
    let bearer = env.bearer(62515).await;
    let post = |path: String, body: Value| {
        let env = &env;
        let bearer = bearer.clone();
        async move { env.post_as(&path, &bearer, body).await }
    };

    let (s, e) = post(
        format!("{V3}/events"),
        json!({"eventTemplateId": tid, "objectId": a, "id": "evt-1",
               "tokens": {"plan": "pro", "seats": "3", "signed_up.at": "1700000000000", "source": "web"},
               "extraData": {"note": "hello"}}),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["id"], "evt-1");
    assert_eq!(e["objectId"], a.as_str());
    assert_eq!(e["eventTemplateId"], tid.as_str());
    assert_eq!(e["objectType"], "contacts");
    assert!(e["createdAt"].is_string());
    assert!(e["timestamp"].is_string());
    assert_eq!(e["tokens"]["plan"], "pro");

    // By e-mail (contacts only), through the old prefix; id generated.
    let (s, e) = post(
        format!("{OLD}/events"),
        json!({"eventTemplateId": tid, "email": "timeline.b@example.test", "tokens": {"plan": "free"}}),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["objectId"], b.as_str());
    assert!(e["id"].as_str().unwrap().len() >= 32);

    // Errors.
    let cases = [
        (json!({"objectId": a, "tokens": {}}), 400),
        (json!({"eventTemplateId": tid, "objectId": a}), 400),
        (
            json!({"eventTemplateId": "999", "objectId": a, "tokens": {}}),
            404,
        ),
        (
            json!({"eventTemplateId": tid, "objectId": "987654321", "tokens": {}}),
            404,
        ),
        (
            json!({"eventTemplateId": tid, "email": "nobody@example.test", "tokens": {}}),
            404,
        ),
        (json!({"eventTemplateId": tid, "tokens": {}}), 400),
        (
            json!({"eventTemplateId": tid, "objectId": a, "tokens": {"plan": "gold"}}),
            400,
        ),
        (
            json!({"eventTemplateId": tid, "objectId": a, "tokens": {"seats": "three"}}),
            400,
        ),
        (
            json!({"eventTemplateId": tid, "objectId": a, "tokens": {"signed_up.at": "yesterday"}}),
            400,
        ),
        (
            json!({"eventTemplateId": tid, "objectId": a, "tokens": {"unknown": "x"}}),
            400,
        ),
    ];
    for (body, status) in cases {
        let (s, err) = post(format!("{V3}/events"), body.clone()).await;
        assert_eq!(s, status, "{body} → {err}");
        assert!(err["category"].is_string(), "{err}");
    }
    // A private-app token owns no templates.
    let (s, _) = env
        .post_as(
            &format!("{V3}/events"),
            PAT,
            json!({"eventTemplateId": tid, "objectId": a, "tokens": {}}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = env
        .call(
            Method::POST,
            &format!("{V3}/events"),
            None,
            Some(json!({"eventTemplateId": tid})),
        )
        .await;
    assert_eq!(s, 401);

    // Reads: event, detail, render.
    let (s, got) = env
        .get_as(&format!("{OLD}/events/{tid}/evt-1"), &bearer)
        .await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["objectId"], a.as_str());
    let (s, detail) = env
        .get_as(&format!("{V3}/events/{tid}/evt-1/detail"), &bearer)
        .await;
    assert_eq!(s, 200);
    assert_eq!(detail["details"], "3 seats, note: hello");
    let (s, header) = env
        .get_as(&format!("{V3}/events/{tid}/evt-1/render"), &bearer)
        .await;
    assert_eq!(s, 200);
    assert_eq!(header, Value::String("Signed up for pro".into()));
    let (s, _) = env
        .get_as(&format!("{V3}/events/{tid}/nope"), &bearer)
        .await;
    assert_eq!(s, 404);

    // Control view per portal and object.
    let (s, list) = env
        .get(&format!(
            "/_sim/hubspot/portals/62515/timeline/events?objectId={a}"
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 1);
    let (_, counts) = env.get("/_sim/hubspot/timeline/counts").await;
    assert_eq!(counts["events"], 2);
    assert_eq!(counts["eventsPerPortal"]["62515"], 2);
}

#[tokio::test]
async fn reposting_an_event_id_replaces_it_and_moves_it_to_the_new_object() {
    let env = Env::start().await;
    let tid = create_template(&env, V3).await;
    let a = env.contact("dup.a@example.test").await;
    let b = env.contact("dup.b@example.test").await;
    let bearer = &env.bearer(62515).await;
    let send = |object: &str, plan: &str| json!({"eventTemplateId": tid, "objectId": object, "id": "same-id", "tokens": {"plan": plan}});
    let (s, _) = env
        .call(
            Method::POST,
            &format!("{V3}/events"),
            Some(bearer),
            Some(send(&a, "free")),
        )
        .await;
    assert_eq!(s, 201);
    let (s, e) = env
        .post_as(&format!("{V3}/events"), bearer, send(&b, "pro"))
        .await;
    assert_eq!(s, 201);
    assert_eq!(e["objectId"], b.as_str());
    let (_, on_a) = env
        .get(&format!(
            "/_sim/hubspot/portals/62515/timeline/events?objectId={a}"
        ))
        .await;
    assert_eq!(on_a["total"], 0, "the first object lost the event");
    let (_, on_b) = env
        .get(&format!(
            "/_sim/hubspot/portals/62515/timeline/events?objectId={b}"
        ))
        .await;
    assert_eq!(on_b["total"], 1);
    assert_eq!(on_b["results"][0]["tokens"]["plan"], "pro");

    // The reject policy answers 409 instead.
    let (_, mut knobs) = env.get("/_sim/hubspot/timeline/knobs").await;
    knobs["timeline_duplicate_id"] = json!("reject");
    let (s, _) = env.put("/_sim/hubspot/timeline/knobs", knobs).await;
    assert_eq!(s, 200);
    let (s, err) = env
        .post_as(&format!("{V3}/events"), bearer, send(&a, "free"))
        .await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["category"], "CONFLICT");
}

#[tokio::test]
async fn batch_create_answers_201_or_207() {
    let env = Env::start().await;
    let tid = create_template(&env, V3).await;
    let a = env.contact("batch.a@example.test").await;
    let bearer = &env.bearer(62515).await;
    let path = format!("{V3}/events/batch/create");
    let good = |id: &str| json!({"eventTemplateId": tid, "objectId": a, "id": id, "tokens": {"plan": "pro"}});

    let (s, body) = env
        .post_as(&path, bearer, json!({"inputs": [good("b1"), good("b2")]}))
        .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["status"], "COMPLETE");
    assert_eq!(body["results"].as_array().unwrap().len(), 2);

    let bad =
        json!({"eventTemplateId": tid, "objectId": a, "id": "b4", "tokens": {"plan": "gold"}});
    let (s, body) = env
        .post_as(&path, bearer, json!({"inputs": [good("b3"), bad]}))
        .await;
    assert_eq!(s, 207, "{body}");
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(body["errors"][0]["category"], "VALIDATION_ERROR");
    assert_eq!(body["errors"][0]["status"], "error");
    let (_, counts) = env.get("/_sim/hubspot/timeline/counts").await;
    assert_eq!(counts["events"], 3);

    let many: Vec<Value> = (0..101).map(|i| good(&format!("m{i}"))).collect();
    let (s, _) = env.post_as(&path, bearer, json!({"inputs": many})).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn object_property_name_copies_token_values_onto_the_contact() {
    let env = Env::start().await;
    let (s, t) = env
        .post(
            &templates(V3),
            json!({"name": "Plan", "tokens": [{"name": "plan", "label": "Plan", "type": "string", "objectPropertyName": "jobtitle"}]}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let a = env.contact("copy.a@example.test").await;
    let bearer = env.bearer(62515).await;
    let (s, _) = env
        .post_as(
            &format!("{V3}/events"),
            &bearer,
            json!({"eventTemplateId": t["id"], "objectId": a, "tokens": {"plan": "Chief"}}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, c) = env
        .get_as(
            &format!("/crm/v3/objects/contacts/{a}?properties=jobtitle"),
            PAT,
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["properties"]["jobtitle"], "Chief");
}

#[tokio::test]
async fn unavailable_timeline_answers_403_everywhere() {
    let env = Env::start().await;
    let tid = create_template(&env, V3).await;
    let bearer = env.bearer(62515).await;
    let (_, mut knobs) = env.get("/_sim/hubspot/timeline/knobs").await;
    knobs["timeline_available"] = json!(false);
    let (s, _) = env.put("/_sim/hubspot/timeline/knobs", knobs).await;
    assert_eq!(s, 200);
    let (s, body) = env.get(&templates(V3)).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], "FORBIDDEN");
    assert!(body["correlationId"].is_string());
    let (s, _) = env
        .post_as(
            &format!("{OLD}/events"),
            &bearer,
            json!({"eventTemplateId": tid, "email": "x@example.test", "tokens": {}}),
        )
        .await;
    assert_eq!(s, 403);
    // Only one prefix served: the other answers 404.
    let (_, mut knobs) = env.get("/_sim/hubspot/timeline/knobs").await;
    knobs["timeline_available"] = json!(true);
    knobs["timeline_prefixes"] = json!([V3]);
    env.put("/_sim/hubspot/timeline/knobs", knobs).await;
    let (s, _) = env.get(&templates(OLD)).await;
    assert_eq!(s, 404);
    let (s, _) = env.get(&templates(V3)).await;
    assert_eq!(s, 200);
}
