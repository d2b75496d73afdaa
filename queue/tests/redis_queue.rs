//! Integration tests against a real Redis (HUBSYNC_TEST_REDIS_URL, default
//! redis://127.0.0.1:6379). Each test uses its own `test-<uuid>` prefix and deletes its keys.

mod common;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::*;
use hubsync_queue::{
    BackoffPolicy, EnqueueOutcome, Jitter, JobError, JobFilter, JobState, NewJob, QueueClient,
    debug,
};

const WAIT: Duration = Duration::from_secs(20);

fn ok() -> Behavior {
    behavior(|_, _| async { Ok(()) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_acks_jobs_through_apalis() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let worker = spawn_worker(
        tq.queue(),
        4,
        behavior(move |job, info| {
            let s = s.clone();
            async move {
                s.lock()
                    .expect("lock")
                    .push((job.n, info.attempt, info.tenant.clone()));
                Ok(())
            }
        }),
    );
    let jobs = (0..50)
        .map(|n| NewJob::new(format!("t{}", n % 3), TestJob::new(n)))
        .collect();
    let out = producer.enqueue_many(jobs).await.expect("enqueue");
    assert!(out.iter().all(|o| matches!(o, EnqueueOutcome::Enqueued(_))));
    eventually(WAIT, "50 completed", || async {
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counters
            .get("completed")
            == Some(&50)
    })
    .await;
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(stats.counts.active, 0);
    assert_eq!(stats.counts.waiting, 0);
    assert_eq!(stats.counts.completed, 50);
    assert_eq!(stats.wait.count(), 50);
    assert_eq!(stats.run.count(), 50);
    assert!(stats.wait.quantile(0.99).is_some());
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 50, "each job ran exactly once");
    assert!(seen.iter().all(|(_, attempt, _)| *attempt == 1));
    let rec = admin
        .job(out[0].id().as_str())
        .await
        .expect("job")
        .expect("kept for retention");
    assert_eq!(rec.state, JobState::Completed);
    assert_eq!(rec.attempts, 1);
    assert!(rec.done_ms.is_some());
    worker.stop().await;
}

/// Eight pushers each enqueue `per_pusher` jobs (job `k` of each pusher shaped by `shape`);
/// returns how many were new, and the job ids named for each `k`. Every push that was not new
/// must satisfy `not_new`.
async fn push_concurrently(
    producer: &QueueClient<TestJob>,
    per_pusher: u64,
    not_new: fn(&EnqueueOutcome) -> bool,
    shape: fn(NewJob<TestJob>, u64) -> NewJob<TestJob>,
) -> (usize, HashMap<u64, HashSet<String>>) {
    let mut tasks = Vec::new();
    for pusher in 0..8u64 {
        let p = producer.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for k in 0..per_pusher {
                let job = shape(NewJob::new("t", TestJob::new(pusher * 100 + k)), k);
                out.push((k, p.enqueue(job).await.expect("enqueue")));
            }
            out
        }));
    }
    let mut by_key: HashMap<u64, HashSet<String>> = HashMap::new();
    let mut new = 0;
    for t in tasks {
        for (k, o) in t.await.expect("pusher") {
            if o.is_new() {
                new += 1;
            } else {
                assert!(not_new(&o), "{o:?}");
            }
            by_key.entry(k).or_default().insert(o.id().0.clone());
        }
    }
    (new, by_key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_under_concurrent_pushers() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let (new, by_key) = push_concurrently(
        &producer,
        20,
        |o| matches!(o, EnqueueOutcome::Duplicate(_)),
        |job, k| job.idempotency_key(format!("evt-{k}")),
    )
    .await;
    assert_eq!(new, 20, "one job per idempotency key");
    assert!(
        by_key.values().all(|ids| ids.len() == 1),
        "duplicates return the existing id"
    );
    let stats = tq
        .admin()
        .stats(Duration::from_secs(60))
        .await
        .expect("stats");
    assert_eq!(stats.counts.waiting, 20);
    assert_eq!(stats.counters.get("duplicate"), Some(&140));

    // The key lives only for its TTL.
    let first = producer
        .enqueue(
            NewJob::new("t", TestJob::new(1))
                .idempotency_key("short")
                .idempotency_ttl(Duration::from_millis(200)),
        )
        .await
        .expect("enqueue");
    let dup = producer
        .enqueue(NewJob::new("t", TestJob::new(2)).idempotency_key("short"))
        .await
        .expect("enqueue");
    assert_eq!(dup, EnqueueOutcome::Duplicate(first.id().clone()));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = producer
        .enqueue(NewJob::new("t", TestJob::new(3)).idempotency_key("short"))
        .await
        .expect("enqueue");
    assert!(later.is_new() && later.id() != first.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_under_concurrent_pushers_keeps_one_pending_job_per_key() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let (new, by_key) = push_concurrently(
        &producer,
        20,
        |o| matches!(o, EnqueueOutcome::Coalesced(_)),
        |job, k| job.coalesce_key(format!("contact-{}", k % 5)),
    )
    .await;
    assert_eq!(new, 5, "one pending job per coalescing key");
    assert!(
        by_key.values().all(|ids| ids.len() == 1),
        "every push names the pending job"
    );
    let stats = tq
        .admin()
        .stats(Duration::from_secs(60))
        .await
        .expect("stats");
    assert_eq!(stats.counts.waiting, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_keeps_one_pending_job() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let first = producer
        .enqueue(NewJob::new("t", TestJob::new(0)).coalesce_key("contact-1"))
        .await
        .expect("enqueue");
    assert!(matches!(first, EnqueueOutcome::Enqueued(_)));
    for n in 1..10 {
        let o = producer
            .enqueue(
                NewJob::new("t", TestJob::new(n))
                    .coalesce_key("contact-1")
                    .coalesce_replace(true),
            )
            .await
            .expect("enqueue");
        assert_eq!(o, EnqueueOutcome::Coalesced(first.id().clone()));
    }
    let rec = admin
        .job(first.id().as_str())
        .await
        .expect("job")
        .expect("exists");
    assert_eq!(
        rec.payload.as_deref(),
        Some(r#"{"n":9,"tag":""}"#),
        "replace mode keeps the latest payload"
    );
    assert_eq!(
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counts
            .waiting,
        1
    );

    // Once the job has started, a new push creates a new job.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let release = Arc::new(tokio::sync::Notify::new());
    let r = release.clone();
    let worker = spawn_worker(
        tq.queue(),
        2,
        behavior(move |job, _| {
            let tx = started_tx.clone();
            let r = r.clone();
            async move {
                if job.n == 9 {
                    if let Some(tx) = tx.lock().expect("lock").take() {
                        let _ = tx.send(());
                    }
                    r.notified().await;
                }
                Ok(())
            }
        }),
    );
    tokio::time::timeout(WAIT, started_rx)
        .await
        .expect("job started")
        .expect("signal");
    let second = producer
        .enqueue(NewJob::new("t", TestJob::new(10)).coalesce_key("contact-1"))
        .await
        .expect("enqueue");
    assert!(second.is_new(), "{second:?}");
    assert_ne!(second.id(), first.id());
    release.notify_one();
    eventually(WAIT, "both completed", || async {
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counters
            .get("completed")
            == Some(&2)
    })
    .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_delays_attempts_and_dead_letter() {
    let tq = TestQueue::new(|c| {
        c.backoff = BackoffPolicy {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
            max_attempts: 3,
            jitter: Jitter::None,
        };
    });
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let runs = Arc::new(Mutex::new(Vec::<(u32, Instant)>::new()));
    let r = runs.clone();
    let worker = spawn_worker(
        tq.queue(),
        2,
        behavior(move |_, info| {
            let r = r.clone();
            async move {
                r.lock().expect("lock").push((info.attempt, Instant::now()));
                Err(JobError::retry(format!(
                    "upstream 500 on attempt {}",
                    info.attempt
                )))
            }
        }),
    );
    let id = producer
        .enqueue(NewJob::new("t", TestJob::new(1)))
        .await
        .expect("enqueue")
        .id()
        .clone();
    eventually(WAIT, "job dead", || async {
        admin
            .job(id.as_str())
            .await
            .expect("job")
            .is_some_and(|r| r.state == JobState::Dead)
    })
    .await;
    let runs = runs.lock().expect("lock").clone();
    assert_eq!(runs.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    // Backoff: 200 ms after attempt 1, 400 ms after attempt 2 (lower bounds only).
    assert!(
        runs[1].1 - runs[0].1 >= Duration::from_millis(190),
        "{:?}",
        runs[1].1 - runs[0].1
    );
    assert!(
        runs[2].1 - runs[1].1 >= Duration::from_millis(390),
        "{:?}",
        runs[2].1 - runs[1].1
    );
    let rec = admin
        .job(id.as_str())
        .await
        .expect("job")
        .expect("dead job kept");
    assert_eq!(rec.attempts, 3);
    assert_eq!(rec.max_attempts, 3);
    assert!(
        rec.last_error
            .as_deref()
            .is_some_and(|e| e.contains("attempt 3")),
        "{rec:?}"
    );
    assert!(rec.died_ms.is_some() && rec.payload.is_some());
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(stats.counts.dead, 1);
    assert_eq!(stats.counters.get("retried"), Some(&2));
    assert_eq!(stats.tenants.get("t").map(|c| c.dead), Some(1));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_at_does_not_use_attempts() {
    let tq = TestQueue::new(|c| c.backoff.max_attempts = 2);
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let calls = Arc::new(AtomicU64::new(0));
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let (c, a) = (calls.clone(), attempts.clone());
    let worker = spawn_worker(
        tq.queue(),
        1,
        behavior(move |_, info| {
            let (c, a) = (c.clone(), a.clone());
            async move {
                a.lock().expect("lock").push(info.attempt);
                if c.fetch_add(1, Ordering::SeqCst) < 5 {
                    Err(JobError::retry_after(
                        Duration::from_millis(50),
                        "429 rate limited",
                    ))
                } else {
                    Ok(())
                }
            }
        }),
    );
    let id = producer
        .enqueue(NewJob::new("t", TestJob::new(1)))
        .await
        .expect("enqueue")
        .id()
        .clone();
    eventually(WAIT, "job completed", || async {
        admin
            .job(id.as_str())
            .await
            .expect("job")
            .is_some_and(|r| r.state == JobState::Completed)
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    assert_eq!(
        *attempts.lock().expect("lock"),
        vec![1; 6],
        "deferrals never use an attempt"
    );
    let rec = admin.job(id.as_str()).await.expect("job").expect("kept");
    assert_eq!(rec.attempts, 1);
    assert_eq!(rec.deferrals, 5);
    assert_eq!(
        rec.last_defer.as_deref().map(|s| s.contains("429")),
        Some(true)
    );
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(stats.counters.get("deferred"), Some(&5));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_lifecycle_via_admin() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let worker = spawn_worker(
        tq.queue(),
        4,
        behavior(|job, info| async move {
            Err(JobError::permanent(format!(
                "boom-{} job {}",
                info.tenant, job.n
            )))
        }),
    );
    let mut jobs = Vec::new();
    for n in 0..5 {
        jobs.push(NewJob::new("a", TestJob::new(n)));
    }
    for n in 5..12 {
        jobs.push(NewJob::new("b", TestJob::new(n)));
    }
    producer.enqueue_many(jobs).await.expect("enqueue");
    eventually(WAIT, "12 dead", || async {
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counts
            .dead
            == 12
    })
    .await;
    worker.stop().await;

    // List with paging and filters.
    let page1 = admin
        .list(JobState::Dead, &JobFilter::all(), 5, None)
        .await
        .expect("list");
    assert_eq!(page1.jobs.len(), 5);
    let page2 = admin
        .list(
            JobState::Dead,
            &JobFilter::all(),
            100,
            page1.next_cursor.as_deref(),
        )
        .await
        .expect("list");
    assert_eq!(page2.jobs.len(), 7);
    let all: HashSet<_> = page1
        .jobs
        .iter()
        .chain(&page2.jobs)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(all.len(), 12, "pages do not overlap");
    let only_a = admin
        .list(JobState::Dead, &JobFilter::all().tenant("a"), 100, None)
        .await
        .expect("list");
    assert_eq!(only_a.jobs.len(), 5);
    let by_text = admin
        .list(
            JobState::Dead,
            &JobFilter::all().error_contains("BOOM-b JOB 7"),
            100,
            None,
        )
        .await
        .expect("list");
    assert_eq!(by_text.jobs.len(), 1);

    // Inspect.
    let rec = by_text.jobs[0].clone();
    let inspected = admin
        .job(rec.id.as_str())
        .await
        .expect("job")
        .expect("exists");
    assert_eq!(inspected.state, JobState::Dead);
    assert_eq!(inspected.tenant, "b");
    assert_eq!(inspected.attempts, 1);
    assert_eq!(inspected.payload.as_deref(), Some(r#"{"n":7,"tag":""}"#));
    assert!(
        inspected
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("boom-b job 7"))
    );
    assert!(inspected.died_ms.is_some() && inspected.enqueued_ms > 0);

    // Retry one, discard one.
    assert!(admin.retry(rec.id.as_str()).await.expect("retry"));
    assert!(
        !admin.retry(rec.id.as_str()).await.expect("retry"),
        "no longer dead"
    );
    let revived = admin
        .job(rec.id.as_str())
        .await
        .expect("job")
        .expect("exists");
    assert_eq!((revived.state, revived.attempts), (JobState::Waiting, 0));
    let victim = only_a.jobs[0].id.clone();
    assert!(admin.discard(victim.as_str()).await.expect("discard"));
    assert!(admin.job(victim.as_str()).await.expect("job").is_none());

    // Retry all matching, discard all matching, purge.
    assert_eq!(
        admin
            .retry_matching(&JobFilter::all().tenant("b"))
            .await
            .expect("retry"),
        6
    );
    assert_eq!(
        admin
            .discard_matching(
                JobState::Dead,
                &JobFilter::all().error_contains("boom-a job")
            )
            .await
            .expect("discard"),
        4
    );
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!((stats.counts.dead, stats.counts.waiting), (0, 7));
    let waiting = admin
        .list(JobState::Waiting, &JobFilter::all(), 100, None)
        .await
        .expect("list");
    assert_eq!(waiting.jobs.len(), 7);
    assert_eq!(admin.purge(JobState::Waiting).await.expect("purge"), 7);
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(stats.counts, Default::default());
    assert!(stats.tenants.is_empty(), "{:?}", stats.tenants);
    let keys = tq.key_names().await;
    assert!(
        keys.iter()
            .all(|k| !k.contains(":job:") && !k.contains(":w:")),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_is_reclaimed_with_attempts_kept() {
    let tq = TestQueue::new(|c| {
        c.lease = Duration::from_millis(1000);
        c.reaper_period = Duration::from_millis(100);
    });
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<u32>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    // Worker 1 takes the job and hangs; then it "dies" (task aborted: no ack, no renewals).
    let doomed = spawn_worker(
        tq.queue(),
        1,
        behavior(move |_, info| {
            let tx = started_tx.clone();
            async move {
                if let Some(tx) = tx.lock().expect("lock").take() {
                    let _ = tx.send(info.attempt);
                }
                futures::future::pending::<()>().await;
                Ok(())
            }
        }),
    );
    let id = producer
        .enqueue(NewJob::new("t", TestJob::new(1)))
        .await
        .expect("enqueue")
        .id()
        .clone();
    let first_attempt = tokio::time::timeout(WAIT, started_rx)
        .await
        .expect("started")
        .expect("signal");
    assert_eq!(first_attempt, 1);
    // The lease is renewed while the worker lives: after 2 leases it is still active.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        admin
            .job(id.as_str())
            .await
            .expect("job")
            .expect("exists")
            .state,
        JobState::Active
    );
    doomed.abort();
    let killed_at = Instant::now();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let rescuer = spawn_worker(
        tq.queue(),
        1,
        behavior(move |_, info| {
            let s = s.clone();
            async move {
                s.lock().expect("lock").push(info.attempt);
                Ok(())
            }
        }),
    );
    eventually(WAIT, "job completed by the second worker", || async {
        admin
            .job(id.as_str())
            .await
            .expect("job")
            .is_some_and(|r| r.state == JobState::Completed)
    })
    .await;
    assert!(killed_at.elapsed() < Duration::from_secs(10));
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![2],
        "attempt count kept across the reclaim"
    );
    let rec = admin.job(id.as_str()).await.expect("job").expect("kept");
    assert_eq!((rec.attempts, rec.reclaims), (2, 1));
    rescuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_payload_is_buried_and_worker_keeps_running() {
    let tq = TestQueue::new(|_| {});
    let raw: QueueClient<serde_json::Value> = tq.producer();
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    let worker = spawn_worker(
        tq.queue(),
        2,
        behavior(move |_, _| {
            let d = d.clone();
            async move {
                d.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }),
    );
    let bad = raw
        .enqueue(NewJob::new("t", serde_json::json!({"wrong": true})))
        .await
        .expect("enqueue")
        .id()
        .clone();
    producer
        .enqueue(NewJob::new("t", TestJob::new(1)))
        .await
        .expect("enqueue");
    eventually(WAIT, "bad job dead", || async {
        admin
            .job(bad.as_str())
            .await
            .expect("job")
            .is_some_and(|r| r.state == JobState::Dead)
    })
    .await;
    let rec = admin.job(bad.as_str()).await.expect("job").expect("kept");
    assert!(
        rec.last_error
            .as_deref()
            .is_some_and(|e| e.contains("undecodable payload")),
        "{rec:?}"
    );
    assert_eq!(rec.payload.as_deref(), Some(r#"{"wrong":true}"#));
    // The worker is still alive and processes later jobs.
    producer
        .enqueue(NewJob::new("t", TestJob::new(2)))
        .await
        .expect("enqueue");
    eventually(WAIT, "good jobs done", || async {
        done.load(Ordering::SeqCst) == 2
    })
    .await;
    worker.stop().await;
}

/// Tenant A has 20,000 waiting jobs; tenant B pushes 100 after. With round robin, B's jobs
/// interleave one to one with A's, so while B's 100 jobs start, at most
/// 100 (interleaved) + prefetch (already leased) + prefetch (a lease call in flight) + 16
/// (slack) = 132 of A's jobs start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_served_round_robin() {
    const A_JOBS: u64 = 20_000;
    const B_JOBS: u64 = 100;
    const BOUND: u64 = B_JOBS + 8 + 8 + 16;
    let tq = TestQueue::new(|c| {
        c.prefetch = 8;
        c.completed_retention = Duration::ZERO;
    });
    let producer = tq.producer::<TestJob>();
    let seq = Arc::new(AtomicU64::new(0));
    let a_started = Arc::new(AtomicU64::new(0));
    let b_last_a = Arc::new(AtomicU64::new(0));
    let b_done = Arc::new(AtomicU64::new(0));
    let (s, a, bl, bd) = (
        seq.clone(),
        a_started.clone(),
        b_last_a.clone(),
        b_done.clone(),
    );
    let worker = spawn_worker(
        tq.queue(),
        16,
        behavior(move |_, info| {
            let (s, a, bl, bd) = (s.clone(), a.clone(), bl.clone(), bd.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                if info.tenant == "A" {
                    a.fetch_add(1, Ordering::SeqCst);
                } else {
                    bl.fetch_max(a.load(Ordering::SeqCst), Ordering::SeqCst);
                    bd.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            }
        }),
    );
    let jobs: Vec<_> = (0..A_JOBS)
        .map(|n| NewJob::new("A", TestJob::new(n)))
        .collect();
    producer.enqueue_many(jobs).await.expect("enqueue A");
    let jobs: Vec<_> = (0..B_JOBS)
        .map(|n| NewJob::new("B", TestJob::new(n)))
        .collect();
    producer.enqueue_many(jobs).await.expect("enqueue B");
    let a_at_push = a_started.load(Ordering::SeqCst);
    eventually(Duration::from_secs(60), "B's jobs done", || async {
        b_done.load(Ordering::SeqCst) == B_JOBS
    })
    .await;
    let a_during = b_last_a.load(Ordering::SeqCst).saturating_sub(a_at_push);
    assert!(
        b_last_a.load(Ordering::SeqCst) < A_JOBS,
        "A still had a backlog when B finished (otherwise the test proves nothing)"
    );
    eprintln!(
        "fairness: A started before B push: {a_at_push}, during B: {a_during}, A started when last B ran: {}",
        b_last_a.load(Ordering::SeqCst)
    );
    assert!(
        a_during <= BOUND,
        "{a_during} of A's jobs started while B's 100 waited (bound {BOUND})"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_jobs_expire_and_keyspace_returns_to_baseline() {
    let tq = TestQueue::new(|c| {
        c.completed_retention = Duration::from_millis(500);
        c.reaper_period = Duration::from_millis(100);
    });
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let worker = spawn_worker(tq.queue(), 8, ok());
    let not_lat = |keys: Vec<String>| -> Vec<String> {
        keys.into_iter().filter(|k| !k.contains(":lat:")).collect()
    };

    // Baseline: the queue after one job has come and gone (counters, worker beat).
    producer
        .enqueue(NewJob::new("t", TestJob::new(0)))
        .await
        .expect("enqueue");
    eventually(WAIT, "warm-up job removed", || async {
        not_lat(tq.key_names().await)
            .iter()
            .all(|k| !k.contains(":job:") && !k.ends_with(":done"))
    })
    .await;
    let baseline = not_lat(tq.key_names().await);

    let jobs: Vec<_> = (0..300)
        .map(|n| {
            NewJob::new(format!("t{}", n % 7), TestJob::new(n))
                .idempotency_key(format!("evt-{n}"))
                .idempotency_ttl(Duration::from_millis(300))
        })
        .collect();
    producer.enqueue_many(jobs).await.expect("enqueue");
    eventually(WAIT, "300 completed", || async {
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counters
            .get("completed")
            == Some(&301)
    })
    .await;
    eventually(WAIT, "keyspace back to baseline", || async {
        not_lat(tq.key_names().await) == baseline
    })
    .await;
    let lat = tq
        .key_names()
        .await
        .into_iter()
        .filter(|k| k.contains(":lat:"))
        .count();
    assert!(lat <= 3, "latency keys are per minute with a TTL: {lat}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    admin.pause().await.expect("pause");
    assert!(admin.is_paused().await.expect("paused"));
    let started = Arc::new(AtomicU64::new(0));
    let s = started.clone();
    let worker = spawn_worker(
        tq.queue(),
        2,
        behavior(move |_, _| {
            let s = s.clone();
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }),
    );
    let jobs = (0..5).map(|n| NewJob::new("t", TestJob::new(n))).collect();
    producer.enqueue_many(jobs).await.expect("enqueue");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        0,
        "nothing leased while paused"
    );
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert!(stats.paused);
    assert_eq!(stats.counts.waiting, 5);
    admin.resume().await.expect("resume");
    eventually(WAIT, "all 5 ran after resume", || async {
        started.load(Ordering::SeqCst) == 5
    })
    .await;
    worker.stop().await;
}

/// With `idle_block` = 30 s, only the wake-up marker can make an idle worker start a new job
/// within 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_worker_picks_up_a_new_job_at_once() {
    let tq = TestQueue::new(|c| c.idle_block = Duration::from_secs(30));
    let producer = tq.producer::<TestJob>();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let worker = spawn_worker(
        tq.queue(),
        1,
        behavior(move |_, _| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Instant::now());
                Ok(())
            }
        }),
    );
    // Let the worker find the queue empty and block.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for n in 0..3 {
        let pushed = Instant::now();
        producer
            .enqueue(NewJob::new("t", TestJob::new(n)))
            .await
            .expect("enqueue");
        let started = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("picked up")
            .expect("signal");
        let latency = started.duration_since(pushed);
        assert!(latency < Duration::from_secs(2), "pickup took {latency:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_releases_unstarted_jobs() {
    let tq = TestQueue::new(|c| c.prefetch = 8);
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let worker = spawn_worker(
        tq.queue(),
        1,
        behavior(move |_, _| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(());
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            }
        }),
    );
    let jobs = (0..10).map(|n| NewJob::new("t", TestJob::new(n))).collect();
    producer.enqueue_many(jobs).await.expect("enqueue");
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("first job started");
    worker.stop().await;
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(
        stats.counts.active, 0,
        "no job left leased after a graceful stop"
    );
    let completed = stats.counters.get("completed").copied().unwrap_or(0);
    assert!(completed >= 1);
    assert_eq!(stats.counts.waiting + completed, 10);
    assert!(stats.counters.get("released").copied().unwrap_or(0) >= 1);
    let waiting = admin
        .list(JobState::Waiting, &JobFilter::all(), 100, None)
        .await
        .expect("list");
    assert!(
        waiting.jobs.iter().all(|r| r.attempts == 0),
        "released jobs get their attempt back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_dump_renders_the_queue() {
    let tq = TestQueue::new(|_| {});
    let producer = tq.producer::<TestJob>();
    producer
        .enqueue(
            NewJob::new("t1", TestJob::new(1))
                .id("j1")
                .idempotency_key("k")
                .coalesce_key("c"),
        )
        .await
        .expect("enqueue");
    producer
        .enqueue(
            NewJob::new("t2", TestJob::new(2))
                .id("j2")
                .delay(Duration::from_secs(60)),
        )
        .await
        .expect("enqueue");
    let tag = format!("{{{}:q}}", tq.cfg.prefix);
    let dump = debug::dump(&tq.admin(), true)
        .await
        .expect("dump")
        .replace(&tag, "P");
    let expected = r#"P:co:c = j1
P:delayed (zset)
  j2 <t>
P:idem:k = j1
P:job:j1 (hash)
  attempts = 0
  co = c
  deferrals = 0
  due_ms = <t>
  enq_ms = <t>
  idem = k
  max_attempts = 10
  meta = {}
  payload = {"n":1,"tag":""}
  reclaims = 0
  state = waiting
  tenant = t1
P:job:j2 (hash)
  attempts = 0
  co = 
  deferrals = 0
  due_ms = <t>
  enq_ms = <t>
  idem = 
  max_attempts = 10
  meta = {}
  payload = {"n":2,"tag":""}
  reclaims = 0
  state = delayed
  tenant = t2
P:marker (zset)
  r 0
P:ring (list) [t1]
P:stats (hash)
  enqueued = 2
P:tenants (hash)
  delayed:t2 = 1
  waiting:t1 = 1
P:w:t1 (list) [j1]
"#;
    assert_eq!(dump, expected);
    // Re-using an existing id never overwrites the job.
    let again = producer
        .enqueue(NewJob::new("t9", TestJob::new(9)).id("j1"))
        .await
        .expect("enqueue");
    assert_eq!(again, EnqueueOutcome::Duplicate("j1".into()));
}

/// Two queues (realtime and bulk), each with its own pool under one apalis `Monitor`, as
/// the worker binary runs them. The factory captures a `QueueClient` (which is `Sync`) and
/// builds a fresh `RedisQueue` per worker (and per restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_runs_realtime_and_bulk_pools() {
    use apalis::prelude::*;

    let realtime = TestQueue::new(|c| c.name = "realtime".to_owned());
    let bulk = TestQueue::new(|c| c.name = "bulk".to_owned());
    let (rt_client, bulk_client) = (realtime.producer::<TestJob>(), bulk.producer::<TestJob>());
    let done = Arc::new(AtomicU64::new(0));
    let probe = {
        let d = done.clone();
        Probe(behavior(move |_, _| {
            let d = d.clone();
            async move {
                d.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }))
    };
    async fn handle(
        _job: TestJob,
        probe: Data<Probe>,
        info: Data<JobInfoAlias>,
    ) -> Result<(), JobError> {
        let f = probe.0.0.clone();
        f(TestJob::new(0), (*info).clone()).await
    }
    type JobInfoAlias = hubsync_queue::JobInfo;

    let (rt, bk, p1, p2) = (
        rt_client.clone(),
        bulk_client.clone(),
        probe.clone(),
        probe.clone(),
    );
    let monitor = Monitor::new()
        .register_n(2, move |i, _restarts| {
            WorkerBuilder::new(format!("realtime-{i}"))
                .backend(hubsync_queue::RedisQueue::from_client(&rt))
                .concurrency(8)
                .data(p1.clone())
                .build(handle)
        })
        .register(move |_restarts| {
            WorkerBuilder::new("bulk")
                .backend(hubsync_queue::RedisQueue::from_client(&bk))
                .concurrency(2)
                .data(p2.clone())
                .build(handle)
        })
        .should_restart(|_, _| true)
        .shutdown_timeout(Duration::from_secs(20));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(monitor.run_with_signal(async move {
        let _ = stop_rx.await;
        Ok(())
    }));
    rt_client
        .enqueue_many((0..20).map(|n| NewJob::new("t", TestJob::new(n))).collect())
        .await
        .expect("enqueue realtime");
    bulk_client
        .enqueue_many((0..20).map(|n| NewJob::new("t", TestJob::new(n))).collect())
        .await
        .expect("enqueue bulk");
    eventually(WAIT, "40 jobs done", || async {
        done.load(Ordering::SeqCst) == 40
    })
    .await;
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("monitor stops")
        .expect("join")
        .expect("monitor exits cleanly");
}

/// Redis errors never end a worker: with Redis unreachable the backend logs, backs off and
/// retries; the worker keeps running and still stops cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_unreachable_redis() {
    let mut cfg =
        hubsync_queue::QueueConfig::new(format!("test-{}", uuid::Uuid::new_v4().simple()), "q");
    cfg.command_timeout = Duration::from_millis(200);
    let client = redis::Client::open("redis://127.0.0.1:1").expect("url");
    let queue = hubsync_queue::RedisQueue::<TestJob>::new(client, cfg).expect("queue");
    let worker = spawn_worker(queue, 2, ok());
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(
        worker.is_running(),
        "the worker must not exit on Redis errors"
    );
    worker.stop().await;
}

/// A graceful stop deregisters the worker from `P:workers` before the worker returns, so a
/// process that exits right after its `Monitor` (runtime dropped, background tasks
/// cancelled) leaves no worker entry behind.
#[test]
fn graceful_stop_deregisters_the_worker_before_returning() {
    use apalis::prelude::*;

    async fn handle(_job: TestJob) -> Result<(), JobError> {
        Ok(())
    }
    let tq = TestQueue::new(|_| {});
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let producer = tq.producer::<TestJob>();
        let admin = tq.admin();
        let client = producer.clone();
        let monitor = Monitor::new()
            .register_n(2, move |i, _| {
                WorkerBuilder::new(format!("w-{i}"))
                    .backend(hubsync_queue::RedisQueue::from_client(&client))
                    .concurrency(2)
                    .build(handle)
            })
            .shutdown_timeout(Duration::from_secs(20));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(monitor.run_with_signal(async move {
            let _ = stop_rx.await;
            Ok(())
        }));
        producer
            .enqueue(NewJob::new("t", TestJob::new(1)))
            .await
            .expect("enqueue");
        eventually(WAIT, "job done and workers registered", || async {
            let s = admin.stats(Duration::from_secs(60)).await.expect("stats");
            s.counters.get("completed") == Some(&1) && s.live_workers == 2
        })
        .await;
        let _ = stop_tx.send(());
        running.await.expect("join").expect("monitor exits cleanly");
    });
    // What a process does when `main` returns: background tasks are cancelled.
    drop(rt);
    let mut conn = tq.client.get_connection().expect("redis");
    let workers: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{{{}:q}}:workers", tq.cfg.prefix))
        .arg(0)
        .arg(-1)
        .query(&mut conn)
        .expect("ZRANGE");
    assert!(workers.is_empty(), "left behind: {workers:?}");
}

/// A lease sent ahead while every slot is busy must still be renewed: its jobs reach the
/// keeper's registry from `poll_ready`, not only when a slot frees up. With a lease much
/// shorter than the jobs, a lost lease would show up as a reclaim and a second run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_sent_ahead_are_renewed_while_slots_are_busy() {
    let tq = TestQueue::new(|c| {
        c.prefetch = 4;
        c.lease = Duration::from_millis(400);
        c.reaper_period = Duration::from_millis(50);
    });
    let producer = tq.producer::<TestJob>();
    let admin = tq.admin();
    let runs = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
    let r = runs.clone();
    let worker = spawn_worker(
        tq.queue(),
        4,
        behavior(move |job, _| {
            let r = r.clone();
            async move {
                *r.lock().expect("lock").entry(job.n).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(1200)).await;
                Ok(())
            }
        }),
    );
    let jobs = (0..12).map(|n| NewJob::new("t", TestJob::new(n))).collect();
    producer.enqueue_many(jobs).await.expect("enqueue");
    eventually(WAIT, "12 completed", || async {
        admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats")
            .counters
            .get("completed")
            == Some(&12)
    })
    .await;
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(
        stats.counters.get("reclaimed"),
        None,
        "{:?}",
        stats.counters
    );
    assert_eq!(stats.counters.get("stale"), None, "{:?}", stats.counters);
    let runs = runs.lock().expect("lock").clone();
    assert_eq!(runs.len(), 12);
    assert!(runs.values().all(|&n| n == 1), "runs per job: {runs:?}");
    worker.stop().await;
}
