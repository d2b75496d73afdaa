//! The seam between timeline events and the CRM store: resolving the object an event attaches
//! to, and copying token values onto CRM properties (`objectPropertyName`).

use super::super::Simulator;
use super::super::changes::ChangeSource;

/// Store type id of a timeline template `objectType` (`contacts`, `companies`, `deals`,
/// `tickets`).
pub fn type_id(object_type: &str) -> &'static str {
    match object_type {
        "companies" => "0-2",
        "deals" => "0-3",
        "tickets" => "0-5",
        _ => "0-1",
    }
}

/// The live object `object_id` of `object_type` in `portal_id` (merged ids followed to their
/// survivor), if it exists.
pub fn find_by_id(
    sim: &Simulator,
    portal_id: u64,
    object_type: &str,
    object_id: u64,
) -> Option<u64> {
    let t = type_id(object_type);
    sim.inner
        .store
        .read(portal_id, |p| {
            p.type_data(t)
                .and_then(|td| td.live(object_id, true))
                .map(|o| o.id)
        })
        .flatten()
}

/// The live contact with `email` in `portal_id`, if any.
pub fn find_contact_by_email(sim: &Simulator, portal_id: u64, email: &str) -> Option<u64> {
    sim.inner
        .store
        .read(portal_id, |p| {
            p.type_data("0-1")
                .and_then(|td| td.find_unique("email", email))
        })
        .flatten()
}

/// Writes token values onto existing CRM properties of the object, as an API write of
/// `app_id` (so webhooks fire). Properties that do not exist are skipped.
pub fn copy_to_properties(
    sim: &Simulator,
    portal_id: u64,
    object_type: &str,
    object_id: u64,
    app_id: Option<u64>,
    values: &[(String, String)],
) {
    if values.is_empty() {
        return;
    }
    let t = type_id(object_type);
    let existing: Vec<(String, String)> = sim
        .inner
        .store
        .read(portal_id, |p| {
            p.type_data(t)
                .map(|td| {
                    values
                        .iter()
                        .filter(|(k, _)| td.prop(k).is_some())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if existing.is_empty() {
        return;
    }
    sim.inner.store.write(
        portal_id,
        Some(&sim.inner.changes),
        ChangeSource::api(app_id),
        |tx| tx.update(t, object_id, &existing),
    );
}
