//! The mapping engine's pure parts: names of the HubSpot properties hubsync creates, value
//! types and conversions, and the decisions a sync makes.

pub mod naming;
