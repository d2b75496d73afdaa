use serde_json::json;

use super::start;

#[tokio::test]
async fn ui_actions_write_as_a_person() {
    let s = start().await;
    let r = s
        .post(
            "/_sim/hubspot/portals/62515/ui/objects/contacts?userId=7",
            json!({"properties": {"email": "ui@x.io", "firstname": "Ui"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = s
        .patch(
            &format!("/_sim/hubspot/portals/62515/ui/objects/contacts/{id}?userId=7"),
            json!({"properties": {"firstname": "Edited"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?propertiesWithHistory=firstname"
        ))
        .await;
    let h = &r.body["propertiesWithHistory"]["firstname"][0];
    assert_eq!(h["value"], "Edited");
    assert_eq!(h["sourceType"], "CRM_UI");
    assert_eq!(h["sourceId"], "userId:7");
    assert_eq!(h["updatedByUserId"], 7);
    // UI writes are validated too.
    let r = s
        .patch(
            &format!("/_sim/hubspot/portals/62515/ui/objects/contacts/{id}"),
            json!({"properties": {"lifecyclestage": "bogus"}}),
        )
        .await;
    assert_eq!(r.status, 400);

    let company = s.create("companies", json!({"name": "Co"})).await;
    let r = s
        .put(
            &format!(
                "/_sim/hubspot/portals/62515/ui/associations/contacts/{id}/companies/{company}"
            ),
            json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{id}?associations=companies&properties=associatedcompanyid"
        ))
        .await;
    assert_eq!(
        r.body["associations"]["companies"]["results"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        r.body["properties"]["associatedcompanyid"],
        company.as_str()
    );
    let r = s
        .delete(&format!(
            "/_sim/hubspot/portals/62515/ui/associations/contacts/{id}/companies/{company}"
        ))
        .await;
    assert_eq!(r.status, 204);
    assert!(
        s.get(&format!(
            "/crm/v3/objects/contacts/{id}?associations=companies"
        ))
        .await
        .body
        .get("associations")
        .is_none()
    );

    let other = s.create("contacts", json!({"email": "dup@x.io"})).await;
    let r = s
        .post(
            "/_sim/hubspot/portals/62515/ui/contacts/merge",
            json!({"primaryObjectId": id, "objectIdToMerge": other}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        s.get(&format!("/crm/v3/objects/contacts/{other}"))
            .await
            .body["id"],
        id.as_str()
    );

    assert_eq!(
        s.delete(&format!(
            "/_sim/hubspot/portals/62515/ui/objects/contacts/{id}"
        ))
        .await
        .status,
        204
    );
    assert_eq!(
        s.get(&format!("/crm/v3/objects/contacts/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        s.delete(&format!(
            "/_sim/hubspot/portals/62515/ui/objects/contacts/{id}"
        ))
        .await
        .status,
        404
    );
    assert_eq!(
        s.post(
            "/_sim/hubspot/portals/1/ui/objects/contacts",
            json!({"properties": {}})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn state_dumps_and_call_counts_by_route_template() {
    let s = start().await;
    let id = s.create("contacts", json!({"email": "d@x.io"})).await;
    s.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    s.get("/crm/v3/objects/contacts/12345").await;
    let r = s.get("/_sim/hubspot/calls").await;
    let counts = &r.body["counts"];
    assert_eq!(
        counts["GET /crm/v3/objects/{objectType}/{objectId}"], 2,
        "{}",
        r.body
    );
    assert_eq!(counts["POST /crm/v3/objects/{objectType}"], 1);
    assert_eq!(r.body["total"], 3, "control calls are not counted");
    assert_eq!(s.delete("/_sim/hubspot/calls").await.status, 204);
    assert_eq!(s.get("/_sim/hubspot/calls").await.body["total"], 0);

    let r = s
        .get(&format!(
            "/_sim/hubspot/portals/62515/objects/contacts/{id}"
        ))
        .await;
    assert_eq!(r.body["properties"]["email"], "d@x.io");
    assert!(r.body["propertiesWithHistory"]["email"].is_array());
    let r = s.get("/_sim/hubspot/portals/62515/objects/0-1").await;
    assert_eq!(r.body["total"], 1);
    s.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(
        s.get("/_sim/hubspot/portals/62515/objects/contacts")
            .await
            .body["total"],
        0
    );
    assert_eq!(
        s.get("/_sim/hubspot/portals/62515/objects/contacts?archived=true")
            .await
            .body["total"],
        1
    );
    let r = s.get("/_sim/hubspot/portals/62515/associations").await;
    assert_eq!(r.body["results"], json!([]));
}

#[tokio::test]
async fn crm_knobs_round_trip_and_reject_unknown_fields() {
    let s = start().await;
    let k = s.get("/_sim/hubspot/crm").await.body;
    assert_eq!(k["search_index_lag_ms"], 0);
    assert_eq!(k["list_page_max"], 100);
    assert_eq!(
        s.put("/_sim/hubspot/crm", json!({"nope": true}))
            .await
            .status,
        400
    );
    s.crm_knobs(json!({"list_page_max": 5})).await;
    assert_eq!(s.get("/crm/v3/objects/contacts?limit=6").await.status, 400);
    let defaults = hubsync_sim::hubspot::crm::CrmKnobs::default();
    assert_eq!(defaults.search_index_lag_ms, 2000);
    assert_eq!(defaults.search_page_max, 200);
    let rl = hubsync_sim::hubspot::ratelimit::RateLimitKnobs::default();
    assert_eq!((rl.window_ms, rl.search_rps), (10_000, 5));
}
