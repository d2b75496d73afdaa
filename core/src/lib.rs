//! Domain code shared by every hubsync role, free of I/O: webhook signature verification and,
//! as the product grows, the mapping engine, job payloads and pure sync decisions.
//!
//! Runs in: api, worker, scheduler (a library, no process of its own). Must not: depend on
//! axum, sea-orm, redis or reqwest, so everything here is tested with plain `#[test]`s.

pub mod jobs;
pub mod mapping;
pub mod secrets;
pub mod signature;
pub mod webhooks;
