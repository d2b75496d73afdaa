//! One request value per endpoint, grouped by object area. Each implements [`crate::Request`]
//! and has `.send(&client)`; list endpoints also have `.paginate(&client)`.

pub mod associations;
pub mod oauth;
pub mod objects;
pub mod properties;
pub mod schemas;
pub mod timeline;
pub mod webhooks;

pub(crate) fn check_max(what: &str, n: usize, max: usize) -> crate::Result<()> {
    if n > max {
        return Err(crate::Error::InvalidRequest(format!(
            "{what}: {n} given, at most {max} allowed"
        )));
    }
    Ok(())
}
