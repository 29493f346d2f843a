//! What a web page request can fail with, and the page each failure gets: its status, a sentence
//! a person can act on and, for something that does not exist, a link back to where such things
//! are listed. A failure on our side is logged with its source chain and its page says only that
//! something went wrong; one of Google's (502, 503) is logged and shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::render::render;
use crate::manage::ManageError;
use crate::notes::NotesError;
use crate::provider::google::connect::ConnectError;
use crate::store::StoreError;

/// What a page request can fail with; each variant says its status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebError {
    /// 404: a series, account, meeting or item that does not exist; the page names it and links
    /// back to where such things are listed.
    #[error("{} {id} does not exist.", named(.what))]
    NotFound { what: &'static str, id: String },
    /// 404: a wrong or revoked direct's link, one of a series no longer tracked, or a topic not
    /// on its list: one answer for all, which tells nothing about the token.
    #[error("This page does not exist (or the link was revoked).")]
    NoSuchPage,
    /// 404: no page at this address at all (a mistyped or outdated address).
    #[error("There is no page at this address.")]
    UnknownPage,
    /// 403: the form's CSRF token is missing or does not belong to this session or link.
    #[error("This form has expired or did not come from this site. Reload the page and try again.")]
    Csrf,
    /// 429: too many sign-in attempts from one address.
    #[error("Too many sign-in attempts. Wait a minute and try again.")]
    TooMany,
    /// 429 with Retry-After (the seconds it holds): too many changes through one direct's link.
    #[error(
        "Too many changes through this link in a short time. Wait {0} seconds, then try again."
    )]
    LinkBusy(u64),
    /// 401: a wrong admin token where a page also takes one (`/connect/google`).
    #[error("Wrong admin token.")]
    WrongToken,
    /// 429 with Retry-After (the seconds it holds): too many wrong admin tokens from one address.
    #[error("Too many wrong tokens from this address. Wait a minute and try again.")]
    TooManyTokens(u64),
    /// 400: the form holds something we cannot use (the message says what).
    #[error("{0}")]
    BadRequest(String),
    /// 503: Google cannot be connected with this config (the message names what to set).
    #[error("{0}")]
    GoogleNotSetUp(#[source] ConnectError),
    /// 502: Google refused the consent or did not answer; nothing was stored.
    #[error("Connecting failed: {0}")]
    GoogleConnect(#[source] ConnectError),
    /// 500: the database failed.
    #[error("the database failed")]
    Store(#[source] StoreError),
    /// 500: a page's template did not render (a bug: a unit test compiles each one).
    #[error("a page template did not render")]
    Template(#[from] minijinja::Error),
    /// 500: a private note the key file cannot decrypt: the daemon's problem, not the form's.
    #[error("a private note cannot be read")]
    Notes(#[source] NotesError),
}

/// How a page names what the store did not find: in the pages' words, capitalized.
fn named(what: &str) -> String {
    let word = if what == "occurrence" {
        "meeting"
    } else {
        what
    };
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => Self::NotFound { what, id },
            other => Self::Store(other),
        }
    }
}

impl From<ManageError> for WebError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::NotFound { what, id } => Self::NotFound { what, id },
            ManageError::Store(e) => e.into(),
            // The request does not apply (the message says why): the person's to change.
            e @ (ManageError::Invalid { .. }
            | ManageError::Conflict(_)
            | ManageError::NeedsConfirmation(_)) => Self::BadRequest(format!("{e}.")),
        }
    }
}

impl From<NotesError> for WebError {
    fn from(e: NotesError) -> Self {
        match e {
            NotesError::Store(e) => e.into(),
            e @ NotesError::Decrypt { .. } => Self::Notes(e),
            e @ (NotesError::Empty | NotesError::TooLong { .. } | NotesError::Nul) => {
                Self::BadRequest(format!("The note was not saved: {e}."))
            }
        }
    }
}

