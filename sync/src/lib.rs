//! What the api and the workers share to act for one integration, with I/O: the cluster's
//! [`Settings`] (HubSpot app, Userflow, public URL), a [`SyncContext`] that loads a
//! [`Tenant`] (the integration with its secrets opened), clients for both systems with a
//! fresh HubSpot token, and the HubSpot rate limiter every replica shares ([`ratelimit`]).
//!
//! Runs in: api (OAuth, mapping validation, dry runs) and worker (every job). Pure decisions
//! (mapping types, diffs, job payloads) live in `hubsync-core`; this crate does the reads and
//! writes around them.

mod context;
mod error;
mod queues;
pub mod ratelimit;
mod settings;

pub use context::{SyncContext, Tenant};
pub use error::SyncError;
pub use queues::JobQueues;
pub use settings::{DEFAULT_SCOPES, HubspotApp, Settings};
