//! Logs (tracing, human or JSON) and metrics (Prometheus text at `/metrics`).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber: `RUST_LOG` when set, else `log.level`. Logs go to stderr.
pub fn init_logging(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests running several commands in one process) keeps the first subscriber.
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

/// The process-wide metrics recorder (installed once) and its handle for rendering.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                ],
            )
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder is installed (a test embedding us); then ours stays
        // local and /metrics shows only what was described below.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

/// Names and help texts; counters start at zero so dashboards see them before the first event.
fn describe() {
    use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("oneonone_sync_passes_total", "Sync passes, by outcome.");
    describe_histogram!(
        "oneonone_sync_pass_duration_seconds",
        Unit::Seconds,
        "Duration of one scheduler pass over the due accounts."
    );
    describe_counter!(
        "oneonone_http_requests_total",
        "Requests to calendar providers, by provider and HTTP status."
    );
    describe_counter!(
        "oneonone_writes_total",
        "Descriptions written into calendars."
    );
    describe_counter!(
        "oneonone_conflicts_total",
        "Writes refused by the server as stale (412)."
    );
    describe_counter!(
        "oneonone_schedule_agent_fallbacks_total",
        "New CalDAV overrides written again with SCHEDULE-AGENT=CLIENT after a 5xx (DAViCal)."
    );
    describe_gauge!(
        "oneonone_series_tracked",
        "Recurring series tracked as 1:1s (all accounts)."
    );
    describe_gauge!(
        "oneonone_meetings_held",
        "1:1 meetings recorded as held (all series)."
    );
    describe_gauge!(
        "oneonone_stale_items",
        "Open items carried 3 times or more (all series)."
    );
    for outcome in ["ok", "failed"] {
        counter!("oneonone_sync_passes_total", "outcome" => outcome).absolute(0);
    }
    counter!("oneonone_writes_total").absolute(0);
    counter!("oneonone_conflicts_total").absolute(0);
    counter!("oneonone_schedule_agent_fallbacks_total").absolute(0);
}
