use std::time::Duration;

use serde_json::{Value, json};

use super::{Sim, empty_config, start, start_with};

fn f(prop: &str, op: &str, value: Value) -> Value {
    json!({"propertyName": prop, "operator": op, "value": value})
}

fn one(filter: Value) -> Value {
    json!({"filterGroups": [{"filters": [filter]}], "limit": 100})
}

async fn ids(s: &Sim, t: &str, body: Value) -> Vec<String> {
    let r = s.search(t, body.clone()).await;
    assert_eq!(r.status, 200, "{body}: {}", r.body);
    r.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_string())
        .collect()
}

async fn people(s: &Sim) -> Vec<String> {
    let mut v = Vec::new();
    for (email, first, stage) in [
        ("ann@example.com", "Ann", "lead"),
        ("bob@example.com", "Bob", "customer"),
        ("cy@other.org", "Cy", "lead"),
        ("dee@other.org", "", "subscriber"),
    ] {
        let mut props = json!({"email": email, "lifecyclestage": stage});
        if !first.is_empty() {
            props["firstname"] = json!(first);
        }
        v.push(s.create("contacts", props).await);
    }
    v
}

#[tokio::test]
async fn string_and_enumeration_operators() {
    let s = start().await;
    let p = people(&s).await;
    assert_eq!(
        ids(&s, "contacts", one(f("firstname", "EQ", json!("ANN")))).await,
        vec![p[0].clone()],
        "EQ is case-insensitive"
    );
    assert_eq!(
        ids(&s, "contacts", one(f("firstname", "NEQ", json!("ann"))))
            .await
            .len(),
        3
    );
    assert_eq!(
        ids(
            &s,
            "contacts",
            one(f("lifecyclestage", "EQ", json!("lead")))
        )
        .await,
        vec![p[0].clone(), p[2].clone()]
    );
    assert!(
        ids(
            &s,
            "contacts",
            one(f("lifecyclestage", "EQ", json!("LEAD")))
        )
        .await
        .is_empty(),
        "enumerations are case-sensitive"
    );
    let r = ids(
        &s,
        "contacts",
        one(json!({"propertyName": "firstname", "operator": "IN", "values": ["ann", "bob"]})),
    )
    .await;
    assert_eq!(r, vec![p[0].clone(), p[1].clone()]);
    let r = ids(
        &s,
        "contacts",
        one(json!({"propertyName": "firstname", "operator": "IN", "values": ["Ann"]})),
    )
    .await;
    assert!(r.is_empty(), "IN on strings needs lower-case values");
    let r = ids(&s, "contacts", one(json!({"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["lead", "customer"]}))).await;
    assert_eq!(r, vec![p[3].clone()]);
    assert_eq!(
        ids(
            &s,
            "contacts",
            one(json!({"propertyName": "firstname", "operator": "HAS_PROPERTY"}))
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        ids(
            &s,
            "contacts",
            one(json!({"propertyName": "firstname", "operator": "NOT_HAS_PROPERTY"}))
        )
        .await,
        vec![p[3].clone()]
    );
    assert_eq!(
        ids(
            &s,
            "contacts",
            one(f("email", "CONTAINS_TOKEN", json!("*@other.org")))
        )
        .await,
        vec![p[2].clone(), p[3].clone()]
    );
    assert_eq!(
        ids(
            &s,
            "contacts",
            one(f("email", "NOT_CONTAINS_TOKEN", json!("*@other.org")))
        )
        .await
        .len(),
        2
    );
    // AND within a group, OR across groups.
    let and = json!({"filterGroups": [{"filters": [f("lifecyclestage", "EQ", json!("lead")), f("email", "CONTAINS_TOKEN", json!("*.org"))]}]});
    assert_eq!(ids(&s, "contacts", and).await, vec![p[2].clone()]);
    let or = json!({"filterGroups": [{"filters": [f("firstname", "EQ", json!("ann"))]}, {"filters": [f("firstname", "EQ", json!("bob"))]}]});
    assert_eq!(ids(&s, "contacts", or).await.len(), 2);
    // Free text over default fields.
    assert_eq!(
        ids(&s, "contacts", json!({"query": "other.org"}))
            .await
            .len(),
        2
    );
    assert_eq!(
        ids(&s, "contacts", json!({"query": "bob"})).await,
        vec![p[1].clone()]
    );
    // Unknown operator.
    assert_eq!(
        s.search("contacts", one(f("email", "LIKE", json!("x"))))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn numeric_and_date_comparisons_sorting_and_default_properties() {
    let s = start().await;
    let mut c = Vec::new();
    for (name, n, close) in [
        ("A", 5, "2024-01-01"),
        ("B", 50, "2024-06-01"),
        ("C", 500, "2025-01-01"),
    ] {
        c.push(
            s.create(
                "companies",
                json!({"name": name, "numberofemployees": n.to_string()}),
            )
            .await,
        );
        s.create("deals", json!({"dealname": name, "dealstage": "closedwon", "pipeline": "default", "closedate": close, "amount": (n * 10).to_string()})).await;
    }
    // Numeric, not lexicographic: "50" < "500" but also "5" < "50".
    assert_eq!(
        ids(
            &s,
            "companies",
            one(f("numberofemployees", "GT", json!("9")))
        )
        .await,
        vec![c[1].clone(), c[2].clone()]
    );
    assert_eq!(
        ids(
            &s,
            "companies",
            one(f("numberofemployees", "LTE", json!(50)))
        )
        .await,
        vec![c[0].clone(), c[1].clone()]
    );
    let between = one(
        json!({"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "10", "highValue": "500"}),
    );
    assert_eq!(
        ids(&s, "companies", between).await,
        vec![c[1].clone(), c[2].clone()]
    );
    let r = s
        .search("deals", one(f("closedate", "GTE", json!("1717200000000"))))
        .await;
    assert_eq!(
        r.body["total"], 2,
        "datetime compared as time, ms vs ISO: {}",
        r.body
    );
    let r = s
        .search(
            "deals",
            one(f("closedate", "LT", json!("2024-06-01T00:00:00Z"))),
        )
        .await;
    assert_eq!(r.body["total"], 1);
    // Sort descending by a number.
    let r = ids(
        &s,
        "companies",
        json!({"sorts": [{"propertyName": "numberofemployees", "direction": "DESCENDING"}]}),
    )
    .await;
    assert_eq!(r, vec![c[2].clone(), c[1].clone(), c[0].clone()]);
    assert_eq!(
        ids(&s, "companies", json!({})).await,
        c,
        "oldest created first without sorts"
    );
    let r = s.search("companies", json!({"sorts": [{"propertyName": "name", "direction": "ASCENDING"}, {"propertyName": "domain", "direction": "ASCENDING"}]})).await;
    assert_eq!(r.status, 400, "one sort rule only");
    // Default properties per type.
    let r = s.search("deals", json!({"limit": 1})).await;
    let props = r.body["results"][0]["properties"].as_object().unwrap();
    for k in [
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ] {
        assert!(props.contains_key(k), "{k} missing: {props:?}");
    }
    let r = s
        .search(
            "companies",
            json!({"properties": ["numberofemployees"], "limit": 1}),
        )
        .await;
    let props = r.body["results"][0]["properties"].as_object().unwrap();
    assert!(props.contains_key("numberofemployees") && !props.contains_key("name"));
}

#[tokio::test]
async fn paging_total_cap_and_limits() {
    let s = start().await;
    for i in 0..25 {
        s.create("contacts", json!({"email": format!("s{i}@x.io")}))
            .await;
    }
    let r = s.search("contacts", json!({})).await;
    assert_eq!(r.body["total"], 25);
    assert_eq!(
        r.body["results"].as_array().unwrap().len(),
        10,
        "default page 10"
    );
    assert_eq!(r.body["paging"]["next"]["after"], "10");
    let r = s
        .search("contacts", json!({"after": "20", "limit": 10}))
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 5);
    assert!(r.body.get("paging").is_none(), "last page has no paging");
    assert_eq!(
        s.search("contacts", json!({"limit": 200})).await.status,
        200
    );
    assert_eq!(
        s.search("contacts", json!({"limit": 201})).await.status,
        400
    );
    assert_eq!(
        s.search("contacts", json!({"after": "9990"})).await.status,
        200
    );
    assert_eq!(
        s.search("contacts", json!({"after": "10000"})).await.status,
        400
    );

    let filt = || f("email", "HAS_PROPERTY", Value::Null);
    let groups = |g: usize, per: usize| json!({"filterGroups": (0..g).map(|_| json!({"filters": (0..per).map(|_| filt()).collect::<Vec<_>>()})).collect::<Vec<_>>()});
    assert_eq!(s.search("contacts", groups(5, 3)).await.status, 200);
    assert_eq!(
        s.search("contacts", groups(6, 1)).await.status,
        400,
        "6 groups"
    );
    assert_eq!(s.search("contacts", groups(1, 6)).await.status, 200);
    assert_eq!(
        s.search("contacts", groups(1, 7)).await.status,
        400,
        "7 filters in a group"
    );
    assert_eq!(
        s.search("contacts", groups(4, 5)).await.status,
        400,
        "20 filters in total"
    );
    let long = "x".repeat(3000);
    let r = s.search("contacts", json!({"query": long})).await;
    assert_eq!(r.status, 400, "body over 3,000 characters");
    assert_eq!(r.body["category"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn archived_never_appear_and_association_filters_work() {
    let s = start().await;
    let c1 = s.create("contacts", json!({"email": "k1@x.io"})).await;
    let c2 = s.create("contacts", json!({"email": "k2@x.io"})).await;
    let d = s
        .create(
            "deals",
            json!({"dealname": "D", "dealstage": "closedwon", "pipeline": "default"}),
        )
        .await;
    let r = s
        .put(
            &format!("/crm/v4/objects/deals/{d}/associations/default/contacts/{c1}"),
            json!(null),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ids(&s, "deals", one(f("associations.contact", "EQ", json!(c1)))).await,
        vec![d.clone()]
    );
    assert!(
        ids(&s, "deals", one(f("associations.contact", "EQ", json!(c2))))
            .await
            .is_empty()
    );
    s.delete(&format!("/crm/v3/objects/contacts/{c2}")).await;
    assert_eq!(ids(&s, "contacts", json!({})).await, vec![c1]);
}

#[tokio::test]
async fn writes_become_searchable_after_the_index_lag() {
    let mut c = empty_config();
    c.crm.search_index_lag_ms = 400;
    let s = start_with(c).await;
    let id = s
        .create("contacts", json!({"email": "lag@x.io", "firstname": "Old"}))
        .await;
    assert_eq!(
        s.search("contacts", json!({})).await.body["total"],
        0,
        "not indexed yet"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.search("contacts", json!({})).await.body["total"], 1);
    s.patch(
        &format!("/crm/v3/objects/contacts/{id}"),
        json!({"properties": {"firstname": "New"}}),
    )
    .await;
    let r = s
        .search("contacts", one(f("firstname", "EQ", json!("new"))))
        .await;
    assert_eq!(r.body["total"], 0, "update not visible yet");
    let r = s
        .search("contacts", one(f("firstname", "EQ", json!("old"))))
        .await;
    assert_eq!(
        r.body["results"][0]["properties"]["firstname"], "Old",
        "search serves the indexed version"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.search("contacts", one(f("firstname", "EQ", json!("new"))))
            .await
            .body["total"],
        1
    );
    // The default lag is 2 s; the control route flushes it.
    s.crm_knobs(json!({"search_index_lag_ms": 60_000})).await;
    s.create("contacts", json!({"email": "lag2@x.io"})).await;
    assert_eq!(s.search("contacts", json!({})).await.body["total"], 1);
    assert_eq!(
        s.post("/_sim/hubspot/portals/62515/search/flush", json!({}))
            .await
            .status,
        204
    );
    assert_eq!(s.search("contacts", json!({})).await.body["total"], 2);
}

#[tokio::test]
async fn search_has_its_own_per_second_limit_and_no_rate_headers() {
    let mut c = empty_config();
    c.rate_limits.search_rps = 5;
    c.rate_limits.burst_max = Some(3);
    let s = start_with(c).await;
    let r = s.search("contacts", json!({})).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("x-hubspot-ratelimit-remaining").is_none(),
        "no rate-limit headers on search"
    );
    let mut limited = None;
    for _ in 0..10 {
        let r = s.search("contacts", json!({})).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 429 within 11 searches in well under a second");
    assert_eq!(r.body["message"], "You have reached your secondly limit.");
    assert_eq!(r.body["errorType"], "RATE_LIMIT");
    assert!(r.body.get("policyName").is_none());
    // Searches do not use the 10-second burst (3 here).
    assert_eq!(s.get("/crm/v3/objects/contacts").await.status, 200);
}
