use futures::TryStreamExt;
use hubsync_userflow::Request;
use hubsync_userflow::models::{AttributeScope, DataType};
use hubsync_userflow::requests::{attribute_definitions, event_definitions, events};

use crate::Sim;

#[tokio::test]
async fn attribute_definitions_list_user_scope_types() {
    let sim = Sim::start().await;
    let defs: Vec<_> = attribute_definitions::List::new()
        .scope(AttributeScope::User)
        .limit(100)
        .paginate(&sim.client)
        .try_collect()
        .await
        .expect("list");
    let ty = |name: &str| {
        defs.iter()
            .find(|d| d.name == name)
            .map(|d| (d.data_type, d.scope))
    };
    assert_eq!(ty("email"), Some((DataType::String, AttributeScope::User)));
    assert_eq!(
        ty("signed_up_at"),
        Some((DataType::Datetime, AttributeScope::User))
    );
    assert!(defs.iter().all(|d| d.scope == AttributeScope::User));
}

#[tokio::test]
async fn attribute_definitions_list_group_and_membership_scopes() {
    let sim = Sim::start().await;
    let groups = attribute_definitions::List::new()
        .scope(AttributeScope::Group)
        .send(&sim.client)
        .await
        .expect("group");
    assert!(groups.data.iter().any(|d| d.name == "name"));
    let members = attribute_definitions::List::new()
        .scope(AttributeScope::Membership)
        .send(&sim.client)
        .await
        .expect("membership");
    assert!(members.data.iter().all(|d| matches!(
        d.scope,
        AttributeScope::Membership | AttributeScope::GroupMembership
    )));
}

#[tokio::test]
async fn event_definitions_list_includes_tracked() {
    let sim = Sim::start().await;
    events::Track::new("report_exported")
        .user_id("u_0001")
        .send(&sim.client)
        .await
        .expect("track");
    let defs: Vec<_> = event_definitions::List::new()
        .paginate(&sim.client)
        .try_collect()
        .await
        .expect("list");
    assert!(defs.iter().any(|d| d.name == "report_exported"), "{defs:?}");
}
