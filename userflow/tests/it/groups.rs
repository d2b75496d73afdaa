use futures::TryStreamExt;
use hubsync_userflow::requests::groups;
use hubsync_userflow::{Error, Request};
use serde_json::json;

use crate::Sim;

#[tokio::test]
async fn groups_get_seeded() {
    let sim = Sim::start().await;
    let g = groups::Get::new("g_001")
        .send(&sim.client)
        .await
        .expect("get");
    assert_eq!(g.id.as_str(), "g_001");
    assert_eq!(g.attributes["name"], json!("Acme"));
    let err = groups::Get::new("g_none")
        .send(&sim.client)
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }));
}

#[tokio::test]
async fn groups_upsert_creates_and_merges() {
    let sim = Sim::start().await;
    let g = groups::Upsert::new("g_x")
        .attribute("name", "X Corp")
        .attribute("seats", 3)
        .send(&sim.client)
        .await
        .expect("create");
    assert_eq!(g.attributes["name"], json!("X Corp"));
    let g = groups::Upsert::new("g_x")
        .attribute("seats", hubsync_userflow::models::AttributeValue::add(2))
        .send(&sim.client)
        .await
        .expect("update");
    assert_eq!(g.attributes["seats"], json!(5));
    assert_eq!(g.attributes["name"], json!("X Corp"));
}

#[tokio::test]
async fn groups_list_paginates_all_pages() {
    let sim = Sim::start().await;
    let all: Vec<_> = groups::List::new()
        .limit(2)
        .paginate(&sim.client)
        .try_collect()
        .await
        .expect("all");
    let ids: Vec<String> = all.iter().map(|g| g.id.to_string()).collect();
    assert_eq!(ids, vec!["g_001", "g_002", "g_003", "g_004", "g_005"]);
    assert_eq!(sim.calls("GET /groups").await, 3);
}

#[tokio::test]
async fn groups_delete_removes_group() {
    let sim = Sim::start().await;
    let d = groups::Delete::new("g_002")
        .send(&sim.client)
        .await
        .expect("delete");
    assert!(d.deleted);
    assert_eq!(d.object, "group");
    let err = groups::Get::new("g_002")
        .send(&sim.client)
        .await
        .expect_err("gone");
    assert!(matches!(err, Error::NotFound { .. }));
}