impl WebError {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } | Self::NoSuchPage | Self::UnknownPage => StatusCode::NOT_FOUND,
            Self::WrongToken => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::TooMany | Self::TooManyTokens(_) | Self::LinkBusy(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            // The person's to change (another Google account, or the account holding the
            // calendar), not Google's failure.
            Self::GoogleConnect(ConnectError::Taken(_) | ConnectError::WrongAccount { .. }) => {
                StatusCode::CONFLICT
            }
            Self::GoogleConnect(_) => StatusCode::BAD_GATEWAY,
            Self::GoogleNotSetUp(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Template(_) | Self::Notes(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The Retry-After header a 429 carries (the sign-in's comes with its own page).
    pub(super) fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Self::LinkBusy(secs) | Self::TooManyTokens(secs) => Some(HeaderValue::from(*secs)),
            _ => None,
        }
    }

    /// What to do, step by step, where the fix is the operator's (docs/google.md in short).
    fn steps(&self) -> Option<&'static [&'static str]> {
        match self {
            Self::GoogleNotSetUp(ConnectError::NotConfigured) => Some(&[
                "In the Google Cloud console (console.cloud.google.com), create a project and \
                 enable the Google Calendar API.",
                "Set up its OAuth consent screen: Internal for a Workspace team. An External \
                 app left in Testing loses its grants after 7 days: publish it once it works.",
                "Create an OAuth client of type Web application, with the redirect URI \
                 https://<this daemon's address>/oauth/google/callback (server.public_url).",
                "Give it to the daemon: ONEONONE__GOOGLE__CLIENT_ID and \
                 ONEONONE__GOOGLE__CLIENT_SECRET in its environment, then restart it and come \
                 back to Connect Google.",
                "Every step in detail, with the console's screen names: docs/google.md.",
            ]),
            _ => None,
        }
    }

    /// Where a 404 page links back to: the list its missing thing would be in. None for the
    /// direct's link, whose holder has no other page.
    fn back(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::NotFound { what, .. } if matches!(*what, "account" | "calendar") => {
                Some(("/accounts", "Back to the accounts"))
            }
            Self::NotFound { .. } => Some(("/series", "Back to the series")),
            Self::UnknownPage => Some(("/", "Go to the start page")),
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            let chain = crate::telemetry::error_chain(&self);
            tracing::error!(error = %chain, "web page failed");
            "Something went wrong on our side; the daemon's log says what.".to_string()
        } else {
            if status.is_server_error() {
                let chain = crate::telemetry::error_chain(&self);
                tracing::warn!(error = %chain, "web page failed");
            }
            self.to_string()
        };
        let back = self
            .back()
            .map(|(href, label)| minijinja::context! { href => href, label => label });
        let steps = self.steps();
        let ctx = minijinja::context! {
            status => status.as_u16(), message => message, back => back, steps => steps,
        };
        let mut res = match render("error.html", ctx) {
            Ok(page) => (status, page).into_response(),
            Err(_) => (status, message).into_response(),
        };
        if let Some(v) = self.retry_after() {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// `axum::extract::Path` for the pages: an address whose id is not a number (`/series/abc`) is an
/// address with no page, answered like any other (not with the extractor's own words).
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(WebError))]
pub(crate) struct Path<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for WebError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        Self::UnknownPage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_thing_is_named_in_a_sentence_with_a_link_back() {
        let e = WebError::from(StoreError::NotFound {
            what: "series",
            id: "42".into(),
        });
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.to_string(), "Series 42 does not exist.");
        assert_eq!(e.back().map(|b| b.0), Some("/series"));
        let e = WebError::from(ManageError::NotFound {
            what: "occurrence",
            id: "7".into(),
        });
        assert_eq!(e.to_string(), "Meeting 7 does not exist.");
        assert_eq!(WebError::NoSuchPage.back(), None);
    }

    #[test]
    fn a_failure_on_our_side_keeps_its_source() {
        let e = WebError::from(StoreError::Corrupt {
            column: "series.override",
            value: "sideways".into(),
        });
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let chain = crate::telemetry::error_chain(&e);
        assert!(chain.contains("series.override"), "{chain}");
    }
}
