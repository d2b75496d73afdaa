use serde_json::{Value, json};

use super::{Sim, start};

async fn setup(s: &Sim) -> (String, String, String) {
    let contact = s.create("contacts", json!({"email": "a@x.io"})).await;
    let company = s.create("companies", json!({"name": "Co"})).await;
    let company2 = s.create("companies", json!({"name": "Co2"})).await;
    (contact, company, company2)
}

fn type_ids(v: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = v["associationTypes"]
        .as_array()
        .expect("associationTypes")
        .iter()
        .map(|t| t["typeId"].as_u64().expect("typeId"))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn default_labeled_list_and_delete() {
    let s = start().await;
    let (contact, company, company2) = setup(&s).await;
    let r = s
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}"),
            json!(null),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["results"][0]["associationSpec"]["associationTypeId"],
        279
    );
    assert_eq!(
        r.body["results"][1]["associationSpec"]["associationTypeId"], 280,
        "the inverse direction too"
    );

    let r = s
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company2}"),
            json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["labels"], json!(["Primary"]));
    assert_eq!(r.body["fromObjectTypeId"], "0-1");
    assert_eq!(r.body["toObjectId"].as_u64().unwrap().to_string(), company2);

    let r = s
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(type_ids(&results[0]), vec![279]);
    assert_eq!(
        type_ids(&results[1]),
        vec![1, 279],
        "labeled pairs keep the unlabeled type"
    );
    let r = s
        .get(&format!(
            "/crm/v4/objects/companies/{company2}/associations/contacts"
        ))
        .await;
    assert_eq!(type_ids(&r.body["results"][0]), vec![2, 280]);

    // Replacing labels: an empty body leaves only the unlabeled type.
    let r = s
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company2}"),
            json!([]),
        )
        .await;
    assert_eq!(r.body["labels"], json!([]));
    let bad = json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]);
    let r = s
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company2}"),
            bad,
        )
        .await;
    assert_eq!(r.status, 400, "4 is contact->deal");

    // Paging.
    let r = s
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies?limit=1"
        ))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    let after = r.body["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies?limit=1&after={after}"
        ))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
    assert!(r.body.get("paging").is_none());
    assert_eq!(
        s.get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies?limit=501"
        ))
        .await
        .status,
        400
    );

    assert_eq!(
        s.delete(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
        ))
        .await
        .status,
        204
    );
    let r = s
        .get(&format!(
            "/crm/v4/objects/companies/{company}/associations/contacts"
        ))
        .await;
    assert_eq!(r.body["results"], json!([]), "removed in both directions");
    assert_eq!(
        s.put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/default/companies/404404"),
            json!(null)
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn batch_endpoints_and_limits() {
    let s = start().await;
    let (contact, company, company2) = setup(&s).await;
    let b = "/crm/v4/associations/contacts/companies/batch";
    let r = s
        .post(
            &format!("{b}/associate/default"),
            json!({"inputs": [{"from": {"id": contact}, "to": {"id": company}}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .post(
            &format!("{b}/create"),
            json!({"inputs": [{"from": {"id": contact}, "to": {"id": company2}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]},
                              {"from": {"id": contact}, "to": {"id": "999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]}),
        )
        .await;
    assert_eq!(r.status, 207, "{}", r.body);
    assert_eq!(r.body["results"][0]["labels"], json!(["Primary"]));
    assert_eq!(r.body["numErrors"], 1);

    let r = s
        .post(
            &format!("{b}/read"),
            json!({"inputs": [{"id": contact}, {"id": company}]}),
        )
        .await;
    assert_eq!(
        r.status, 207,
        "the company id has no contact->company associations: {}",
        r.body
    );
    assert_eq!(r.body["results"][0]["from"]["id"], contact.as_str());
    assert_eq!(r.body["results"][0]["to"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["errors"][0]["subCategory"],
        "crm.associations.NO_ASSOCIATIONS_FOUND"
    );

    // Labels archive: removing "Primary" keeps the unlabeled association.
    let r = s
        .post(&format!("{b}/labels/archive"), json!({"inputs": [{"from": {"id": contact}, "to": {"id": company2}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]}))
        .await;
    assert_eq!(r.status, 204);
    let r = s
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await;
    assert_eq!(type_ids(&r.body["results"][1]), vec![279]);

    let r = s.post(&format!("{b}/archive"), json!({"inputs": [{"from": {"id": contact}, "to": [{"id": company}, {"id": company2}]}]})).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        s.get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/companies"
        ))
        .await
        .body["results"],
        json!([])
    );

    let many = |n: usize| json!({"inputs": (0..n).map(|i| json!({"id": i.to_string()})).collect::<Vec<_>>()});
    assert_eq!(s.post(&format!("{b}/read"), many(1001)).await.status, 400);
    let pairs = |n: usize| json!({"inputs": (0..n).map(|_| json!({"from": {"id": contact}, "to": {"id": company}, "types": []})).collect::<Vec<_>>()});
    assert_eq!(
        s.post(&format!("{b}/create"), pairs(2001)).await.status,
        400
    );
    assert_eq!(
        s.post(&format!("{b}/create"), pairs(2000)).await.status,
        201
    );
}

#[tokio::test]
async fn labels_list_and_user_defined_labels() {
    let s = start().await;
    let r = s
        .get("/crm/v4/associations/contacts/companies/labels")
        .await;
    let results = r.body["results"].as_array().unwrap();
    assert!(
        results.iter().any(|t| t["typeId"] == 279
            && t["label"].is_null()
            && t["category"] == "HUBSPOT_DEFINED")
    );
    assert!(
        results
            .iter()
            .any(|t| t["typeId"] == 1 && t["label"] == "Primary")
    );
    let r = s.get("/crm/v4/associations/deals/companies/labels").await;
    assert!(
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["typeId"] == 341)
    );
    let r = s
        .post(
            "/crm/v4/associations/contacts/companies/labels",
            json!({"label": "Billing contact", "name": "billing"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let type_id = r.body["results"][0]["typeId"].as_u64().unwrap();
    let (contact, company, _) = setup(&s).await;
    let r = s
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
            json!([{"associationCategory": "USER_DEFINED", "associationTypeId": type_id}]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["labels"], json!(["Billing contact"]));
}
