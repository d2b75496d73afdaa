//! HTTP simulators of HubSpot and Userflow, in memory.
//!
//! Runs in: `hubsync sim`, `hubsync dev`, and the test suites. Owns no database: all state lives
//! in memory and is seeded deterministically. Each simulator exposes its API routes plus a
//! `/_sim/` control router that tests and benchmarks use to read state, count calls, flip
//! switches (faults, webhook misbehaviour) and act "as a person in the product".
//!
//! Must not: import hubsync's client crates. The simulators are written from the API notes so
//! that a misspelled field in a client cannot pass a test by being misspelled here too.

pub mod delivery;
pub mod faults;
pub mod hubspot;
pub mod serve;
pub mod userflow;
