use serde_json::{Value, json};

use super::{Sim, empty_config, start_with};

fn seeded(
    seed: u64,
    contacts: usize,
    companies: usize,
    deals: usize,
) -> hubsync_sim::hubspot::Config {
    let mut c = empty_config();
    c.seed.seed = seed;
    c.seed.contacts = contacts;
    c.seed.companies = companies;
    c.seed.deals = deals;
    c
}

async fn dump(s: &Sim, t: &str) -> Value {
    s.get(&format!("/_sim/hubspot/portals/62515/objects/{t}"))
        .await
        .body
}

#[tokio::test]
async fn same_seed_gives_identical_data_and_another_seed_differs() {
    let a = start_with(seeded(7, 30, 5, 8)).await;
    let b = start_with(seeded(7, 30, 5, 8)).await;
    let c = start_with(seeded(8, 30, 5, 8)).await;
    for t in ["contacts", "companies", "deals"] {
        assert_eq!(
            dump(&a, t).await,
            dump(&b, t).await,
            "{t} differ for the same seed"
        );
    }
    assert_ne!(dump(&a, "contacts").await, dump(&c, "contacts").await);
    let contacts = dump(&a, "contacts").await;
    assert_eq!(contacts["total"], 30);
    let first = &contacts["results"][0];
    let email = first["properties"]["email"].as_str().unwrap();
    // Contact n is Userflow demo user n: same email and name for the same seed.
    assert_eq!(email, hubsync_sim::userflow::seed::demo_email(7, 1));
    let (first_name, last_name) = hubsync_sim::userflow::seed::demo_person(7, 1);
    assert_eq!(first["properties"]["firstname"], first_name);
    assert_eq!(first["properties"]["lastname"], last_name);
    // Every contact has a primary company.
    assert!(first["associations"]["0-2"][0]["id"].is_string(), "{first}");
    let r = a
        .get(&format!(
            "/crm/v3/objects/contacts/{}?associations=companies",
            first["id"].as_str().unwrap()
        ))
        .await;
    let types: Vec<&str> = r.body["associations"]["companies"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"contact_to_company"));
    // Deals are tied to companies; seeded data is searchable immediately (default lag aside).
    let deal = &dump(&a, "deals").await["results"][0];
    assert!(deal["associations"]["0-2"].is_array());
    assert_eq!(a.search("contacts", json!({})).await.body["total"], 30);
    // Both portals are seeded.
    let r = a
        .call_as(
            Some("pat-sim-62516"),
            reqwest::Method::GET,
            "/crm/v3/objects/companies?limit=100",
            None,
        )
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn ten_thousand_contacts_seed_and_page() {
    let s = start_with(seeded(42, 10_000, 200, 300)).await;
    let r = s.search("contacts", json!({"filterGroups": [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}]})).await;
    assert!(r.body["total"].as_u64().unwrap() > 500);
    let r = s.get("/crm/v3/objects/contacts?limit=100&after=9000").await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn custom_objects_seed_a_projects_schema() {
    let mut c = seeded(1, 5, 3, 0);
    c.seed.custom_objects = true;
    let s = start_with(c).await;
    let r = s.get("/crm-object-schemas/v3/schemas/projects").await;
    assert_eq!(r.status, 200);
    let r = s
        .get("/crm/v3/objects/projects?properties=project_name")
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 3);
    assert!(
        r.body["results"][0]["properties"]["project_name"]
            .as_str()
            .unwrap()
            .contains("rollout")
    );
}
