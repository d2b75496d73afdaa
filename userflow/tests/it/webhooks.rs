use hubsync_userflow::models::{Notification, NotificationObject, Topic};
use hubsync_userflow::requests::{events, users, webhook_subscriptions as subs};
use hubsync_userflow::{Error, Request};
use serde_json::{Value, json};

use crate::Sim;

#[tokio::test]
async fn webhook_subscriptions_create_returns_secret() {
    let sim = Sim::start().await;
    let s = subs::Create::new("http://127.0.0.1:9/hook", ["user", "group.updated"])
        .send(&sim.client)
        .await
        .expect("create");
    let secret = s.secret.expect("secret on create");
    assert_eq!(secret.len(), 64);
    assert_eq!(s.topics, vec!["user", "group.updated"]);
    assert!(!s.disabled);
    assert_eq!(s.api_version.as_deref(), Some("2020-01-03"));
}

#[tokio::test]
async fn webhook_subscriptions_list_get_update_delete() {
    let sim = Sim::start().await;
    let s = subs::Create::new("http://127.0.0.1:9/a", ["*"])
        .send(&sim.client)
        .await
        .expect("create");
    let list = subs::List::new().send(&sim.client).await.expect("list");
    assert_eq!(list.data.len(), 1);
    let got = subs::Get::new(s.id.clone())
        .send(&sim.client)
        .await
        .expect("get");
    assert_eq!(got.url, "http://127.0.0.1:9/a");
    assert_eq!(got.secret, None, "secret only on create by default");

    let up = subs::Update::new(s.id.clone())
        .url("http://127.0.0.1:9/b")
        .topics(["user.updated", "event.tracked.flow_completed"])
        .disabled(true)
        .send(&sim.client)
        .await
        .expect("update");
    assert_eq!(up.url, "http://127.0.0.1:9/b");
    assert_eq!(
        up.topics,
        vec!["user.updated", "event.tracked.flow_completed"]
    );
    assert!(up.disabled);

    let d = subs::Delete::new(s.id.clone())
        .send(&sim.client)
        .await
        .expect("delete");
    assert!(d.deleted);
    let err = subs::Get::new(s.id)
        .send(&sim.client)
        .await
        .expect_err("gone");
    assert!(matches!(err, Error::NotFound { .. }));
}

async fn notification_bodies(sim: &Sim) -> Vec<Vec<u8>> {
    let all = sim.control_get("/_sim/userflow/notifications").await;
    all.as_array()
        .expect("array")
        .iter()
        .map(|n| serde_json::to_vec(&n["body"]).expect("bytes"))
        .collect()
}

#[tokio::test]
async fn notifications_parse_user_created_and_updated() {
    let sim = Sim::start().await;
    subs::Create::new("http://127.0.0.1:9/hook", ["*"])
        .send(&sim.client)
        .await
        .expect("create");
    users::Upsert::new("u_0001")
        .attribute("plan", "pro-plus")
        .send(&sim.client)
        .await
        .expect("update");
    users::Upsert::new("u_brand_new")
        .attribute("email", "b@example.com")
        .send(&sim.client)
        .await
        .expect("create");
    let parsed: Vec<Notification> = notification_bodies(&sim)
        .await
        .iter()
        .map(|b| Notification::from_slice(b).expect("parse"))
        .collect();
    let updated = parsed
        .iter()
        .find(|n| n.topic == Topic::UserUpdated)
        .expect("user.updated");
    assert_eq!(updated.user().map(|u| u.id.as_str()), Some("u_0001"));
    let upd = updated.data.updated_attributes.as_ref().expect("updated");
    assert_eq!(upd["plan"], json!("pro-plus"));
    let prev = updated.data.previous_attributes.as_ref().expect("previous");
    assert!(prev.contains_key("plan"));
    let created = parsed
        .iter()
        .find(|n| n.topic == Topic::UserCreated)
        .expect("user.created");
    assert_eq!(
        created.user().and_then(|u| u.email()),
        Some("b@example.com")
    );
    assert!(created.data.previous_attributes.is_none());
}

#[tokio::test]
async fn notifications_parse_group_and_event() {
    let sim = Sim::start().await;
    subs::Create::new("http://127.0.0.1:9/hook", ["*"])
        .send(&sim.client)
        .await
        .expect("create");
    hubsync_userflow::requests::groups::Upsert::new("g_001")
        .attribute("plan", "enterprise-x")
        .send(&sim.client)
        .await
        .expect("group");
    events::Track::new("flow_completed")
        .user_id("u_0002")
        .attribute("flow_name", "Onboarding")
        .send(&sim.client)
        .await
        .expect("track");
    let parsed: Vec<Notification> = notification_bodies(&sim)
        .await
        .iter()
        .map(|b| Notification::from_slice(b).expect("parse"))
        .collect();
    let g = parsed
        .iter()
        .find(|n| n.topic == Topic::GroupUpdated)
        .expect("group.updated");
    assert_eq!(g.group().map(|g| g.id.as_str()), Some("g_001"));
    let e = parsed
        .iter()
        .find(|n| matches!(n.topic, Topic::EventTracked(_)))
        .expect("event.tracked");
    match &e.data.object {
        NotificationObject::Event(ev) => {
            assert_eq!(ev.name, "flow_completed");
            assert_eq!(ev.user_id.as_ref().map(|u| u.as_str()), Some("u_0002"));
            assert_eq!(ev.attributes["flow_name"], Value::from("Onboarding"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
