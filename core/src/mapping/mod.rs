//! The mapping engine's pure parts: names of the HubSpot properties hubsync creates, value
//! types and conversions, and the decisions a sync makes.

pub mod diff;
pub mod naming;
pub mod types;
pub mod values;
