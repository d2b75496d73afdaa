use reqwest::Method;
use serde_json::json;

use super::{empty_config, start, start_with};

#[tokio::test]
async fn crud_round_trip_with_defaults_clearing_and_archive() {
    let s = start().await;
    let r = s
        .post("/crm/v3/objects/contacts", json!({"properties": {"email": "Jane@Example.com", "firstname": "Jane", "phone": "+1 555"}}))
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["properties"]["email"], "jane@example.com");
    assert_eq!(r.body["properties"]["hs_object_id"], id.as_str());
    assert!(
        r.body["properties"]["createdate"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(r.body["archived"], false);

    // Default read properties: phone is not among them, lastname is (null).
    let r = s.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(r.status, 200);
    assert!(r.body["properties"].get("phone").is_none());
    assert!(r.body["properties"]["lastname"].is_null());
    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?properties=phone,email"
        ))
        .await;
    assert_eq!(r.body["properties"]["phone"], "+1 555");

    let r = s
        .patch(
            &format!("/crm/v3/objects/0-1/{id}"),
            json!({"properties": {"firstname": "Janet", "phone": ""}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["firstname"], "Janet");
    assert!(
        r.body["properties"].get("phone").is_none(),
        "cleared: {}",
        r.body
    );

    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?propertiesWithHistory=firstname"
        ))
        .await;
    let hist = r.body["propertiesWithHistory"]["firstname"]
        .as_array()
        .unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0]["value"], "Janet", "newest first");
    assert_eq!(hist[0]["sourceType"], "API");

    assert_eq!(
        s.delete(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        204
    );
    let r = s.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        r.body["message"],
        "Object not found.  objectId are usually numeric."
    );
    assert_eq!(r.body["context"]["id"][0], id.as_str());
    assert!(r.body["correlationId"].is_string());
    let r = s
        .get(&format!("/crm/v3/objects/contacts/{id}?archived=true"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["archived"], true);
    assert!(r.body["archivedAt"].is_string());
}

