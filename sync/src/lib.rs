//! What the api and the workers share to act for one integration, with I/O: the cluster's
//! [`Settings`] (HubSpot app, Userflow, public URL), a [`SyncContext`] that loads a
//! [`Tenant`] (the integration with its secrets opened), clients for both systems with a
//! fresh HubSpot token, and the HubSpot rate limiter every replica shares ([`ratelimit`]).
//!
//! Runs in: api (OAuth, mapping validation, dry runs) and worker (every job). Pure decisions
//! (mapping types, diffs, job payloads) live in `hubsync-core`; this crate does the reads and
//! writes around them.

pub mod app_webhooks;
pub mod connection;
mod context;
pub mod engine;
mod error;
pub mod full_sync;
pub mod lock;
mod queues;
pub mod ratelimit;
pub mod routing;
pub mod schema;
pub mod schema_setup;
mod settings;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod tokens;

pub use context::{SyncContext, Tenant};
pub use error::SyncError;
pub use queues::JobQueues;
pub use settings::{DEFAULT_SCOPES, HubspotApp, Settings};
