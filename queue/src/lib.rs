//! A durable Redis job queue for [apalis] workers: per-job leases with fencing tokens,
//! instant pickup, idempotency and coalescing, exponential backoff with jitter, "retry at"
//! without using an attempt, dead letters, per-tenant fairness and bounded memory.
//! Design and rationale: `docs/queue-design.md`.
//!
//! - Producers push with [`QueueClient::enqueue`] / [`QueueClient::enqueue_many`].
//! - Workers use [`RedisQueue`] as an apalis backend (`Kind = Ephemeral`, decoding done
//!   here: an undecodable payload is buried, never an error to the worker).
//! - Handlers return [`JobError`] to choose retry, retry-at or permanent failure, and can take
//!   `Data<JobInfo>` for the job id, tenant and attempt.
//! - Operators use [`QueueAdmin`]; [`debug::dump`] renders a queue's keys.
//!
//! # Realtime before bulk
//!
//! Realtime and bulk are two queues (two [`QueueConfig`]s with different `name`s, hence two
//! hash tags). Run one worker pool per queue, each with its own `.concurrency(n)`: bulk work
//! can then never occupy realtime slots, and realtime latency does not depend on the bulk
//! backlog. A process typically registers more realtime than bulk workers:
//!
//! ```ignore
//! let rt = RedisQueue::<SyncJob>::new(client.clone(), QueueConfig::new("hubsync", "realtime"))?;
//! let bulk = RedisQueue::<SyncJob>::new(client, QueueConfig::new("hubsync", "bulk"))?;
//! Monitor::new()
//!     .register(move |_| WorkerBuilder::new("realtime").backend(rt.clone()).concurrency(32).build(handle))
//!     .register(move |_| WorkerBuilder::new("bulk").backend(bulk.clone()).concurrency(8).build(handle))
//!     .should_restart(|_, _| true)
//!     .shutdown_timeout(Duration::from_secs(30))
//!     .run_with_signal(tokio::signal::ctrl_c())
//!     .await?;
//! ```
//!
//! Within a queue, tenants are served round robin (one job per tenant in turn), so a tenant
//! with a million waiting jobs delays another tenant's next job by at most about
//! `1.5 × prefetch + concurrency` jobs (a lease call spreads its `prefetch` jobs evenly over
//! the tenants at the head of the ring).
//!
//! # Retry policy
//!
//! Our own [`BackoffPolicy`] (`min(cap, base·2^(attempt−1))` with equal jitter), not the
//! unmaintained `backoff` crate (RUSTSEC-2025-0012). Do not add apalis's `.retry()` layer:
//! it retries in-process and is not durable. A panicking handler is caught by the backend
//! layer and retried like any failure.
//!
//! [apalis]: https://docs.rs/apalis

mod admin;
mod backend;
mod client;
mod config;
pub mod debug;
mod error;
mod job;
mod keeper;
pub mod keys;
mod layer;
mod metrics;
mod ops;
mod reaper;

pub use admin::{JobFilter, JobPage, LatencyHistogram, QueueAdmin, QueueStats, StateCounts};
pub use backend::RedisQueue;
pub use client::QueueClient;
pub use config::{BackoffPolicy, Jitter, QueueConfig};
pub use error::{JobError, QueueError, Result};
pub use job::{EnqueueOutcome, JobId, JobInfo, JobRecord, JobState, NewJob};
pub use keeper::SettleOutcome;
pub use layer::{LeaseLayer, LeaseService};
pub use reaper::ReapReport;

/// The cluster's queues, realtime first. Every role builds its [`QueueConfig`]s from this
/// list with `QueueConfig::new(<redis prefix>, name)`; the operator API serves exactly these.
pub const QUEUE_NAMES: [&str; 2] = ["realtime", "bulk"];
