//! An open-loop load generator: starts task `i` at `start + i / rate` whatever happened to
//! the earlier ones (a slow answer does not delay the next request, so queueing shows up in
//! the measured latencies instead of lowering the offered rate).

use std::{
    future::Future,
    time::{Duration, Instant},
};

/// The outcome of one open-loop run.
#[derive(Debug)]
pub struct OpenLoop<T> {
    /// Each task's result, in schedule order (a task that panicked is left out).
    pub results: Vec<T>,
    /// Tasks started per second over `send_elapsed`.
    pub achieved_rate: f64,
    /// When the last task was started.
    pub send_end: Instant,
}

/// Runs `rate × seconds` tasks (at least one) at `rate` per second. `task(i, scheduled)` is
/// spawned at its scheduled time, or at once when the generator is behind.
pub async fn open_loop<T, F, Fut>(rate: f64, seconds: f64, task: F) -> OpenLoop<T>
where
    F: Fn(u64, Instant) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rate = rate.max(0.001);
    let n = ((rate * seconds).round() as u64).max(1);
    let start = Instant::now() + Duration::from_millis(5);
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
        handles.push(tokio::spawn(task(i, at)));
    }
    let send_end = Instant::now();
    let send_elapsed = send_end.saturating_duration_since(start);
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(r) = h.await {
            results.push(r);
        }
    }
    // n tasks span n - 1 intervals.
    let achieved_rate = if n > 1 && send_elapsed.as_secs_f64() > 0.0 {
        (n - 1) as f64 / send_elapsed.as_secs_f64()
    } else {
        rate
    };
    OpenLoop {
        results,
        achieved_rate,
        send_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_rate_whatever_the_tasks_take() {
        let started = Instant::now();
        // Each task takes 200 ms; a closed loop of one would manage 5/s.
        let run = open_loop(200.0, 0.5, |i, _| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            i
        })
        .await;
        assert_eq!(run.results, (0..100).collect::<Vec<_>>());
        assert!(
            run.achieved_rate > 150.0 && run.achieved_rate < 260.0,
            "rate {}",
            run.achieved_rate
        );
        // Sending took ≈ 0.5 s; the last task ended ≈ 0.2 s later.
        let total = started.elapsed();
        assert!(total < Duration::from_millis(1500), "took {total:?}");
    }

    #[tokio::test]
    async fn runs_at_least_one_task() {
        let run = open_loop(1.0, 0.01, |i, _| async move { i }).await;
        assert_eq!(run.results, vec![0]);
    }
}
