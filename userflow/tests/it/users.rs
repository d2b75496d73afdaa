use futures::TryStreamExt;
use hubsync_userflow::models::{AttributeValue, DataType};
use hubsync_userflow::requests::users::{self, GroupInput, MembershipInput};
use hubsync_userflow::{Error, Request};
use serde_json::json;

use crate::Sim;

#[tokio::test]
async fn users_get_seeded() {
    let sim = Sim::start().await;
    let u = users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect("get");
    assert_eq!(u.id.as_str(), "u_0001");
    assert_eq!(u.email(), Some("donald.turing1@acme.example"));
    assert!(u.created_at.is_some());
    assert!(u.memberships.is_none());
    let u = users::Get::new("u_0001")
        .expand_memberships()
        .send(&sim.client)
        .await
        .expect("get expanded");
    let m = u.memberships.expect("memberships");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].group_id.as_str(), "g_001");
}

#[tokio::test]
async fn users_get_unknown_is_not_found() {
    let sim = Sim::start().await;
    let err = users::Get::new("nobody")
        .send(&sim.client)
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn users_find_by_email_matches_case_insensitively() {
    let sim = Sim::start().await;
    let u = users::FindByEmail::new("Hedy.Allen2@globex.example")
        .first(&sim.client)
        .await
        .expect("find")
        .expect("a user");
    assert_eq!(u.id.as_str(), "u_0002");
    let none = users::FindByEmail::new("nobody@example.com")
        .send(&sim.client)
        .await
        .expect("find");
    assert!(none.data.is_empty());
    assert!(!none.has_more);
}

#[tokio::test]
async fn users_list_paginates_all_pages() {
    let sim = Sim::start().await;
    let page = users::List::new()
        .limit(7)
        .send(&sim.client)
        .await
        .expect("page");
    assert_eq!(page.data.len(), 7);
    assert!(page.has_more);
    let all: Vec<_> = users::List::new()
        .limit(7)
        .paginate(&sim.client)
        .try_collect()
        .await
        .expect("all");
    let ids: Vec<String> = all.iter().map(|u| u.id.to_string()).collect();
    let want: Vec<String> = (1..=20).map(|n| format!("u_{n:04}")).collect();
    assert_eq!(ids, want);
    // 1 single page + 3 pages (7 + 7 + 6).
    assert_eq!(sim.calls("GET /users").await, 4);
}

#[tokio::test]
async fn users_list_sends_version_header_and_key() {
    let sim = Sim::start().await;
    users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect("get");
    let r = sim.control_get("/_sim/userflow/requests").await;
    assert_eq!(r["counts"]["without_version_header"], 0);
    let recent = r["recent"].as_array().expect("recent");
    assert!(!recent.is_empty());
    for call in recent {
        assert_eq!(call["version"], "2020-01-03", "{call}");
    }
}

#[tokio::test]
async fn users_upsert_literals_and_operations() {
    let sim = Sim::start().await;
    let u = users::Upsert::new("u_new")
        .attribute("email", "new@example.com")
        .attribute("logins", 5)
        .attribute("beta", true)
        .attribute(
            "tags",
            AttributeValue::append("a").with_data_type(DataType::List),
        )
        .attribute(
            "renewal_at",
            AttributeValue::from("2024-05-01T00:00:00Z").with_data_type(DataType::Datetime),
        )
        .attribute("first_plan", AttributeValue::set_once("free"))
        .send(&sim.client)
        .await
        .expect("create");
    assert_eq!(u.email(), Some("new@example.com"));
    assert_eq!(u.attributes["logins"], json!(5));
    assert_eq!(u.attributes["beta"], json!(true));
    assert_eq!(u.attributes["tags"], json!(["a"]));
    assert_eq!(u.attributes["first_plan"], json!("free"));

    let u = users::Upsert::new("u_new")
        .attribute("logins", AttributeValue::add(2))
        .attribute("tags", AttributeValue::append(json!(["b", "c"])))
        .attribute("first_plan", AttributeValue::set_once("pro"))
        .send(&sim.client)
        .await
        .expect("update");
    assert_eq!(u.attributes["logins"], json!(7));
    assert_eq!(u.attributes["tags"], json!(["a", "b", "c"]));
    assert_eq!(u.attributes["first_plan"], json!("free"));
    assert_eq!(u.email(), Some("new@example.com"), "merged, not replaced");

    let u = users::Upsert::new("u_new")
        .attribute("logins", AttributeValue::subtract(3))
        .attribute("tags", AttributeValue::remove("b"))
        .attribute(
            "tags2",
            AttributeValue::prepend("z").with_data_type(DataType::List),
        )
        .send(&sim.client)
        .await
        .expect("update 2");
    assert_eq!(u.attributes["logins"], json!(4));
    assert_eq!(u.attributes["tags"], json!(["a", "c"]));
    assert_eq!(u.attributes["tags2"], json!(["z"]));
}

#[tokio::test]
async fn users_upsert_with_groups_and_memberships() {
    let sim = Sim::start().await;
    users::Upsert::new("u_0003")
        .groups(vec![GroupInput::new("g_new").attribute("name", "New Co")])
        .send(&sim.client)
        .await
        .expect("groups");
    let u = users::Upsert::new("u_0003")
        .memberships(vec![
            MembershipInput::new(GroupInput::new("g_other")).attribute("role", "owner"),
        ])
        .send(&sim.client)
        .await
        .expect("memberships");
    assert_eq!(u.id.as_str(), "u_0003");
    let u = users::Get::new("u_0003")
        .expand_memberships()
        .send(&sim.client)
        .await
        .expect("get");
    let ms = u.memberships.expect("memberships");
    let other = ms
        .iter()
        .find(|m| m.group_id.as_str() == "g_other")
        .expect("g_other membership");
    assert_eq!(other.attributes["role"], json!("owner"));
    let new = ms
        .iter()
        .find(|m| m.group_id.as_str() == "g_new")
        .expect("g_new membership");
    let g = new.group.as_ref().expect("expanded group");
    assert_eq!(g.attributes["name"], json!("New Co"));

    // prune_memberships keeps only what the request lists.
    users::Upsert::new("u_0003")
        .groups(vec![GroupInput::new("g_new")])
        .prune_memberships(true)
        .send(&sim.client)
        .await
        .expect("prune");
    let u = users::Get::new("u_0003")
        .expand_memberships()
        .send(&sim.client)
        .await
        .expect("get");
    let ids: Vec<_> = u
        .memberships
        .expect("memberships")
        .into_iter()
        .map(|m| m.group_id.to_string())
        .collect();
    assert_eq!(ids, vec!["g_new".to_owned()]);
}

#[tokio::test]
async fn users_delete_removes_user() {
    let sim = Sim::start().await;
    let d = users::Delete::new("u_0004")
        .send(&sim.client)
        .await
        .expect("delete");
    assert!(d.deleted);
    assert_eq!(d.id, "u_0004");
    assert_eq!(d.object, "user");
    let err = users::Get::new("u_0004")
        .send(&sim.client)
        .await
        .expect_err("gone");
    assert!(matches!(err, Error::NotFound { .. }));
}

#[tokio::test]
async fn users_upsert_accepts_201_and_required_version_header() {
    let sim = Sim::start().await;
    sim.control_put(
        "/_sim/userflow/knobs",
        json!({"upsert_status": 201, "require_version_header": true}),
    )
    .await;
    let u = users::Upsert::new("u_0001")
        .attribute("plan", "enterprise")
        .send(&sim.client)
        .await
        .expect("upsert answered 201");
    assert_eq!(u.attributes["plan"], json!("enterprise"));
}

#[tokio::test]
async fn users_list_paginator_stops_after_error() {
    use futures::StreamExt;
    let sim = Sim::start().await;
    sim.control_put(
        "/_sim/userflow/knobs",
        json!({"rate_limit": {"enabled": true, "per_second": 0.01, "burst": 1, "retry_after": true}}),
    )
    .await;
    let client = sim.client_with("ak_sim_demo", hubsync_userflow::RetryPolicy::none());
    let items: Vec<_> = users::List::new()
        .limit(5)
        .paginate(&client)
        .collect()
        .await;
    assert_eq!(items.len(), 6, "5 users, then the 429, then the end");
    assert!(items[..5].iter().all(|r| r.is_ok()));
    assert!(matches!(items[5], Err(Error::RateLimited { .. })));
}
