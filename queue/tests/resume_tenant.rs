//! `QueueAdmin::resume_tenant`: one tenant's parked (delayed) jobs become waiting at once,
//! other tenants' delayed jobs stay where they are; more than one script slice is walked.

mod common;

use std::time::Duration;

use common::{TestJob, TestQueue};
use hubsync_queue::{JobFilter, JobState, NewJob};

const FAR: Duration = Duration::from_secs(30 * 24 * 3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_tenant_moves_only_that_tenants_delayed_jobs() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();

    // Interleaved so the paused tenant's jobs are spread over several 500-entry slices.
    for first in (0..1_300u64).step_by(100) {
        let jobs = (first..first + 100)
            .map(|n| {
                let tenant = if n % 2 == 0 { "paused" } else { "other" };
                NewJob::new(tenant, TestJob::new(n)).delay(FAR + Duration::from_millis(n))
            })
            .collect();
        producer.enqueue_many(jobs).await.expect("enqueue");
    }
    let ready = producer
        .enqueue(NewJob::new("paused", TestJob::new(9_999)))
        .await
        .expect("enqueue");
    let before = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(before.tenants["paused"].delayed, 650);
    assert_eq!(before.tenants["paused"].waiting, 1);

    let moved = admin.resume_tenant("paused").await.expect("resume");
    assert_eq!(moved, 650);

    let after = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(after.tenants["paused"].delayed, 0);
    assert_eq!(after.tenants["paused"].waiting, 651);
    assert_eq!(after.tenants["other"].delayed, 650);
    assert_eq!(after.tenants["other"].waiting, 0);
    assert_eq!(after.counts.delayed, 650);
    assert_eq!(after.counters.get("resumed"), Some(&650));

    // The job that was already waiting stays first; resumed ones follow in delayed order.
    let page = admin
        .list(
            JobState::Waiting,
            &JobFilter::all().tenant("paused"),
            3,
            None,
        )
        .await
        .expect("list");
    let ns: Vec<u64> = page.jobs.iter().map(|r| decode(&r.payload)).collect();
    assert_eq!(ns, vec![9_999, 0, 2]);
    assert_eq!(page.jobs[0].id, *ready.id());

    // Nothing left to move: a second call is a no-op.
    assert_eq!(admin.resume_tenant("paused").await.expect("resume"), 0);
    assert_eq!(admin.resume_tenant("nobody").await.expect("resume"), 0);
}

fn decode(payload: &Option<String>) -> u64 {
    let payload = payload.as_deref().expect("payload kept");
    serde_json::from_str::<TestJob>(payload).expect("payload").n
}
