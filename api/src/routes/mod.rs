//! Routes, one module per audience and resource.

pub(crate) mod health;
