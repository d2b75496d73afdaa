#![allow(clippy::unwrap_used)]

use hubsync_hubspot::requests::oauth::{
    ExchangeCode, IntrospectAccessToken, RefreshToken, RevokeRefreshToken,
};
use hubsync_hubspot::requests::objects::GetObject;
use hubsync_hubspot::{Error, ObjectType};
use reqwest::Method;
use serde_json::json;

use crate::common::{CLIENT_ID, CLIENT_SECRET, PORTAL, start};

const REDIRECT: &str = "https://hubsync.example/oauth/callback";

#[tokio::test]
async fn oauth_exchange_code_then_introspect_hub_id() {
    let env = start().await;
    let resp = env
        .http
        .get(format!("{}/oauth/authorize", env.base))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "oauth crm.objects.contacts.read"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let c = env.client();
    let tokens = ExchangeCode {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT.into(),
        code: code.clone(),
    }
    .send(&c)
    .await
    .unwrap();
    assert!(tokens.expires_in > 0);
    let info = IntrospectAccessToken {
        token: tokens.access_token.clone(),
    }
    .send(&c)
    .await
    .unwrap();
    assert_eq!(info.hub_id, PORTAL);
    // Codes are single-use.
    let err = ExchangeCode {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT.into(),
        code,
    }
    .send(&c)
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err:?}");
}

#[tokio::test]
async fn oauth_refresh_then_revoke_gives_invalid_grant() {
    let env = start().await;
    let minted = env.mint_oauth().await;
    let rt = minted["refresh_token"].as_str().unwrap().to_owned();
    let c = env.client();
    let refresh = RefreshToken {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        refresh_token: rt.clone(),
    };
    let fresh = refresh.send(&c).await.unwrap();
    assert!(!fresh.access_token.is_empty());
    RevokeRefreshToken { token: rt }.send(&c).await.unwrap();
    let err = refresh.send(&c).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGrant { .. }), "{err:?}");
}

#[tokio::test]
async fn oauth_refresh_bad_client_secret_is_oauth_error() {
    let env = start().await;
    let minted = env.mint_oauth().await;
    let err = RefreshToken {
        client_id: CLIENT_ID.into(),
        client_secret: "wrong".into(),
        refresh_token: minted["refresh_token"].as_str().unwrap().into(),
    }
    .send(&env.client())
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::OAuth { .. } | Error::InvalidGrant { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn oauth_expired_access_token_is_expired_error() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let minted = env.mint_oauth().await;
    let at = minted["access_token"].as_str().unwrap().to_owned();
    let c = env.client_with_token(&at);
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap();
    env.control(
        Method::POST,
        "/_sim/hubspot/oauth/expire",
        json!({"token": at}),
    )
    .await;
    let err = GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
    // After a refresh the client carries on with the new token.
    let fresh = RefreshToken {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        refresh_token: minted["refresh_token"].as_str().unwrap().into(),
    }
    .send(&c)
    .await
    .unwrap();
    c.set_access_token(fresh.access_token);
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_bad_token_is_unauthorized() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let err = GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&env.client_with_token("nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
}
