#![allow(clippy::unwrap_used)]

use hubsync_hubspot::models::webhooks::{SubscriptionCreate, Throttling, WebhookSettings};
use hubsync_hubspot::requests::webhooks::{
    CreateSubscription, DeleteSubscription, GetWebhookSettings, ListSubscriptions,
    PutWebhookSettings, UpdateSubscription,
};
use hubsync_hubspot::{AppId, Error};

use crate::common::{APP_ID, start};

#[tokio::test]
async fn webhooks_settings_get_before_put_is_404_then_roundtrips() {
    let env = start().await;
    let c = env.client();
    let err = GetWebhookSettings::new(AppId(APP_ID))
        .send(&c)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let settings = WebhookSettings {
        target_url: "https://hubsync.example/webhooks/hubspot".into(),
        throttling: Throttling {
            max_concurrent_requests: 10,
            period: None,
        },
    };
    PutWebhookSettings::new(AppId(APP_ID), settings.clone())
        .send(&c)
        .await
        .unwrap();
    let got = GetWebhookSettings::new(AppId(APP_ID))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(got.target_url, settings.target_url);
    assert_eq!(got.throttling.max_concurrent_requests, 10);
}

#[tokio::test]
async fn webhooks_subscriptions_create_list_patch_delete() {
    let env = start().await;
    let c = env.client();
    let sub = CreateSubscription::new(
        AppId(APP_ID),
        SubscriptionCreate {
            event_type: "contact.propertyChange".into(),
            property_name: Some("email".into()),
            active: None,
            object_type_id: None,
        },
    )
    .send(&c)
    .await
    .unwrap();
    assert!(!sub.active);
    let patched = UpdateSubscription::new(AppId(APP_ID), sub.id.as_str(), true)
        .send(&c)
        .await
        .unwrap();
    assert!(patched.active);
    let list = ListSubscriptions::new(AppId(APP_ID))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(list.results.len(), 1);
    assert_eq!(list.results[0].property_name.as_deref(), Some("email"));
    DeleteSubscription::new(AppId(APP_ID), sub.id.as_str())
        .send(&c)
        .await
        .unwrap();
    let list = ListSubscriptions::new(AppId(APP_ID))
        .send(&c)
        .await
        .unwrap();
    assert!(list.results.is_empty());
}

#[tokio::test]
async fn webhooks_subscriptions_create_duplicate_is_validation_error() {
    let env = start().await;
    let c = env.client();
    let body = SubscriptionCreate {
        event_type: "contact.creation".into(),
        property_name: None,
        active: Some(true),
        object_type_id: None,
    };
    CreateSubscription::new(AppId(APP_ID), body.clone())
        .send(&c)
        .await
        .unwrap();
    let err = CreateSubscription::new(AppId(APP_ID), body)
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn webhooks_settings_wrong_app_is_unauthorized() {
    let env = start().await;
    let err = GetWebhookSettings::new(AppId(1))
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
}
