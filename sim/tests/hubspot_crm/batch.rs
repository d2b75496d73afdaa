use serde_json::{Value, json};

use super::start;

fn inputs(n: usize, f: impl Fn(usize) -> Value) -> Value {
    json!({"inputs": (0..n).map(f).collect::<Vec<_>>()})
}

#[tokio::test]
async fn batch_read_returns_207_for_missing_ids_and_reads_by_email() {
    let s = start().await;
    let a = s
        .create("contacts", json!({"email": "a@b.io", "firstname": "A"}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": [{"id": a}], "properties": ["firstname"]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "COMPLETE");
    assert_eq!(r.body["results"][0]["properties"]["firstname"], "A");
    assert!(r.body["startedAt"].is_string() && r.body["completedAt"].is_string());
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": [{"id": a}, {"id": "9999"}, {"id": "8888"}]}),
        )
        .await;
    assert_eq!(r.status, 207);
    assert_eq!(r.body["numErrors"], 1);
    let e = &r.body["errors"][0];
    assert_eq!(e["status"], "error");
    assert_eq!(e["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        e["message"],
        "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
    );
    assert_eq!(e["context"]["ids"], json!(["9999", "8888"]));
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"idProperty": "email", "inputs": [{"id": "A@b.io"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["results"][0]["id"], a.as_str());
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read",
            inputs(101, |i| json!({"id": i.to_string()})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn batch_create_is_all_or_nothing_without_trace_ids_and_partial_with_them() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/create",
            inputs(
                3,
                |i| json!({"properties": {"email": format!("c{i}@x.io")}}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts/batch/create",
            inputs(101, |_| json!({"properties": {}}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts/batch/create",
            inputs(100, |_| json!({"properties": {}}))
        )
        .await
        .status,
        201
    );

    // Without trace ids: one bad input fails the whole batch, nothing is created.
    let before = s
        .get("/_sim/hubspot/portals/62515/objects/contacts")
        .await
        .body["total"]
        .as_u64()
        .unwrap();
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [{"properties": {"email": "ok@x.io"}}, {"properties": {"foo": "1"}}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Property values were not valid: ")
    );
    let after = s
        .get("/_sim/hubspot/portals/62515/objects/contacts")
        .await
        .body["total"]
        .as_u64()
        .unwrap();
    assert_eq!(before, after);

    // With unique trace ids on every input: 207, the good one is created.
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [{"properties": {"email": "ok@x.io"}, "objectWriteTraceId": "t1"},
                              {"properties": {"foo": "1"}, "objectWriteTraceId": "t2"}]}),
        )
        .await;
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["results"][0]["properties"]["email"], "ok@x.io");
    assert_eq!(
        r.body["errors"][0]["context"]["objectWriteTraceId"],
        json!(["t2"])
    );
    assert_eq!(r.body["errors"][0]["category"], "VALIDATION_ERROR");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("PROPERTY_DOESNT_EXIST")
    );

    // Duplicate email: a single 409 naming the existing id.
    let r = s.post("/crm/v3/objects/contacts/batch/create", json!({"inputs": [{"properties": {"email": "new@x.io"}}, {"properties": {"email": "c1@x.io"}}]})).await;
    assert_eq!(r.status, 409);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Contact already exists. Existing ID: ")
    );
}

#[tokio::test]
async fn batch_update_and_archive() {
    let s = start().await;
    let a = s.create("contacts", json!({"email": "u1@x.io"})).await;
    let b = s.create("contacts", json!({"email": "u2@x.io"})).await;
    let r = s
        .post("/crm/v3/objects/contacts/batch/update", json!({"inputs": [{"id": a, "properties": {"firstname": "A"}}, {"id": "u2@x.io", "idProperty": "email", "properties": {"firstname": "B"}}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][1]["properties"]["firstname"], "B");
    let r = s.post("/crm/v3/objects/contacts/batch/update", json!({"inputs": [{"id": a, "properties": {"firstname": "A2"}}, {"id": "777", "properties": {}}]})).await;
    assert_eq!(r.status, 207);
    assert_eq!(r.body["errors"][0]["context"]["ids"], json!(["777"]));
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": a, "properties": {}}, {"id": a, "properties": {}}]}),
        )
        .await;
    assert_eq!(r.status, 400, "same record twice");
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/archive",
            json!({"inputs": [{"id": a}, {"id": b}, {"id": "31337"}]}),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": [{"id": a}]}),
        )
        .await;
    assert_eq!(r.status, 207);
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/read?archived=true",
            json!({"inputs": [{"id": a}]}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn batch_upsert_creates_or_updates_by_unique_key() {
    let s = start().await;
    let a = s
        .create("contacts", json!({"email": "up@x.io", "firstname": "Old"}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/upsert",
            json!({"inputs": [{"id": "up@x.io", "idProperty": "email", "properties": {"firstname": "New"}},
                              {"id": "fresh@x.io", "idProperty": "email", "properties": {"firstname": "F"}}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let res = r.body["results"].as_array().unwrap();
    assert_eq!(res[0]["id"], a.as_str());
    assert_eq!(res[0]["new"], false);
    assert_eq!(res[0]["properties"]["firstname"], "New");
    assert_eq!(res[1]["new"], true);
    assert_eq!(res[1]["properties"]["email"], "fresh@x.io");
    let r = s.post("/crm/v3/objects/companies/batch/upsert", json!({"inputs": [{"id": "acme.io", "idProperty": "domain", "properties": {"name": "A"}}]})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["message"],
        "Unable to perform update/upsert by non-unique 0-2 property domain in portal ID 62515"
    );
    let r = s.post("/crm/v3/objects/contacts/batch/upsert", json!({"inputs": [{"id": "z@x.io", "idProperty": "email", "properties": {"foo": "1"}}]})).await;
    assert_eq!(r.status, 400, "no partial upserts");
}

#[tokio::test]
async fn batch_upserts_sent_too_fast_answer_423_locked_for_about_two_seconds() {
    let s = start().await;
    let knobs = s.get("/_sim/hubspot/rate-limits").await.body;
    assert_eq!(knobs["upsert_lock_after"], 0, "off by default");
    assert_eq!(knobs["upsert_lock_ms"], 2_000);
    s.limit_knobs(json!({"upsert_lock_after": 3})).await;
    let upsert = |name: &str| {
        json!({"inputs": [{"id": "lock@x.io", "idProperty": "email",
                           "properties": {"firstname": name}}]})
    };
    let path = "/crm/v3/objects/contacts/batch/upsert";
    for name in ["A", "B", "C"] {
        let r = s.post(path, upsert(name)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = s.post(path, upsert("Locked")).await;
    assert_eq!(r.status, 423, "{}", r.body);
    assert_eq!(r.body["status"], "error");
    assert!(r.body["message"].as_str().unwrap().contains("too fast"));
    assert_eq!(
        r.header("x-hubspot-correlation-id").as_deref(),
        r.body["correlationId"].as_str()
    );
    assert_eq!(s.post(path, upsert("Still")).await.status, 423);
    // Other writes are not locked (`create` asserts the 201), and the refused upserts wrote
    // nothing.
    s.create("contacts", json!({"email": "other@x.io"})).await;
    let got = s
        .get("/crm/v3/objects/contacts/lock@x.io?idProperty=email&properties=firstname")
        .await;
    assert_eq!(got.body["properties"]["firstname"], "C");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let r = s.post(path, upsert("After")).await;
    assert_eq!(r.status, 200, "the lock ends: {}", r.body);
}