#[tokio::test]
async fn id_property_reads_and_non_unique_id_property_is_rejected() {
    let s = start().await;
    let id = s
        .create("contacts", json!({"email": "a@b.io", "firstname": "A"}))
        .await;
    let r = s
        .get("/crm/v3/objects/contacts/A@B.io?idProperty=email")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    let r = s
        .get("/crm/v3/objects/contacts/A?idProperty=firstname")
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("non-unique 0-1 property firstname in portal ID 62515")
    );
    assert_eq!(
        s.get("/crm/v3/objects/contacts/nobody@b.io?idProperty=email")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn inline_associations_and_primary_company_appears_twice_on_read() {
    let s = start().await;
    let company = s
        .create("companies", json!({"name": "Acme", "domain": "acme.io"}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "x@acme.io"}, "associations": [{"to": {"id": company},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1},
                          {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let contact = r.body["id"].as_str().unwrap().to_string();
    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{contact}?associations=companies,deals,nonsense"
        ))
        .await;
    let results = r.body["associations"]["companies"]["results"]
        .as_array()
        .unwrap();
    let mut types: Vec<&str> = results
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        vec!["contact_to_company", "contact_to_company_unlabeled"]
    );
    assert!(results.iter().all(|a| a["id"] == company.as_str()));
    assert!(r.body["associations"].get("deals").is_none());
    let r = s
        .get(&format!(
            "/crm/v3/objects/companies/{company}?associations=contacts"
        ))
        .await;
    assert_eq!(
        r.body["associations"]["contacts"]["results"][0]["id"],
        contact.as_str()
    );

    // A bad type id or a missing target fails the create.
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {}, "associations": [{"to": {"id": "999999"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]}),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn list_pages_with_after_and_enforces_limits() {
    let s = start().await;
    for i in 0..25 {
        s.create("contacts", json!({"email": format!("p{i}@x.io")}))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/crm/v3/objects/contacts?limit=10".to_string();
    loop {
        let r = s.get(&path).await;
        assert_eq!(r.status, 200);
        for o in r.body["results"].as_array().unwrap() {
            seen.push(o["id"].as_str().unwrap().to_string());
        }
        match r.body["paging"]["next"]["after"].as_str() {
            Some(a) => path = format!("/crm/v3/objects/contacts?limit=10&after={a}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), 25);
    assert_eq!(
        s.get("/crm/v3/objects/contacts").await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        10,
        "default 10"
    );
    assert_eq!(
        s.get("/crm/v3/objects/contacts?limit=100").await.status,
        200
    );
    assert_eq!(
        s.get("/crm/v3/objects/contacts?limit=101").await.status,
        400
    );
    assert_eq!(
        s.get("/crm/v3/objects/contacts?limit=51&propertiesWithHistory=email")
            .await
            .status,
        400
    );
    assert_eq!(
        s.get("/crm/v3/objects/contacts?limit=50&propertiesWithHistory=email")
            .await
            .status,
        200
    );
    assert_eq!(s.get("/crm/v3/objects/widgets").await.status, 400);
}

#[tokio::test]
async fn required_properties_on_create() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/objects/deals",
            json!({"properties": {"dealname": "D"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.contains("dealstage") && msg.contains("pipeline"),
        "{msg}"
    );
    let r = s
        .post("/crm/v3/objects/deals", json!({"properties": {"dealname": "D", "dealstage": "closedwon", "pipeline": "default", "amount": "10.5"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        s.post(
            "/crm/v3/objects/companies",
            json!({"properties": {"city": "X"}})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.post(
            "/crm/v3/objects/companies",
            json!({"properties": {"domain": "x.io"}})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        s.post("/crm/v3/objects/contacts", json!({"properties": {}}))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn duplicate_email_is_a_409_conflict_naming_the_existing_id() {
    let s = start().await;
    let id = s.create("contacts", json!({"email": "dup@x.io"})).await;
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "DUP@x.io"}}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["category"], "CONFLICT");
    assert_eq!(
        r.body["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    let other = s.create("contacts", json!({"email": "other@x.io"})).await;
    let r = s
        .patch(
            &format!("/crm/v3/objects/contacts/{other}"),
            json!({"properties": {"email": "dup@x.io"}}),
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn merge_resolves_merged_ids_on_get_but_batch_update_rejects_them() {
    let s = start().await;
    let a = s
        .create("contacts", json!({"email": "a@m.io", "firstname": "A"}))
        .await;
    let b = s
        .create("contacts", json!({"email": "b@m.io", "lastname": "B"}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": a, "objectIdToMerge": b}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], a.as_str());
    assert_eq!(
        r.body["properties"]["lastname"], "B",
        "empty values filled from the merged contact"
    );
    assert_eq!(r.body["properties"]["hs_merged_object_ids"], b.as_str());
    let r = s.get(&format!("/crm/v3/objects/contacts/{b}")).await;
    assert_eq!(r.body["id"], a.as_str());
    let r = s
        .get("/crm/v3/objects/contacts/b@m.io?idProperty=email")
        .await;
    assert_eq!(r.body["id"], a.as_str());
    let r = s
        .patch(
            &format!("/crm/v3/objects/contacts/{b}"),
            json!({"properties": {"firstname": "Z"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": b, "properties": {"firstname": "Y"}}]}),
        )
        .await;
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": a, "objectIdToMerge": a})
        )
        .await
        .status,
        400
    );
}

#[tokio::test]
async fn gdpr_delete_removes_for_good_and_blocklists_unknown_emails() {
    let s = start().await;
    let id = s.create("contacts", json!({"email": "gone@x.io"})).await;
    let r = s
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": id}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.get(&format!("/crm/v3/objects/contacts/{id}?archived=true"))
            .await
            .status,
        404
    );
    let r = s
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": "ghost@x.io", "idProperty": "email"}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": "424242"})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn dated_paths_alias_v3_and_can_be_switched_off() {
    let s = start().await;
    let r = s
        .post(
            "/crm/objects/2026-03/contacts",
            json!({"properties": {"email": "d@x.io"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        s.get(&format!("/crm/objects/2026-03/contacts/{id}"))
            .await
            .status,
        200
    );
    assert_eq!(
        s.get("/crm/properties/2026-03/contacts/email").await.status,
        200
    );
    s.crm_knobs(json!({"accept_dated_paths": false})).await;
    assert_eq!(
        s.get(&format!("/crm/objects/2026-03/contacts/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        s.get(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn authentication_and_portal_isolation() {
    let s = start().await;
    let r = s
        .call_as(None, Method::GET, "/crm/v3/objects/contacts", None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["category"], "INVALID_AUTHENTICATION");
    assert_eq!(
        s.call_as(Some("nope"), Method::GET, "/crm/v3/objects/contacts", None)
            .await
            .status,
        401
    );
    let id = s.create("contacts", json!({"email": "mine@x.io"})).await;
    let r = s
        .call_as(
            Some("pat-sim-62516"),
            Method::GET,
            &format!("/crm/v3/objects/contacts/{id}"),
            None,
        )
        .await;
    assert_eq!(
        r.status, 404,
        "portal 62516 must not see portal 62515's contact"
    );
    let mut c = empty_config();
    c.crm.search_index_lag_ms = 0;
    let s2 = start_with(c).await;
    assert_eq!(
        s2.get("/crm/v3/objects/contacts").await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
