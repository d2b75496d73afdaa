#![allow(clippy::unwrap_used)]

use hubsync_hubspot::models::property::{FieldType, PropertyCreate, PropertyType};
use hubsync_hubspot::requests::properties::{
    CreateProperty, CreatePropertyGroup, GetProperty, GetPropertyGroup, ListProperties,
};
use hubsync_hubspot::{Error, ObjectType};

use crate::common::start;

#[tokio::test]
async fn properties_list_contacts_has_email() {
    let env = start().await;
    let page = ListProperties::new(ObjectType::Contacts)
        .send(&env.client())
        .await
        .unwrap();
    let email = page.results.iter().find(|p| p.name == "email").unwrap();
    assert_eq!(email.kind, PropertyType::String);
}

#[tokio::test]
async fn properties_get_missing_is_404() {
    let env = start().await;
    let err = GetProperty::new(ObjectType::Contacts, "no_such_prop")
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn properties_create_in_new_group() {
    let env = start().await;
    let c = env.client();
    let group = CreatePropertyGroup::new(ObjectType::Contacts, "userflow", "Userflow")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(group.name, "userflow");
    let got = GetPropertyGroup::new(ObjectType::Contacts, "userflow")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(got.label, "Userflow");
    let created = CreateProperty::new(
        ObjectType::Contacts,
        PropertyCreate::new(
            "userflow_user_logins",
            "Userflow logins",
            PropertyType::Number,
            FieldType::Number,
            "userflow",
        ),
    )
    .send(&c)
    .await
    .unwrap();
    assert_eq!(created.kind, PropertyType::Number);
    let read = GetProperty::new(ObjectType::Contacts, "userflow_user_logins")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(read.group_name.as_deref(), Some("userflow"));
    assert_eq!(read.field_type, FieldType::Number);
}

#[tokio::test]
async fn properties_create_mismatched_field_type_is_validation_error() {
    let env = start().await;
    let err = CreateProperty::new(
        ObjectType::Contacts,
        PropertyCreate::new(
            "userflow_bad",
            "Bad",
            PropertyType::Number,
            FieldType::Textarea,
            "contactinformation",
        ),
    )
    .send(&env.client())
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
}

#[tokio::test]
async fn property_groups_get_missing_is_404() {
    let env = start().await;
    let err = GetPropertyGroup::new(ObjectType::Contacts, "nope")
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}
