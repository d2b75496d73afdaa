//! The worker pools: one apalis worker per queue (realtime, bulk), each with its own
//! concurrency, over [`RedisQueue`] backends built from the producers' queue clients (same
//! prefix and queue configuration).

use std::sync::Arc;
use std::time::Duration;

use apalis::layers::WorkerBuilderExt;
use apalis::prelude::{Data, Monitor, WorkerBuilder};
use hubsync_core::jobs::Job;
use hubsync_queue::{JobError, JobInfo, RedisQueue};
use tokio::sync::watch;

use crate::WorkerOptions;
use crate::handler::Handler;

/// How long in-flight jobs may finish after a shutdown request; past it their leases expire
/// and another replica takes them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Pause before the pools start again after the monitor itself failed.
const RESTART_PAUSE: Duration = Duration::from_secs(2);

async fn run_job(
    job: Job,
    info: Data<JobInfo>,
    handler: Data<Arc<Handler>>,
) -> Result<(), JobError> {
    handler.handle(job, &info).await
}

pub(crate) async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let handler = Arc::new(Handler::new(ctx, jobs.clone()));
    let id = format!("worker-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    tracing::info!(
        worker_id = %id,
        realtime_concurrency = opts.realtime_concurrency,
        bulk_concurrency = opts.bulk_concurrency,
        "worker ready"
    );
    loop {
        if *shutdown.borrow() {
            break;
        }
        let (rt, bulk) = (jobs.realtime.clone(), jobs.bulk.clone());
        let (h1, h2) = (handler.clone(), handler.clone());
        let (rt_name, bulk_name) = (format!("{id}-realtime"), format!("{id}-bulk"));
        let (rt_n, bulk_n) = (
            opts.realtime_concurrency.max(1),
            opts.bulk_concurrency.max(1),
        );
        let monitor = Monitor::new()
            .register(move |_restarts| {
                WorkerBuilder::new(rt_name.clone())
                    .backend(RedisQueue::from_client(&rt))
                    .concurrency(rt_n)
                    .data(h1.clone())
                    .build(run_job)
            })
            .register(move |_restarts| {
                WorkerBuilder::new(bulk_name.clone())
                    .backend(RedisQueue::from_client(&bulk))
                    .concurrency(bulk_n)
                    .data(h2.clone())
                    .build(run_job)
            })
            .should_restart(|ctx, e| {
                tracing::error!(worker = %ctx.name(), error = %e, "worker pool failed; restarting");
                true
            })
            .shutdown_timeout(SHUTDOWN_GRACE);
        let mut stop = shutdown.clone();
        let res = monitor
            .run_with_signal(async move {
                let _ = stop.wait_for(|s| *s).await;
                Ok(())
            })
            .await;
        match res {
            Ok(()) if *shutdown.borrow() => break,
            Ok(()) => tracing::warn!("worker pools ended unexpectedly; starting them again"),
            Err(e) => tracing::error!(error = %e, "worker pools failed; starting them again"),
        }
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            () = tokio::time::sleep(RESTART_PAUSE) => {}
        }
    }
    tracing::info!(worker_id = %id, "worker stopped");
    Ok(())
}
