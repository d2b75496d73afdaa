use serde_json::json;

use super::start;

fn cars() -> serde_json::Value {
    json!({
        "name": "cars",
        "labels": {"singular": "Car", "plural": "Cars"},
        "primaryDisplayProperty": "model",
        "requiredProperties": ["model"],
        "searchableProperties": ["model"],
        "secondaryDisplayProperties": [],
        "properties": [
            {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
            {"name": "year", "label": "Year", "type": "number", "fieldType": "number"},
            {"name": "vin", "label": "VIN", "type": "string", "fieldType": "text", "hasUniqueValue": true}
        ],
        "associatedObjects": ["CONTACT"]
    })
}

#[tokio::test]
async fn schema_lifecycle_and_custom_object_crud() {
    let s = start().await;
    let r = s.post("/crm-object-schemas/v3/schemas", cars()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let type_id = r.body["objectTypeId"].as_str().unwrap().to_string();
    assert!(type_id.starts_with("2-"), "{type_id}");
    assert_eq!(r.body["fullyQualifiedName"], "p62515_cars");
    assert!(
        r.body["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "year")
    );
    assert_eq!(
        s.post("/crm-object-schemas/v3/schemas", cars())
            .await
            .status,
        409
    );
    let mut bad = cars();
    bad["name"] = json!("bikes");
    bad["requiredProperties"] = json!(["wheels"]);
    assert_eq!(
        s.post("/crm-object-schemas/v3/schemas", bad).await.status,
        400
    );

    // Every name resolves: type id, name, fully qualified name; alias path too.
    for key in [type_id.as_str(), "cars", "p62515_cars"] {
        assert_eq!(
            s.get(&format!("/crm-object-schemas/v3/schemas/{key}"))
                .await
                .status,
            200,
            "{key}"
        );
    }
    assert_eq!(
        s.get("/crm/v3/schemas").await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Objects of the custom type.
    let r = s
        .post(
            "/crm/v3/objects/p62515_cars",
            json!({"properties": {"year": "2020"}}),
        )
        .await;
    assert_eq!(r.status, 400, "model is required");
    let r = s
        .post(
            &format!("/crm/v3/objects/{type_id}"),
            json!({"properties": {"model": "T", "year": "1925", "vin": "V1"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let car = r.body["id"].as_str().unwrap().to_string();
    assert!(r.body["properties"]["hs_createdate"].is_string());
    assert_eq!(
        s.get(&format!("/crm/v3/objects/cars/{car}?properties=model"))
            .await
            .body["properties"]["model"],
        "T"
    );
    assert_eq!(
        s.get("/crm/v3/objects/cars/V1?idProperty=vin").await.body["id"],
        car.as_str()
    );
    let r = s.search("cars", json!({"query": "t"})).await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(
        s.post(
            "/crm/v3/objects/cars",
            json!({"properties": {"model": "X", "year": "soon"}})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.get("/crm/v3/properties/cars/year").await.body["type"],
        "number"
    );

    // Associations to contacts.
    let contact = s.create("contacts", json!({"email": "driver@x.io"})).await;
    let r = s
        .put(
            &format!("/crm/v4/objects/cars/{car}/associations/default/contacts/{contact}"),
            json!(null),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .get(&format!(
            "/crm/v4/objects/contacts/{contact}/associations/{type_id}"
        ))
        .await;
    assert_eq!(
        r.body["results"][0]["toObjectId"]
            .as_u64()
            .unwrap()
            .to_string(),
        car
    );
    let r = s
        .get(&format!(
            "/crm/v3/objects/contacts/{contact}?associations=cars"
        ))
        .await;
    assert_eq!(
        r.body["associations"]["cars"]["results"][0]["id"],
        car.as_str()
    );

    // Patch, then delete (refused while records exist).
    let r = s
        .patch(
            "/crm-object-schemas/v3/schemas/cars",
            json!({"labels": {"singular": "Auto", "plural": "Autos"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["labels"]["singular"], "Auto");
    assert_eq!(
        s.patch(
            "/crm-object-schemas/v3/schemas/cars",
            json!({"requiredProperties": ["nope"]})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        s.delete("/crm-object-schemas/v3/schemas/cars").await.status,
        400
    );
    s.delete(&format!("/crm/v3/objects/cars/{car}")).await;
    assert_eq!(
        s.delete("/crm-object-schemas/v3/schemas/cars").await.status,
        204
    );
    assert_eq!(
        s.get("/crm-object-schemas/v3/schemas/cars").await.status,
        404
    );
    assert_eq!(s.get("/crm/v3/objects/cars").await.status, 400);
}

#[tokio::test]
async fn schema_association_definitions_can_be_added() {
    let s = start().await;
    let r = s.post("/crm/v3/schemas", cars()).await;
    assert_eq!(r.status, 201);
    let type_id = r.body["objectTypeId"].as_str().unwrap().to_string();
    let r = s
        .post(
            "/crm-object-schemas/v3/schemas/cars/associations",
            json!({"fromObjectTypeId": type_id, "toObjectTypeId": "0-2", "name": "car_to_company"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["toObjectTypeId"], "0-2");
    let r = s
        .get(&format!("/crm/v4/associations/{type_id}/companies/labels"))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1);
}
