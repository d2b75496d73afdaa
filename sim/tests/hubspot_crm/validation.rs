use serde_json::{Value, json};

use super::start;

#[tokio::test]
async fn unknown_property_has_the_documented_shape() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"foo": "1"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["status"], "error");
    assert_eq!(r.body["category"], "VALIDATION_ERROR");
    let msg = r.body["message"].as_str().unwrap();
    let embedded = msg
        .strip_prefix("Property values were not valid: ")
        .expect("prefix");
    assert!(
        embedded.starts_with("[{\"isValid\":false,\"message\""),
        "{embedded}"
    );
    let arr: Value = serde_json::from_str(embedded).expect("embedded JSON");
    assert_eq!(
        arr,
        json!([{"isValid": false, "message": "Property \"foo\" does not exist", "error": "PROPERTY_DOESNT_EXIST",
                "name": "foo", "localizedErrorMessage": "Property \"foo\" does not exist", "portalId": 62515}])
    );
    assert_eq!(
        r.body["errors"],
        json!([{"message": "Property \"foo\" does not exist", "code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": ["foo"]}}])
    );
}

async fn code_of(s: &super::Sim, t: &str, props: Value) -> String {
    let r = s
        .post(
            &format!("/crm/v3/objects/{t}"),
            json!({"properties": props}),
        )
        .await;
    assert_eq!(r.status, 400, "{props}: {}", r.body);
    r.body["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn value_rules_per_type() {
    let s = start().await;
    // A date property to test midnight rules.
    let r = s
        .post("/crm/v3/properties/contacts", json!({"name": "renewal", "label": "Renewal", "type": "date", "fieldType": "date", "groupName": "contactinformation"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        code_of(
            &s,
            "companies",
            json!({"name": "X", "numberofemployees": "1,000"})
        )
        .await,
        "INVALID_INTEGER"
    );
    assert_eq!(
        code_of(
            &s,
            "companies",
            json!({"name": "X", "numberofemployees": "12 "})
        )
        .await,
        "INVALID_INTEGER"
    );
    assert_eq!(
        code_of(&s, "contacts", json!({"renewal": "1521225089103"})).await,
        "INVALID_DATE"
    );
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"renewal": "1521225089103"}}),
        )
        .await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("is at 18:31:29.103 UTC, not midnight!"),
        "{}",
        r.body
    );
    assert_eq!(
        code_of(&s, "contacts", json!({"renewal": "2024-01-01T10:00:00Z"})).await,
        "INVALID_DATE"
    );
    assert_eq!(
        code_of(&s, "contacts", json!({"lifecyclestage": "Lead"})).await,
        "INVALID_OPTION"
    );
    assert_eq!(
        code_of(&s, "contacts", json!({"hs_email_optout": "yes"})).await,
        "INVALID_BOOLEAN"
    );
    assert_eq!(
        code_of(&s, "contacts", json!({"hs_object_id": "5"})).await,
        "READ_ONLY_VALUE"
    );
    assert_eq!(code_of(&s, "deals", json!({"dealname": "d", "dealstage": "closedwon", "pipeline": "default", "closedate": "soon"})).await, "INVALID_LONG");

    // Valid forms pass: ISO date, midnight datetime, epoch ms at midnight, numbers as JSON.
    for v in [
        json!("2024-01-01"),
        json!("2024-01-01T00:00:00Z"),
        json!("1704067200000"),
    ] {
        let r = s
            .post(
                "/crm/v3/objects/contacts",
                json!({"properties": {"renewal": v}}),
            )
            .await;
        assert_eq!(r.status, 201, "{v}: {}", r.body);
    }
    let r = s
        .post(
            "/crm/v3/objects/companies",
            json!({"properties": {"name": "N", "numberofemployees": 17, "annualrevenue": "-3.5"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["properties"]["numberofemployees"], "17",
        "values are strings on the wire"
    );

    // Several bad properties are all reported.
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"foo": "1", "lifecyclestage": "nope"}}),
        )
        .await;
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn multi_select_enumerations_and_switching_validation_off() {
    let s = start().await;
    let r = s
        .post(
            "/crm/v3/properties/contacts",
            json!({"name": "tools", "label": "Tools", "type": "enumeration", "fieldType": "checkbox", "groupName": "contactinformation",
                   "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"tools": "a;b"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["tools"], "a;b");
    assert_eq!(
        code_of(&s, "contacts", json!({"tools": "a;c"})).await,
        "INVALID_OPTION"
    );

    s.crm_knobs(json!({"validate_property_values": false}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"lifecyclestage": "Whatever"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        s.post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"foo": "1"}})
        )
        .await
        .status,
        400,
        "unknown properties stay errors"
    );

    s.crm_knobs(json!({"validate_property_values": true, "enum_case_sensitive": false}))
        .await;
    let r = s
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"lifecyclestage": "LEAD"}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body["properties"]["lifecyclestage"], "lead",
        "normalised to the option value"
    );
}

#[tokio::test]
async fn patch_validates_too_and_rejects_read_only() {
    let s = start().await;
    let id = s.create("companies", json!({"name": "C"})).await;
    let r = s
        .patch(
            &format!("/crm/v3/objects/companies/{id}"),
            json!({"properties": {"annualrevenue": "lots"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["code"], "INVALID_INTEGER");
    let r = s
        .patch(
            &format!("/crm/v3/objects/companies/{id}"),
            json!({"properties": {"hs_lastmodifieddate": "1"}}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["code"], "READ_ONLY_VALUE");
    let r = s
        .get(&format!(
            "/crm/v3/objects/companies/{id}?properties=annualrevenue"
        ))
        .await;
    assert!(
        r.body["properties"]["annualrevenue"].is_null(),
        "nothing written"
    );
}
