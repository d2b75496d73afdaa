//! Full sync: a run over every enabled object mapping of an integration, driven from the
//! Userflow side (only objects in both systems sync, and Userflow holds only product users).
//!
//! - [`start_run`] creates a `full_sync_runs` row and one `full_sync_shards` row per enabled
//!   mapping, and queues one [`Job::FullSyncShard`](hubsync_core::jobs::Job::FullSyncShard)
//!   per shard on the bulk queue. One run per integration at a time.
//! - [`run_shard`] (the worker's handler) pages through the mapping's Userflow users or groups
//!   100 at a time, batch-reads the matching HubSpot objects by `idProperty` (the mapping's
//!   match property) through the shared rate limiter, and queues a `SyncFromUserflow` and a
//!   `SyncFromHubspot` job per pair found on the bulk queue. After every page it checkpoints
//!   the position and counts in the shard row ([`ShardState`]), so a killed worker's job,
//!   re-run by the queue's reaper, resumes at the next page.
//! - [`RunProgress`] is a run's progress: the sums of its shards.
//!
//! Sharding: one shard per mapping. Userflow lists have a single cursor (`starting_after`,
//! creation order) and no filter on id ranges, so splitting a mapping's id space would make
//! every shard read every page; the parallelism is in the per-object jobs each page fans out
//! to the bulk queue, which is where the work (reads, diffs, writes) is.

mod lookup;
mod runs;
mod shard;
mod state;

#[cfg(test)]
mod tests;

pub use runs::{
    RunProgress, STALE_AFTER, ShardProgress, StartError, active_run, cancel_active_runs,
    cancel_run, cancel_runs_of_inactive, find_run, latest_run, list_runs, run_progress, start_run,
};
pub use shard::{ShardEnd, ShardOptions, ShardOutcome, run_shard, run_shard_with};
pub use state::ShardState;
