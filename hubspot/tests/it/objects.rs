#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use futures::StreamExt;
use hubsync_hubspot::models::search::{Direction, Filter, Operator, Sort};
use hubsync_hubspot::requests::objects::{
    BatchReadObjects, BatchUpdateInput, BatchUpdateObjects, GetObject, ListObjects, SearchObjects,
    UpdateObject,
};
use hubsync_hubspot::{Error, ObjectType};

use crate::common::{EMAIL1, start};

#[tokio::test]
async fn contacts_get_by_id_with_properties_and_associations() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let c = env.client();
    let obj = GetObject::new(ObjectType::Contacts, c1.as_str())
        .properties(["email", "firstname"])
        .associations(["companies"])
        .send(&c)
        .await
        .unwrap();
    assert_eq!(obj.id.as_str(), c1);
    assert_eq!(obj.property("email"), Some(EMAIL1));
    assert_eq!(obj.property("firstname"), Some("donald"));
    assert!(!obj.associated_ids("companies").is_empty());
}

#[tokio::test]
async fn contacts_get_by_id_property_email() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let obj = GetObject::new(ObjectType::Contacts, EMAIL1)
        .id_property("email")
        .properties(["email"])
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(obj.id.as_str(), c1);
}

#[tokio::test]
async fn contacts_get_missing_is_404() {
    let env = start().await;
    let err = GetObject::new(ObjectType::Contacts, "999999")
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    match err {
        Error::Api {
            status, category, ..
        } => {
            assert_eq!(status, 404);
            assert_eq!(category.as_deref(), Some("OBJECT_NOT_FOUND"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn companies_get_by_id() {
    let env = start().await;
    let page = ListObjects::new(ObjectType::Companies)
        .limit(1)
        .send(&env.client())
        .await
        .unwrap();
    let id = page.results[0].id.clone();
    let obj2 = GetObject::new(ObjectType::Companies, id.as_str())
        .properties(["name", "domain"])
        .send(&env.client())
        .await
        .unwrap();
    assert!(obj2.property("name").is_some());
}

#[tokio::test]
async fn custom_objects_get_by_type_id() {
    let env = start().await;
    let t = ObjectType::custom(env.projects_type_id().await);
    let page = ListObjects::new(t.clone())
        .properties(["project_name"])
        .send(&env.client())
        .await
        .unwrap();
    assert!(!page.results.is_empty());
    let id = page.results[0].id.clone();
    let obj = GetObject::new(t, id.as_str())
        .properties(["project_name", "budget"])
        .send(&env.client())
        .await
        .unwrap();
    assert!(obj.property("project_name").is_some());
}

#[tokio::test]
async fn contacts_batch_read_reports_missing_ids() {
    let env = start().await;
    let (c1, c2) = env.two_contacts().await;
    let resp = BatchReadObjects::new(ObjectType::Contacts, [c1.as_str(), c2.as_str(), "999999"])
        .properties(["email"])
        .send(&env.client())
        .await
        .unwrap();
    let mut found: Vec<_> = resp.results.iter().map(|o| o.id.0.clone()).collect();
    found.sort();
    assert_eq!(found, {
        let mut v = vec![c1.clone(), c2.clone()];
        v.sort();
        v
    });
    assert_eq!(resp.missing_ids(), vec!["999999".to_owned()]);
}

#[tokio::test]
async fn contacts_batch_read_by_id_property() {
    let env = start().await;
    let resp = BatchReadObjects::new(ObjectType::Contacts, [EMAIL1])
        .id_property("email")
        .properties(["email"])
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.results[0].property("email"), Some(EMAIL1));
}

#[tokio::test]
async fn contacts_batch_read_over_100_refused() {
    let env = start().await;
    let ids: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let err = BatchReadObjects::new(ObjectType::Contacts, ids)
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn contacts_update_writes_property() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let c = env.client();
    let obj = UpdateObject::new(ObjectType::Contacts, c1.as_str())
        .property("jobtitle", "Engineer")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(obj.property("jobtitle"), Some("Engineer"));
    let again = GetObject::new(ObjectType::Contacts, c1.as_str())
        .properties(["jobtitle"])
        .send(&c)
        .await
        .unwrap();
    assert_eq!(again.property("jobtitle"), Some("Engineer"));
}

#[tokio::test]
async fn contacts_update_unknown_property_is_validation_error() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let err = UpdateObject::new(ObjectType::Contacts, c1.as_str())
        .property("no_such_prop", "x")
        .send(&env.client())
        .await
        .unwrap_err();
    match err {
        Error::Validation { property, code, .. } => {
            assert_eq!(property.as_deref(), Some("no_such_prop"));
            assert_eq!(code.as_deref(), Some("PROPERTY_DOESNT_EXIST"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn deals_update_missing_is_404() {
    let env = start().await;
    let err = UpdateObject::new(ObjectType::Deals, "999999")
        .property("dealname", "x")
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn contacts_batch_update_success() {
    let env = start().await;
    let (c1, c2) = env.two_contacts().await;
    let inputs = vec![
        BatchUpdateInput::new(
            c1.as_str(),
            BTreeMap::from([("jobtitle".into(), "A".into())]),
        ),
        BatchUpdateInput::new(
            c2.as_str(),
            BTreeMap::from([("jobtitle".into(), "B".into())]),
        ),
    ];
    let resp = BatchUpdateObjects::new(ObjectType::Contacts, inputs)
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(resp.results.len(), 2);
    assert!(resp.errors.is_empty());
}

#[tokio::test]
async fn contacts_batch_update_partial_reports_per_input_errors() {
    let env = start().await;
    let (c1, c2) = env.two_contacts().await;
    let inputs = vec![
        BatchUpdateInput::new(
            c1.as_str(),
            BTreeMap::from([("jobtitle".into(), "A".into())]),
        )
        .trace_id("t1"),
        BatchUpdateInput::new(
            c2.as_str(),
            BTreeMap::from([("no_such_prop".into(), "B".into())]),
        )
        .trace_id("t2"),
    ];
    let resp = BatchUpdateObjects::new(ObjectType::Contacts, inputs)
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.errors.len(), 1);
    assert_eq!(resp.errors[0].trace_id(), Some("t2"));
    assert_eq!(resp.errors[0].property().as_deref(), Some("no_such_prop"));
}

#[tokio::test]
async fn contacts_search_filters_sorts_and_pages() {
    let env = start().await;
    let c = env.client();
    let req = SearchObjects::new(ObjectType::Contacts)
        .filter_group(vec![Filter::new(
            "email",
            Operator::ContainsToken,
            "*@acme.example",
        )])
        .sort(Sort {
            property_name: "hs_object_id".into(),
            direction: Direction::Ascending,
        })
        .properties(["email"])
        .limit(3);
    let page = req.send(&c).await.unwrap();
    assert_eq!(page.results.len(), 3);
    assert_eq!(page.total, Some(10));
    assert!(page.next_after().is_some());
    let all: Vec<_> = req.paginate(&c).collect().await;
    assert_eq!(all.len(), 10);
    for o in all {
        assert!(
            o.unwrap()
                .property("email")
                .unwrap()
                .ends_with("@acme.example")
        );
    }
}

#[tokio::test]
async fn contacts_search_limit_over_200_refused() {
    let env = start().await;
    let err = SearchObjects::new(ObjectType::Contacts)
        .limit(201)
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)));
}

#[tokio::test]
async fn contacts_list_paginator_walks_every_page() {
    let env = start().await;
    let all: Vec<_> = ListObjects::new(ObjectType::Contacts)
        .limit(7)
        .paginate(&env.client())
        .collect()
        .await;
    assert_eq!(all.len(), 50);
    assert!(all.iter().all(|r| r.is_ok()));
}

#[tokio::test]
async fn deals_search_by_pipeline_returns_deals() {
    let env = start().await;
    let page = SearchObjects::new(ObjectType::Deals)
        .filter_group(vec![Filter::new("pipeline", Operator::Eq, "default")])
        .properties(["dealname", "pipeline"])
        .limit(200)
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(page.total, Some(15));
    assert_eq!(page.results.len(), 15);
    assert!(page.next_after().is_none());
}

#[tokio::test]
async fn custom_objects_batch_read_by_id() {
    let env = start().await;
    let t = ObjectType::custom(env.projects_type_id().await);
    let c = env.client();
    let ids: Vec<String> = ListObjects::new(t.clone())
        .send(&c)
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|o| o.id.0)
        .collect();
    let resp = BatchReadObjects::new(t, ids.clone())
        .properties(["project_name"])
        .send(&c)
        .await
        .unwrap();
    assert_eq!(resp.results.len(), ids.len());
    assert!(resp.missing_ids().is_empty());
}

#[tokio::test]
async fn companies_update_invalid_number_is_validation_error() {
    let env = start().await;
    let c = env.client();
    let id = ListObjects::new(ObjectType::Companies)
        .limit(1)
        .send(&c)
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let err = UpdateObject::new(ObjectType::Companies, id.as_str())
        .property("numberofemployees", "lots")
        .send(&c)
        .await
        .unwrap_err();
    match err {
        Error::Validation { property, .. } => {
            assert_eq!(property.as_deref(), Some("numberofemployees"))
        }
        other => panic!("unexpected {other:?}"),
    }
}
