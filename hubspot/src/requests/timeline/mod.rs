//! Timeline events v3 (§8), under `/integrators/timeline/v3`.

mod batch_create_events;
mod create_event;
mod create_template;
mod list_templates;

pub use batch_create_events::BatchCreateTimelineEvents;
pub use create_event::CreateTimelineEvent;
pub use create_template::CreateEventTemplate;
pub use list_templates::ListEventTemplates;

pub(crate) const PREFIX: &str = "/integrators/timeline/v3";
