//! Progress bars for long command-line work (the first import of a large calendar, a history
//! export). The library only emits events ([`report`]); a one-shot command that runs on a
//! terminal installs [`ProgressLayer`] to draw them. The daemon and every non-terminal run (tests,
//! pipes, CI) install nothing, so their output stays plain. Going through `tracing` keeps the
//! sync code free of any UI handle: the events reach the layer from whichever task emits them.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// The tracing target of progress events; the log output filters it out.
pub(crate) const TARGET: &str = "oneonone::progress";

/// Work smaller than this many units gets no bar: it is over before a bar would be read.
pub(crate) const MIN_TOTAL: u64 = 50;

/// Reports that `done` of `total` units of `task` are finished (`done == total` ends the bar).
pub(crate) fn report(task: &str, done: u64, total: u64) {
    tracing::info!(target: TARGET, task, done, total);
}

/// Draws one bar per running task, keyed by the task's text.
pub(crate) struct ProgressLayer {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl ProgressLayer {
    /// Bars on stderr when it is a terminal; None otherwise (nothing to draw on).
    pub(crate) fn for_stderr() -> Option<Self> {
        use std::io::IsTerminal;
        std::io::stderr()
            .is_terminal()
            .then(|| Self::new(ProgressDrawTarget::stderr()))
    }

    pub(crate) fn new(target: ProgressDrawTarget) -> Self {
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// A stderr writer for the log lines that clears the bars while a line is written, so logs
    /// and bars do not overwrite each other.
    pub(crate) fn log_writer(&self) -> LogWriter {
        LogWriter(Some(self.multi.clone()))
    }

    fn update(&self, task: String, done: u64, total: u64) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if done >= total {
            if let Some(bar) = bars.remove(&task) {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
            return;
        }
        if total < MIN_TOTAL {
            return;
        }
        let bar = bars.entry(task.clone()).or_insert_with(|| {
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30.cyan/blue}] {human_pos}/{human_len} ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            self.multi
                .add(ProgressBar::new(total).with_style(style).with_message(task))
        });
        bar.set_length(total);
        bar.set_position(done);
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProgressLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let (Some(done), Some(total)) = (fields.done, fields.total) {
            self.update(fields.task, done, total);
        }
    }
}

#[derive(Default)]
struct Fields {
    task: String,
    done: Option<u64>,
    total: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "done" => self.done = Some(value),
            "total" => self.total = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task" {
            // A task can name a calendar, whose name the server chose.
            self.task = crate::term::clean(value).into_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "task" {
            self.task = format!("{value:?}");
        }
    }
}

/// Stderr for log lines; with bars on screen, each line is written while they are cleared.
#[derive(Clone, Default)]
pub(crate) struct LogWriter(Option<MultiProgress>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(multi) => multi.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn with_layer(term: &InMemoryTerm, f: impl FnOnce()) {
        let layer = ProgressLayer::new(ProgressDrawTarget::term_like(Box::new(term.clone())));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f);
    }

    #[test]
    fn a_long_task_draws_a_bar_with_its_count_then_clears_it() {
        let term = InMemoryTerm::new(4, 100);
        with_layer(&term, || {
            report("importing calendar work", 150, 300);
            let shown = term.contents();
            assert!(shown.contains("importing calendar work"), "{shown:?}");
            assert!(shown.contains("150/300"), "{shown:?}");
            report("importing calendar work", 300, 300);
            assert_eq!(term.contents().trim(), "", "{:?}", term.contents());
        });
    }

    #[test]
    fn a_short_task_and_other_events_draw_nothing() {
        let term = InMemoryTerm::new(4, 100);
        with_layer(&term, || {
            report("tiny", 3, 10);
            tracing::info!(done = 5u64, total = 500u64, task = "not progress");
        });
        assert_eq!(term.contents().trim(), "", "{:?}", term.contents());
    }
}
