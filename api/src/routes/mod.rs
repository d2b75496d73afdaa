//! Routes, one module per audience and resource.

pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod oauth;
pub(crate) mod operator;
pub(crate) mod webhooks;
