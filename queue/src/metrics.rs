//! OpenTelemetry instruments: `queue.wait.duration` (due → lease) and `queue.run.duration`
//! (handler run time), both in seconds with attributes `queue` and `outcome`. They use the
//! global meter provider: install it before building workers. The same data is kept in
//! Redis (`P:lat:<minute>`) for the API's percentiles ([`crate::QueueAdmin::stats`]).

use std::time::Duration;

use opentelemetry::{KeyValue, metrics::Histogram};

use crate::JobInfo;

pub(crate) struct Metrics {
    wait: Histogram<f64>,
    run: Histogram<f64>,
    queue: KeyValue,
}

impl Metrics {
    pub(crate) fn new(queue: &str) -> Self {
        let meter = opentelemetry::global::meter("hubsync-queue");
        Self {
            wait: meter
                .f64_histogram("queue.wait.duration")
                .with_unit("s")
                .with_description("Time from a job being due to being leased")
                .build(),
            run: meter
                .f64_histogram("queue.run.duration")
                .with_unit("s")
                .with_description("Handler run time")
                .build(),
            queue: KeyValue::new("queue", queue.to_owned()),
        }
    }

    pub(crate) fn record_wait(&self, info: &JobInfo) {
        self.wait
            .record(info.wait.as_secs_f64(), std::slice::from_ref(&self.queue));
    }

    pub(crate) fn record_run(&self, _info: &JobInfo, run: Duration, ok: bool) {
        let outcome = KeyValue::new("outcome", if ok { "ok" } else { "error" });
        self.run
            .record(run.as_secs_f64(), &[self.queue.clone(), outcome]);
    }
}
