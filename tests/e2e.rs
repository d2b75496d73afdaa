//! End to end: the real roles as separate processes (api, workers, scheduler) against Redis,
//! Postgres and both simulators, one test per behaviour the product promises. Changes are made
//! the way people make them (in HubSpot with a private-app token, in Userflow with the API),
//! and arrive through the simulators' signed webhooks.
#![allow(clippy::unwrap_used)]

mod harness;

use std::time::Duration;

use harness::cluster::{Cluster, ClusterOptions, PORTAL, UF_ENV, UF_KEY};
use reqwest::Method;
use serde_json::{Value, json};

/// How long a change may take to cross in a test (the product promises seconds; CI is slow).
const CROSS: Duration = Duration::from_secs(30);

fn unique_value(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_joins_the_cluster() {
    let c = Cluster::start(ClusterOptions::default()).await;
    let roles = c
        .eventually("api, worker and scheduler present", CROSS, || async {
            let (s, body) = c.op(Method::GET, "/cluster", None).await;
            assert_eq!(s, 200, "{body}");
            let text = body.to_string();
            (text.contains("\"api\"")
                && text.contains("\"worker\"")
                && text.contains("\"scheduler\""))
            .then_some(body)
        })
        .await;
    assert!(roles.to_string().contains("worker"));
}

/// Contacts ↔ users by email: `jobtitle` and the company's `name` to Userflow, `plan` to
/// HubSpot, and the given events streamed.
fn contacts_users(events: Value) -> Value {
    json!({
        "hubspot_object_type": "contacts",
        "userflow_object_type": "user",
        "match": { "hubspot_property": "email", "userflow_attribute": "email" },
        "fields_to_userflow": [
            { "hubspot": "jobtitle", "userflow": "job_title" },
            { "hubspot": "companies.name", "userflow": "company_name" }
        ],
        "fields_to_hubspot": [ { "userflow": "plan", "type": "string" } ],
        "events": events
    })
}

/// A cluster with one connected integration and the contacts ↔ users mapping, its HubSpot
/// schema in place.
async fn connected(events: Value) -> (Cluster, String) {
    connected_with(events, ClusterOptions::default()).await
}

async fn connected_with(events: Value, opts: ClusterOptions) -> (Cluster, String) {
    let c = Cluster::start(opts).await;
    let id = c.connected_integration("e2e", UF_KEY, UF_ENV).await;
    c.mapping(&id, contacts_users(events)).await;
    c.eventually("userflow_user_plan created in HubSpot", CROSS, || async {
        let (s, _) = c
            .http_json(
                Method::GET,
                &format!(
                    "{}/crm/v3/properties/contacts/userflow_user_plan",
                    c.hubspot
                ),
                harness::cluster::PAT,
                Value::Null,
            )
            .await;
        (s == 200).then_some(())
    })
    .await;
    (c, id)
}

fn email_of(n: u64) -> String {
    // Demo data of seed 42 (docs/simulators.md §3): the first people exist in both systems.
    match n {
        1 => "donald.turing1@acme.example",
        2 => "hedy.allen2@globex.example",
        3 => "john.wirth3@initech.example",
        4 => "katherine.liskov4@umbrella.example",
        5 => "niklaus.backus5@hooli.example",
        6 => "ada.hamilton6@acme.example",
        _ => panic!("no email for {n}"),
    }
    .to_string()
}

async fn contact_id(c: &Cluster, email: &str) -> String {
    let contact = c
        .hs_object("contacts", email, &["email"], Some("email"))
        .await
        .expect("seeded contact");
    contact["id"].as_str().unwrap().to_string()
}

async fn user_attr(c: &Cluster, user: &str, attr: &str) -> Option<Value> {
    let u = c.uf_object("users", user).await?;
    let v = u["attributes"][attr].clone();
    (!v.is_null()).then_some(v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_change_reaches_the_user_matched_by_email_with_its_company_name() {
    let (c, _) = connected(json!({ "mode": "off" })).await;
    let id = contact_id(&c, &email_of(1)).await;
    let title = unique_value("Chief Tester");
    c.hs_update("contacts", &id, json!({ "jobtitle": title }))
        .await;
    c.eventually("job_title on u_0001", CROSS, || async {
        (user_attr(&c, "u_0001", "job_title").await == Some(json!(title))).then_some(())
    })
    .await;
    // The contact's primary company's name travels with it.
    let company = c
        .eventually("company name on u_0001", CROSS, || async {
            user_attr(&c, "u_0001", "company_name").await
        })
        .await;
    assert!(company.as_str().is_some_and(|s| !s.is_empty()), "{company}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userflow_attribute_reaches_hubspot_through_the_created_property() {
    let (c, _) = connected(json!({ "mode": "off" })).await;
    let plan = unique_value("enterprise");
    let (s, body) = c
        .uf(
            Method::POST,
            "/users",
            Some(UF_KEY),
            Some(json!({ "id": "u_0002", "attributes": { "plan": plan } })),
        )
        .await;
    assert!(s == 200 || s == 201, "{s} {body}");
    let email = email_of(2);
    c.eventually("userflow_user_plan on contact 2", CROSS, || async {
        let contact = c
            .hs_object("contacts", &email, &["userflow_user_plan"], Some("email"))
            .await?;
        (contact["properties"]["userflow_user_plan"] == json!(plan)).then_some(())
    })
    .await;
}

async fn timeline_events(c: &Cluster, contact: &str) -> Vec<Value> {
    let (_, body) = c
        .hs(
            Method::GET,
            &format!("/_sim/hubspot/portals/{PORTAL}/timeline/events?objectId={contact}"),
            None,
        )
        .await;
    body["results"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_events_land_on_the_contact_timeline_once_with_their_attributes() {
    let (c, _) = connected(json!({ "mode": "selected", "names": ["flow_started"] })).await;
    let contact = contact_id(&c, &email_of(3)).await;
    for (name, attrs) in [
        (
            "checklist_task_completed",
            json!({ "task_name": "not streamed" }),
        ),
        ("flow_started", json!({ "flow_name": "Onboarding tour" })),
    ] {
        let (s, body) = c
            .uf(
                Method::POST,
                "/events",
                Some(UF_KEY),
                Some(json!({ "user_id": "u_0003", "name": name, "attributes": attrs })),
            )
            .await;
        assert!(s == 200 || s == 201, "{s} {body}");
    }
    let events = c
        .eventually("flow_started on the timeline", CROSS, || async {
            let evs = timeline_events(&c, &contact).await;
            (!evs.is_empty()).then_some(evs)
        })
        .await;
    // Wait until the simulator has delivered both notifications, then nothing else came.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events_after = timeline_events(&c, &contact).await;
    assert_eq!(events_after.len(), 1, "{events_after:#?}");
    let text = events[0].to_string();
    assert!(text.contains("Onboarding tour"), "{text}");
    assert!(!text.contains("not streamed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_only_in_hubspot_is_not_created_in_userflow() {
    let (c, id) = connected(json!({ "mode": "off" })).await;
    // Contacts past the 20 seeded users exist only in HubSpot.
    let (_, page) = c
        .http_json(
            Method::GET,
            &format!(
                "{}/crm/v3/objects/contacts?limit=100&properties=email",
                c.hubspot
            ),
            harness::cluster::PAT,
            Value::Null,
        )
        .await;
    let contact = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["properties"]["email"]
                .as_str()
                .unwrap_or("")
                .contains("30@")
        })
        .cloned()
        .expect("person 30 is a contact");
    let hs_id = contact["id"].as_str().unwrap().to_string();
    let email = contact["properties"]["email"].as_str().unwrap().to_string();
    let users_before = c
        .uf(Method::GET, "/users?limit=100", Some(UF_KEY), None)
        .await
        .1;
    c.hs_update(
        "contacts",
        &hs_id,
        json!({ "jobtitle": unique_value("Only here") }),
    )
    .await;
    let query = format!("outcome=skipped&hubspot_object_id={hs_id}");
    let row = c
        .eventually("a skipped row for person 30", CROSS, || async {
            c.sync_log(&id, &query).await.into_iter().next()
        })
        .await;
    assert!(
        row["reason"].as_str().unwrap_or("").contains("not_in_both"),
        "{row}"
    );
    let users_after = c
        .uf(Method::GET, "/users?limit=100", Some(UF_KEY), None)
        .await
        .1;
    assert_eq!(
        users_before["data"].as_array().map(Vec::len),
        users_after["data"].as_array().map(Vec::len)
    );
    assert!(!users_after.to_string().contains(&email));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_mismatch_is_refused_at_save_naming_the_field_and_both_types() {
    let c = Cluster::start(ClusterOptions {
        scheduler: false,
        ..Default::default()
    })
    .await;
    let id = c.connected_integration("e2e", UF_KEY, UF_ENV).await;
    let (s, body) = c
        .op(
            Method::POST,
            &format!("/integrations/{id}/mappings"),
            Some(json!({
                "hubspot_object_type": "contacts",
                "userflow_object_type": "user",
                "match": { "hubspot_property": "email", "userflow_attribute": "email" },
                "fields_to_userflow": [ { "hubspot": "jobtitle", "userflow": "signed_up_at" } ],
                "events": { "mode": "off" }
            })),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("jobtitle") && text.contains("signed_up_at"),
        "{text}"
    );
    assert!(
        text.contains("string") && text.contains("datetime"),
        "{text}"
    );
    let (_, list) = c
        .op(Method::GET, &format!("/integrations/{id}/mappings"), None)
        .await;
    assert_eq!(list["mappings"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_stops_sync_and_streaming_at_once() {
    // No scheduler: this test is about webhook traffic, not a full sync running alongside.
    let (c, id) = connected_with(
        json!({ "mode": "all" }),
        ClusterOptions {
            scheduler: false,
            ..Default::default()
        },
    )
    .await;
    let contact = contact_id(&c, &email_of(1)).await;
    // First prove the pipe works, so the silence afterwards means something.
    let before = unique_value("Before");
    c.hs_update("contacts", &contact, json!({ "jobtitle": before }))
        .await;
    c.eventually("job_title before disconnect", CROSS, || async {
        (user_attr(&c, "u_0001", "job_title").await == Some(json!(before))).then_some(())
    })
    .await;

    let (s, body) = c
        .op(
            Method::POST,
            &format!("/integrations/{id}/hubspot/disconnect"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "disconnected", "{body}");

    let after = unique_value("After");
    c.hs_update("contacts", &contact, json!({ "jobtitle": after }))
        .await;
    let plan = unique_value("plan-after");
    c.uf(
        Method::POST,
        "/users",
        Some(UF_KEY),
        Some(json!({ "id": "u_0001", "attributes": { "plan": plan } })),
    )
    .await;
    c.uf(
        Method::POST,
        "/events",
        Some(UF_KEY),
        Some(json!({ "user_id": "u_0001", "name": "flow_started", "attributes": {} })),
    )
    .await;
    // Both simulators deliver (the api answers 2xx so they stop retrying) …
    c.eventually("HubSpot delivered the change", CROSS, || async {
        let (_, d) = c
            .hs(Method::GET, "/_sim/hubspot/webhooks/deliveries", None)
            .await;
        (d["stats"]["in_flight"] == 0 && d["stats"]["delivered"].as_u64() >= Some(2)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // … and nothing crossed.
    assert_eq!(
        user_attr(&c, "u_0001", "job_title").await,
        Some(json!(before))
    );
    let hs = c
        .hs_object("contacts", &contact, &["userflow_user_plan"], None)
        .await
        .unwrap();
    assert_ne!(hs["properties"]["userflow_user_plan"], json!(plan), "{hs}");
    assert!(timeline_events(&c, &contact).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_authorization_pauses_jobs_and_reconnect_resumes_them() {
    let (c, id) = connected(json!({ "mode": "off" })).await;
    // The app is uninstalled in HubSpot: every token of the grant stops working.
    let (s, body) = c
        .hs(
            Method::DELETE,
            &format!("/_sim/hubspot/portals/{PORTAL}/apps/54321/install"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let plan = unique_value("paused");
    c.uf(
        Method::POST,
        "/users",
        Some(UF_KEY),
        Some(json!({ "id": "u_0005", "attributes": { "plan": plan } })),
    )
    .await;
    let status = c
        .eventually("authorization_expired", CROSS, || async {
            let (_, st) = c
                .op(Method::GET, &format!("/integrations/{id}/status"), None)
                .await;
            (st["status"] == "authorization_expired").then_some(st)
        })
        .await;
    assert!(
        status.to_string().to_lowercase().contains("reconnect"),
        "{status}"
    );
    // The job waits without using its attempts: nothing is dead.
    let (_, q) = c.op(Method::GET, "/queues/realtime", None).await;
    assert_eq!(q["counts"]["dead"], 0, "{q}");

    // Reconnect: authorize again; the callback resumes the parked job.
    let (s, auth) = c
        .op(
            Method::POST,
            &format!("/integrations/{id}/hubspot/authorize"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{auth}");
    let resp = c
        .http
        .get(auth["authorize_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    let email = email_of(5);
    c.eventually("the paused change lands after reconnect", CROSS, || async {
        let contact = c
            .hs_object("contacts", &email, &["userflow_user_plan"], Some("email"))
            .await?;
        (contact["properties"]["userflow_user_plan"] == json!(plan)).then_some(())
    })
    .await;
}

/// Reads the simulator's webhook sender knobs, lets `change` edit them, writes them back.
async fn delivery_knobs(c: &Cluster, path: &str, change: impl FnOnce(&mut Value)) {
    let (s, mut knobs) = c.hs_or_uf(Method::GET, path, None).await;
    assert_eq!(s, 200, "{knobs}");
    change(&mut knobs);
    let (s, body) = c.hs_or_uf(Method::PUT, path, Some(knobs)).await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_reordered_and_delayed_webhooks_converge_to_the_latest_values() {
    let (c, _) = connected(json!({ "mode": "off" })).await;
    for path in [
        "/_sim/hubspot/webhooks/knobs",
        "/_sim/userflow/webhooks/knobs",
    ] {
        delivery_knobs(&c, path, |k| {
            k["duplicate_rate"] = json!(1.0);
            k["reorder"] = json!(true);
            k["reorder_window_ms"] = json!(400);
            k["delay_ms"] = json!(100);
        })
        .await;
    }
    let contact = contact_id(&c, &email_of(4)).await;
    let mut last_title = String::new();
    let mut last_plan = String::new();
    for i in 0..6 {
        last_title = unique_value(&format!("title{i}"));
        c.hs_update("contacts", &contact, json!({ "jobtitle": last_title }))
            .await;
        last_plan = unique_value(&format!("plan{i}"));
        c.uf(
            Method::POST,
            "/users",
            Some(UF_KEY),
            Some(json!({ "id": "u_0004", "attributes": { "plan": last_plan } })),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // Every delivery (and its duplicate) has arrived and been handled …
    c.eventually("both senders idle", CROSS, || async {
        let (_, h) = c
            .hs(Method::GET, "/_sim/hubspot/webhooks/deliveries", None)
            .await;
        let (_, u) = c
            .uf(
                Method::GET,
                "/_sim/userflow/webhooks/deliveries",
                None,
                None,
            )
            .await;
        (h["stats"]["in_flight"] == 0
            && u["stats"]["in_flight"] == 0
            && h["stats"]["duplicated"].as_u64() > Some(0)
            && u["stats"]["duplicated"].as_u64() > Some(0))
        .then_some(())
    })
    .await;
    // … and both sides hold the last value, whatever order the webhooks came in.
    c.eventually("latest values on both sides", CROSS, || async {
        let t = user_attr(&c, "u_0004", "job_title").await;
        let h = c
            .hs_object("contacts", &contact, &["userflow_user_plan"], None)
            .await?;
        (t == Some(json!(last_title)) && h["properties"]["userflow_user_plan"] == json!(last_plan))
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        user_attr(&c, "u_0004", "job_title").await,
        Some(json!(last_title))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_way_soak_writes_no_echoes() {
    // No scheduler: its first full sync would add legitimate writes of its own.
    let (c, id) = connected_with(
        json!({ "mode": "off" }),
        ClusterOptions {
            scheduler: false,
            ..Default::default()
        },
    )
    .await;
    let people = [1u64, 2, 3];
    let mut contacts = Vec::new();
    for n in people {
        contacts.push(contact_id(&c, &email_of(n)).await);
    }
    let rounds = 4;
    let mut last = Vec::new();
    for r in 0..rounds {
        last.clear();
        for (i, n) in people.iter().enumerate() {
            let title = unique_value(&format!("t{r}"));
            let plan = unique_value(&format!("p{r}"));
            c.hs_update("contacts", &contacts[i], json!({ "jobtitle": title }))
                .await;
            c.uf(
                Method::POST,
                "/users",
                Some(UF_KEY),
                Some(json!({ "id": format!("u_{n:04}"), "attributes": { "plan": plan } })),
            )
            .await;
            last.push((title, plan));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (i, n) in people.iter().enumerate() {
        let (title, plan) = last[i].clone();
        let user = format!("u_{n:04}");
        let contact = contacts[i].clone();
        c.eventually("both sides settled", CROSS, || async {
            let t = user_attr(&c, &user, "job_title").await;
            let h = c
                .hs_object("contacts", &contact, &["userflow_user_plan"], None)
                .await?;
            (t == Some(json!(title)) && h["properties"]["userflow_user_plan"] == json!(plan))
                .then_some(())
        })
        .await;
    }
    // Quiet for a while: a ping-pong would keep writing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let synced = c.sync_log(&id, "outcome=synced&limit=500").await;
    let to_hubspot = synced
        .iter()
        .filter(|r| r["direction"] == "userflow_to_hubspot")
        .count();
    let to_userflow = synced
        .iter()
        .filter(|r| r["direction"] == "hubspot_to_userflow")
        .count();
    let changes = rounds * people.len();
    assert!(
        to_hubspot <= changes,
        "{to_hubspot} writes to HubSpot for {changes} Userflow changes\n{synced:#?}"
    );
    assert!(
        to_userflow <= changes,
        "{to_userflow} writes to Userflow for {changes} HubSpot changes\n{synced:#?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = c.sync_log(&id, "outcome=synced&limit=500").await;
    assert_eq!(
        again.len(),
        synced.len(),
        "writes continued after the changes stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_matched_by_an_id_property_reaches_its_user() {
    let c = Cluster::start(ClusterOptions::default()).await;
    let id = c.connected_integration("e2e", UF_KEY, UF_ENV).await;
    c.hs_text_property("contacts", "app_user_id", "contactinformation")
        .await;
    // Person 7's contact carries the user id of person 6's user: the id decides, not the email.
    let contact = contact_id(&c, &email_of(6)).await;
    c.hs_update("contacts", &contact, json!({ "app_user_id": "u_0007" }))
        .await;
    c.mapping(
        &id,
        json!({
            "hubspot_object_type": "contacts",
            "userflow_object_type": "user",
            "match": { "hubspot_property": "app_user_id", "userflow_attribute": "id" },
            "fields_to_userflow": [ { "hubspot": "jobtitle", "userflow": "job_title" } ],
            "events": { "mode": "off" }
        }),
    )
    .await;
    let title = unique_value("By id");
    // Subscriptions follow the saved mapping; retry the change until it is delivered.
    c.eventually("job_title on u_0007", CROSS, || async {
        c.hs_update("contacts", &contact, json!({ "jobtitle": title }))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        (user_attr(&c, "u_0007", "job_title").await == Some(json!(title))).then_some(())
    })
    .await;
    assert_ne!(
        user_attr(&c, "u_0006", "job_title").await,
        Some(json!(title))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_matched_by_group_id_reaches_its_group() {
    let c = Cluster::start(ClusterOptions::default()).await;
    let id = c.connected_integration("e2e", UF_KEY, UF_ENV).await;
    c.hs_text_property("companies", "app_group_id", "companyinformation")
        .await;
    let (_, page) = c
        .http_json(
            Method::GET,
            &format!("{}/crm/v3/objects/companies?limit=1", c.hubspot),
            harness::cluster::PAT,
            Value::Null,
        )
        .await;
    let company = page["results"][0]["id"].as_str().unwrap().to_string();
    c.hs_update("companies", &company, json!({ "app_group_id": "g_001" }))
        .await;
    c.mapping(
        &id,
        json!({
            "hubspot_object_type": "companies",
            "userflow_object_type": "group",
            "match": { "hubspot_property": "app_group_id", "userflow_attribute": "id" },
            "fields_to_userflow": [ { "hubspot": "city", "userflow": "hq_city" } ],
            "events": { "mode": "off" }
        }),
    )
    .await;
    let city = unique_value("Springfield");
    c.eventually("hq_city on g_001", CROSS, || async {
        c.hs_update("companies", &company, json!({ "city": city }))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let g = c.uf_object("groups", "g_001").await?;
        (g["attributes"]["hq_city"] == json!(city)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webhooks_get_clear_errors_and_queue_nothing() {
    use hubsync_core::signature::hubspot::sign_v3;
    let c = Cluster::start(ClusterOptions {
        scheduler: false,
        workers: 0,
        ..Default::default()
    })
    .await;
    let url = format!("{}/webhooks/hubspot", c.api_url);
    let post = |body: Vec<u8>, signed: bool| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .to_string();
        let sig = if signed {
            sign_v3(harness::cluster::CLIENT_SECRET, "POST", &url, &body, &now)
        } else {
            "bm90IGEgc2lnbmF0dXJl".to_string()
        };
        c.http
            .post(&url)
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", sig)
            .header("X-HubSpot-Request-Timestamp", now)
            .body(body)
    };
    let event = json!([{ "eventId": 1, "subscriptionId": 1, "portalId": 999_999,
        "appId": 54321, "occurredAt": 1, "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0, "objectId": 1, "propertyName": "jobtitle", "propertyValue": "x",
        "changeSource": "CRM" }]);
    let body = serde_json::to_vec(&event).unwrap();

    let r = post(body.clone(), false).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["code"].is_string() && err["message"].is_string(),
        "{err}"
    );

    let r = post(b"[{not json".to_vec(), true).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Just over the 1 MiB limit: small enough that the socket buffers take the rest of the
    // body while the api answers early.
    let r = post(vec![b' '; 1024 * 1024 + 64 * 1024], true)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);

    // An unknown portal is answered 2xx so HubSpot stops retrying, and nothing is queued.
    let r = post(body, true).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ok: Value = r.json().await.unwrap();
    assert_eq!(ok["queued"], 0, "{ok}");
    let (_, q) = c.op(Method::GET, "/queues/realtime", None).await;
    assert_eq!(q["counts"]["waiting"], 0, "{q}");
    assert_eq!(q["counters"]["enqueued"], 0, "{q}");

    let r = c
        .http
        .post(format!(
            "{}/webhooks/userflow/{}",
            c.api_url,
            uuid::Uuid::new_v4()
        ))
        .header("Userflow-Signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_on_demand_reports_progress_and_syncs_every_pair() {
    let (c, id) = connected_with(
        json!({ "mode": "off" }),
        ClusterOptions {
            scheduler: false,
            ..Default::default()
        },
    )
    .await;
    let (s, run) = c
        .op(Method::POST, &format!("/integrations/{id}/full-sync"), None)
        .await;
    assert_eq!(s, 202, "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    let (s, again) = c
        .op(Method::POST, &format!("/integrations/{id}/full-sync"), None)
        .await;
    assert!(s == 409 || s == 202, "{again}");
    let done = c
        .eventually("the run completes", CROSS, || async {
            let (_, p) = c
                .op(
                    Method::GET,
                    &format!("/integrations/{id}/full-syncs/{run_id}"),
                    None,
                )
                .await;
            (p["status"] == "completed").then_some(p)
        })
        .await;
    // Seed 42 defaults: 20 users, all of whom are also contacts.
    assert_eq!(done["matched"], 20, "{done}");
    assert_eq!(done["percent"].as_f64(), Some(100.0), "{done}");
    // Values crossed both ways for a person nobody touched.
    let email = email_of(6);
    let contact = c
        .hs_object("contacts", &email, &["jobtitle"], Some("email"))
        .await
        .unwrap();
    let title = contact["properties"]["jobtitle"].clone();
    let plan = c.uf_object("users", "u_0006").await.unwrap()["attributes"]["plan"].clone();
    c.eventually("person 6 synced both ways", CROSS, || async {
        let t = user_attr(&c, "u_0006", "job_title").await;
        let h = c
            .hs_object("contacts", &email, &["userflow_user_plan"], Some("email"))
            .await?;
        (t == Some(title.clone()) && h["properties"]["userflow_user_plan"] == plan).then_some(())
    })
    .await;
}
