#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use hubsync_hubspot::models::timeline::{
    EventTemplateCreate, TemplateToken, TimelineEvent, TokenType,
};
use hubsync_hubspot::requests::timeline::{
    BatchCreateTimelineEvents, CreateEventTemplate, CreateTimelineEvent,
};
use hubsync_hubspot::{AppId, Error};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{APP_ID, PORTAL, start};

fn template() -> EventTemplateCreate {
    EventTemplateCreate {
        name: "Flow completed".into(),
        object_type: "contacts".into(),
        tokens: vec![TemplateToken {
            name: "flow_name".into(),
            label: "Flow".into(),
            kind: TokenType::String,
            options: vec![],
            object_property_name: None,
        }],
        header_template: Some("Completed {{flow_name}}".into()),
        detail_template: None,
    }
}

fn event(template_id: &str, id: &str, object_id: &str) -> TimelineEvent {
    TimelineEvent {
        event_template_id: template_id.into(),
        tokens: BTreeMap::from([("flow_name".into(), "Onboarding".into())]),
        id: Some(id.into()),
        object_id: Some(object_id.into()),
        ..TimelineEvent::default()
    }
}

async fn events_on(env: &crate::common::Env, object: &str) -> Vec<Value> {
    let v = env
        .control(
            Method::GET,
            &format!("/_sim/hubspot/portals/{PORTAL}/timeline/events?objectId={object}"),
            json!(null),
        )
        .await;
    v["results"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn timeline_create_template_and_event_is_idempotent_by_id() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let tpl = CreateEventTemplate::new(AppId(APP_ID), template())
        .send(&env.client())
        .await
        .unwrap();
    let tokens = env.mint_oauth().await;
    let c = env.client_with_token(tokens["access_token"].as_str().unwrap());
    let created = CreateTimelineEvent::new(event(tpl.id.as_str(), "uf-evt-1", &c1))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(created.id, "uf-evt-1");
    CreateTimelineEvent::new(event(tpl.id.as_str(), "uf-evt-1", &c1))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(events_on(&env, &c1).await.len(), 1);
}

#[tokio::test]
async fn timeline_batch_create_events() {
    let env = start().await;
    let (_, c2) = env.two_contacts().await;
    let tpl = CreateEventTemplate::new(AppId(APP_ID), template())
        .send(&env.client())
        .await
        .unwrap();
    let tokens = env.mint_oauth().await;
    let c = env.client_with_token(tokens["access_token"].as_str().unwrap());
    let resp = BatchCreateTimelineEvents::new(vec![
        event(tpl.id.as_str(), "b1", &c2),
        event(tpl.id.as_str(), "b2", &c2),
    ])
    .send(&c)
    .await
    .unwrap();
    assert_eq!(resp.results.len(), 2);
    assert_eq!(events_on(&env, &c2).await.len(), 2);
}

#[tokio::test]
async fn timeline_create_event_unknown_template_is_404() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let tokens = env.mint_oauth().await;
    let c = env.client_with_token(tokens["access_token"].as_str().unwrap());
    let err = CreateTimelineEvent::new(event("999999", "x", &c1))
        .send(&c)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn timeline_create_template_unavailable_is_api_error() {
    let env = start().await;
    env.control(
        Method::PUT,
        "/_sim/hubspot/timeline/knobs",
        json!({"timeline_available": false}),
    )
    .await;
    let err = CreateEventTemplate::new(AppId(APP_ID), template())
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 403, .. }), "{err:?}");
}
