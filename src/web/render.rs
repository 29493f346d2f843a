//! How pages are rendered: the templates (part of the binary, autoescaped) and the format of
//! instants that are not a meeting's.

use std::sync::LazyLock;

use axum::response::Html;
use minijinja::Environment;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let files = [
        ("base.html", include_str!("templates/base.html")),
        ("error.html", include_str!("templates/error.html")),
        ("signin.html", include_str!("templates/signin.html")),
        ("home.html", include_str!("templates/home.html")),
        ("accounts.html", include_str!("templates/accounts.html")),
        ("account.html", include_str!("templates/account.html")),
        ("caldav.html", include_str!("templates/caldav.html")),
        ("reconnect.html", include_str!("templates/reconnect.html")),
        ("purge.html", include_str!("templates/purge.html")),
        (
            "series_list.html",
            include_str!("templates/series_list.html"),
        ),
        ("series.html", include_str!("templates/series.html")),
        ("history.html", include_str!("templates/history.html")),
        ("meetings.html", include_str!("templates/meetings.html")),
        ("direct.html", include_str!("templates/direct.html")),
        ("insights.html", include_str!("templates/insights.html")),
        (
            "insights_all.html",
            include_str!("templates/insights_all.html"),
        ),
        (
            "insights_table.html",
            include_str!("templates/insights_table.html"),
        ),
        (
            "insight_summary.html",
            include_str!("templates/insight_summary.html"),
        ),
    ];
    for (name, source) in files {
        // The templates are part of the binary; a unit test renders each one.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// Renders a page (HTML-escaped: `.html` templates autoescape).
pub(super) fn render(name: &str, ctx: minijinja::Value) -> Result<Html<String>, minijinja::Error> {
    Ok(Html(TEMPLATES.get_template(name)?.render(ctx)?))
}

/// Formats an instant that is not a meeting's (a pass, a link, a note added), in UTC; a
/// meeting's time goes through `crate::when` with its series' zone.
pub(super) fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        for name in super::TEMPLATES.templates().map(|(n, _)| n) {
            assert!(super::TEMPLATES.get_template(name).is_ok(), "{name}");
        }
        assert_eq!(super::TEMPLATES.templates().count(), 18);
    }
}
