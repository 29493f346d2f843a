//! Logs (tracing, human or JSON; an error as one line with its source chain) and metrics
//! (Prometheus text at `/metrics`).

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

/// An error and its sources as one line, `outer: inner: ...`, for a log field that must keep
/// the cause whatever the log format. A source whose text its outer error already shows (a
/// `#[error("...: {0}")]` over its source) is not repeated.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = s.source();
    }
    line
}

/// Installs the global subscriber: `RUST_LOG` when set, else `log.level`. Logs go to stderr.
pub(crate) fn init_logging(cfg: &LogConfig) {
    install(cfg, None);
}

/// As [`init_logging`], plus progress bars for long work when stderr is a terminal (one-shot
/// commands; the daemon's output stays plain log lines).
pub(crate) fn init_logging_with_progress(cfg: &LogConfig) {
    install(cfg, crate::progress::ProgressLayer::for_stderr());
}

fn install(cfg: &LogConfig, progress: Option<crate::progress::ProgressLayer>) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = progress
        .as_ref()
        .map(crate::progress::ProgressLayer::log_writer)
        .unwrap_or_default();
    // Colours only on a terminal: a log file or a collector would get escape codes otherwise.
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let fmt = match cfg.format {
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
        LogFormat::Human => fmt.boxed(),
    };
    // Progress events are for the bars only, never log lines.
    let not_progress = filter_fn(|m| m.target() != crate::progress::TARGET);
    let progress =
        progress.map(|p| p.with_filter(filter_fn(|m| m.target() == crate::progress::TARGET)));
    // A second call (tests running several commands in one process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter).with_filter(not_progress))
        .with(progress)
        .try_init();
}

/// The process-wide metrics recorder (installed once) and its handle for rendering.
pub(crate) fn metrics() -> &'static PrometheusHandle {
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
    describe_counter!(
        "oneonone_nudges_written_total",
        "Agendas written with the nudge that asks the direct for a topic (once per meeting)."
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
    counter!("oneonone_nudges_written_total").absolute(0);
    counter!("oneonone_schedule_agent_fallbacks_total").absolute(0);
}
