#![allow(clippy::unwrap_used)]

use futures::StreamExt;
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::requests::associations::ListAssociations;
use hubsync_hubspot::requests::objects::ListObjects;

use crate::common::start;

#[tokio::test]
async fn contacts_associations_list_to_companies() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let page = ListAssociations::new(ObjectType::Contacts, c1.as_str(), ObjectType::Companies)
        .send(&env.client())
        .await
        .unwrap();
    assert_eq!(page.results.len(), 1);
    let types: Vec<u32> = page.results[0]
        .association_types
        .iter()
        .map(|t| t.type_id)
        .collect();
    assert!(types.contains(&279), "{types:?}");
    assert!(types.contains(&1), "{types:?}");
}

#[tokio::test]
async fn companies_associations_list_pages_through_contacts() {
    let env = start().await;
    let c = env.client();
    let company = ListObjects::new(ObjectType::Companies)
        .limit(1)
        .send(&c)
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let one_page = ListAssociations::new(
        ObjectType::Companies,
        company.as_str(),
        ObjectType::Contacts,
    )
    .send(&c)
    .await
    .unwrap();
    let all: Vec<_> = ListAssociations::new(
        ObjectType::Companies,
        company.as_str(),
        ObjectType::Contacts,
    )
    .limit(1)
    .paginate(&c)
    .collect()
    .await;
    assert_eq!(all.len(), one_page.results.len());
    assert!(all.iter().all(|r| r.is_ok()));
}
