//! Serde wire types, written from `docs/hubspot-api.md`.

pub mod association;
pub mod batch;
pub mod oauth;
pub mod object;
pub mod property;
pub mod search;
pub mod timeline;
pub mod webhooks;
