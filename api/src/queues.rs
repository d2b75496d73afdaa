//! The cluster's job queues as the API sees them: one [`QueueAdmin`] per name in
//! [`hubsync_queue::QUEUE_NAMES`] (realtime first), built once at start under the cluster's
//! Redis prefix. Building connects lazily, so a process starts even while Redis is down.

use std::sync::Arc;

use hubsync_queue::{QUEUE_NAMES, QueueAdmin, QueueConfig, QueueError};

/// Operator handles of every queue of the cluster. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Queues {
    admins: Arc<[QueueAdmin]>,
}

impl Queues {
    /// One admin per queue of [`QUEUE_NAMES`] under `prefix` (`QueueConfig::new(prefix, name)`).
    pub fn new(client: redis::Client, prefix: &str) -> Result<Self, QueueError> {
        let admins = QUEUE_NAMES
            .iter()
            .map(|name| QueueAdmin::new(client.clone(), QueueConfig::new(prefix, *name)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_admins(admins))
    }

    /// These admins, in this order (for callers with their own configurations).
    pub fn from_admins(admins: Vec<QueueAdmin>) -> Self {
        Self {
            admins: admins.into(),
        }
    }

    /// The queue named `name`.
    pub fn get(&self, name: &str) -> Option<&QueueAdmin> {
        self.admins.iter().find(|a| a.config().name == name)
    }

    /// Every queue, in order.
    pub fn iter(&self) -> impl Iterator<Item = &QueueAdmin> {
        self.admins.iter()
    }

    /// The queue names, comma-separated (for error messages).
    pub fn names(&self) -> String {
        self.admins
            .iter()
            .map(|a| a.config().name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
