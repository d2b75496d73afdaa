use hubsync_userflow::models::{AttributeValue, DataType};
use hubsync_userflow::requests::events;
use hubsync_userflow::{Error, Request};
use serde_json::json;

use crate::Sim;

#[tokio::test]
async fn events_track_for_user_with_attributes_and_time() {
    let sim = Sim::start().await;
    let time = chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:00+00:00").expect("time");
    let e = events::Track::new("invoice_paid")
        .user_id("u_0001")
        .group_id("g_001")
        .attribute("amount", 42)
        .attribute(
            "paid_at",
            AttributeValue::from("2024-03-01T10:00:00Z").with_data_type(DataType::Datetime),
        )
        .time(time)
        .send(&sim.client)
        .await
        .expect("track");
    assert!(!e.id.is_empty());
    assert_eq!(e.name, "invoice_paid");
    assert_eq!(e.user_id.as_ref().map(|u| u.as_str()), Some("u_0001"));
    assert_eq!(e.group_id.as_ref().map(|g| g.as_str()), Some("g_001"));
    assert_eq!(e.attributes["amount"], json!(42));
    assert_eq!(e.time, Some(time));
}

#[tokio::test]
async fn events_track_without_user_or_group_is_rejected() {
    let sim = Sim::start().await;
    let err = events::Track::new("orphan")
        .send(&sim.client)
        .await
        .expect_err("400");
    match err {
        Error::Api { status, code, .. } => {
            assert_eq!(status, 400);
            assert_eq!(code.as_deref(), Some("invalid_request"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
