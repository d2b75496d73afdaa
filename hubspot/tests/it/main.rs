//! Integration tests of the HubSpot client against the HubSpot simulator.

mod associations;
mod common;
mod errors;
mod oauth;
mod objects;
mod properties;
mod ratelimit;
mod timeline;
mod webhooks;
