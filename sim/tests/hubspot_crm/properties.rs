use serde_json::json;

use super::start;

fn prop(name: &str, t: &str, ft: &str) -> serde_json::Value {
    json!({"name": name, "label": name, "type": t, "fieldType": ft, "groupName": "contactinformation"})
}

#[tokio::test]
async fn defaults_are_listed_with_the_full_shape() {
    let s = start().await;
    let r = s.get("/crm/v3/properties/contacts").await;
    assert_eq!(r.status, 200);
    let results = r.body["results"].as_array().unwrap();
    let email = results
        .iter()
        .find(|p| p["name"] == "email")
        .expect("email");
    assert_eq!(email["type"], "string");
    assert_eq!(email["hubspotDefined"], true);
    assert_eq!(email["options"], json!([]));
    let ls = results
        .iter()
        .find(|p| p["name"] == "lifecyclestage")
        .expect("lifecyclestage");
    assert_eq!(ls["type"], "enumeration");
    assert!(
        ls["options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["value"] == "customer")
    );
    let id = results
        .iter()
        .find(|p| p["name"] == "hs_object_id")
        .unwrap();
    assert_eq!(id["modificationMetadata"]["readOnlyValue"], true);
    let r = s
        .get("/crm/v3/properties/companies/numberofemployees")
        .await;
    assert_eq!(r.body["type"], "number");
    let r = s.get("/crm/v3/properties/deals").await;
    for name in ["dealname", "amount", "dealstage", "pipeline", "closedate"] {
        assert!(
            r.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn create_get_patch_archive_and_errors() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/properties/contacts",
            prop("favorite_color", "string", "text"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for k in [
        "hubspotDefined",
        "calculated",
        "createdAt",
        "updatedAt",
        "archived",
        "modificationMetadata",
        "options",
        "hasUniqueValue",
    ] {
        assert!(r.body.get(k).is_some(), "{k} missing: {}", r.body);
    }
    assert_eq!(r.body["hubspotDefined"], false);
    assert_eq!(r.body["archived"], false);
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts",
            prop("favorite_color", "string", "text")
        )
        .await
        .status,
        409
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts",
            prop("bad_pair", "number", "text")
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts",
            prop("bad_pair", "bool", "select")
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts",
            prop("ok_bool", "bool", "booleancheckbox")
        )
        .await
        .status,
        201
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts",
            prop("ok_dt", "datetime", "date")
        )
        .await
        .status,
        201
    );
    assert_eq!(s.post("/crm/v3/properties/contacts", json!({"name": "nolabel", "type": "string", "fieldType": "text", "groupName": "contactinformation"})).await.status, 400);
    let mut p = prop("lost", "string", "text");
    p["groupName"] = json!("nowhere");
    assert_eq!(s.post("/crm/v3/properties/contacts", p).await.status, 400);

    let r = s
        .patch(
            "/crm/v3/properties/contacts/favorite_color",
            json!({"label": "Colour"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["label"], "Colour");
    assert_eq!(
        s.get("/crm/v3/properties/contacts/favorite_color")
            .await
            .body["label"],
        "Colour"
    );
    assert_eq!(
        s.patch(
            "/crm/v3/properties/contacts/favorite_color",
            json!({"hasUniqueValue": true})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.patch(
            "/crm/v3/properties/contacts/favorite_color",
            json!({"fieldType": "select"})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.patch("/crm/v3/properties/contacts/email", json!({"label": "E"}))
            .await
            .status,
        400,
        "HubSpot-defined"
    );

    assert_eq!(
        s.delete("/crm/v3/properties/contacts/favorite_color")
            .await
            .status,
        204
    );
    assert_eq!(
        s.get("/crm/v3/properties/contacts/favorite_color")
            .await
            .status,
        404
    );
    let r = s.get("/crm/v3/properties/contacts?archived=true").await;
    assert_eq!(r.body["results"][0]["name"], "favorite_color");
    assert_eq!(r.body["results"][0]["archived"], true);
    // Writing an archived property fails like an unknown one.
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"favorite_color": "red"}}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["code"], "PROPERTY_DOESNT_EXIST");
    assert_eq!(
        s.delete("/crm/v3/properties/contacts/email").await.status,
        400
    );
}

#[tokio::test]
async fn unique_properties_work_as_id_property() {
    let s = start().await;
    let mut p = prop("external_id", "string", "text");
    p["hasUniqueValue"] = json!(true);
    assert_eq!(s.post("/crm/v3/properties/contacts", p).await.status, 201);
    let id = s.create("contacts", json!({"external_id": "X-1"})).await;
    assert_eq!(
        s.get("/crm/v3/objects/contacts/X-1?idProperty=external_id")
            .await
            .body["id"],
        id.as_str()
    );
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"external_id": "X-1"}})
        )
        .await
        .status,
        409
    );
    let r = s.post("/crm/v3/objects/contacts/batch/upsert", json!({"inputs": [{"id": "X-1", "idProperty": "external_id", "properties": {"firstname": "U"}}]})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["results"][0]["new"], false);
}

#[tokio::test]
async fn batch_property_endpoints() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/properties/contacts/batch/create",
            json!({"inputs": [prop("p_one", "string", "text"), prop("p_two", "number", "text")]}),
        )
        .await;
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["results"][0]["name"], "p_one");
    assert_eq!(r.body["numErrors"], 1);
    let r = s
        .post(
            "/crm/v3/properties/contacts/batch/read",
            json!({"inputs": [{"name": "p_one"}, {"name": "email"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    let r = s
        .post(
            "/crm/v3/properties/contacts/batch/read",
            json!({"inputs": [{"name": "p_one"}, {"name": "ghost"}]}),
        )
        .await;
    assert_eq!(r.status, 207);
    let r = s
        .post(
            "/crm/v3/properties/contacts/batch/archive",
            json!({"inputs": [{"name": "p_one"}, {"name": "ghost"}]}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(s.get("/crm/v3/properties/contacts/p_one").await.status, 404);
}

#[tokio::test]
async fn property_groups_crud() {
    let s = start().await;
    let r = s.get("/crm/v3/properties/contacts/groups").await;
    assert!(
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "contactinformation")
    );
    let r = s
        .post(
            "/crm/v3/properties/contacts/groups",
            json!({"name": "sync_info", "label": "Sync", "displayOrder": 3}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body,
        json!({"name": "sync_info", "label": "Sync", "displayOrder": 3, "archived": false})
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts/groups",
            json!({"name": "sync_info", "label": "Again"})
        )
        .await
        .status,
        409
    );
    assert_eq!(
        s.post(
            "/crm/v3/properties/contacts/groups",
            json!({"name": "nolabel"})
        )
        .await
        .status,
        400
    );
    let r = s
        .patch(
            "/crm/v3/properties/contacts/groups/sync_info",
            json!({"label": "Sync info"}),
        )
        .await;
    assert_eq!(r.body["label"], "Sync info");
    let mut p = prop("in_group", "string", "text");
    p["groupName"] = json!("sync_info");
    assert_eq!(s.post("/crm/v3/properties/contacts", p).await.status, 201);
    assert_eq!(
        s.get("/crm/v3/properties/contacts/groups/sync_info")
            .await
            .status,
        200
    );
    assert_eq!(
        s.delete("/crm/v3/properties/contacts/groups/sync_info")
            .await
            .status,
        204
    );
    assert_eq!(
        s.get("/crm/v3/properties/contacts/groups/sync_info")
            .await
            .status,
        404
    );
}
