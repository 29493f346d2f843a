//! The admin token as a bearer token: the admin API's authentication, which `/connect/google` also
//! accepts. Wrong tokens are limited per client address (`server.api_wrong_tokens_per_minute`).

use axum::http::{HeaderMap, header};
use secrecy::{ExposeSecret, SecretString};

use super::guesses::{RetryAfter, client_ip};
use super::state::AppState;

/// Whether `given` is the configured token. Both are hashed first so the comparison takes the
/// same time whatever their lengths, and the digests are compared in constant time.
pub(crate) fn token_matches(want: &SecretString, given: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let want = want.expose_secret();
    !want.is_empty()
        && bool::from(
            Sha256::digest(given.as_bytes())
                .as_slice()
                .ct_eq(Sha256::digest(want.as_bytes()).as_slice()),
        )
}

/// The token of an `Authorization: Bearer` header (empty when there is none).
pub(crate) fn bearer(headers: &HeaderMap) -> &str {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match value.split_once(' ') {
        // The scheme is case-insensitive (RFC 9110 §11.1).
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => "",
    }
}

/// Why a request's bearer token was not taken.
pub(crate) enum Refused {
    /// No `server.admin_token`: the API is off.
    Off,
    /// No token, or a wrong one.
    Unauthorized,
    /// Too many wrong tokens from this address: not even checked.
    TooMany(RetryAfter),
}

/// Checks the request's bearer token, within the budget of wrong tokens of the client's address
/// (`server.api_wrong_tokens_per_minute`). Over the budget the token is not compared at all, so
/// guessing goes no faster whatever the answers; a right token gives its place back, so a
/// client that uses it is never slowed. A request without a token guesses nothing and costs
/// nothing.
pub(crate) fn check_bearer(
    s: &AppState,
    headers: &HeaderMap,
    ext: &axum::http::Extensions,
) -> Result<(), Refused> {
    if s.admin_token.expose_secret().is_empty() {
        return Err(Refused::Off);
    }
    let given = bearer(headers);
    if given.is_empty() {
        return Err(Refused::Unauthorized);
    }
    let client = client_ip(ext);
    let turn = s
        .guesses
        .reserve(client, std::time::Duration::ZERO)
        .map_err(Refused::TooMany)?;
    if !token_matches(&s.admin_token, given) {
        tracing::warn!(%client, "admin API: wrong bearer token");
        return Err(Refused::Unauthorized);
    }
    s.guesses.refund(turn);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_token_matches() {
        let want = SecretString::from("s3cret".to_string());
        assert!(token_matches(&want, "s3cret"));
        for given in ["", "s3cre", "s3cret ", "S3CRET", "s3cretx"] {
            assert!(!token_matches(&want, given), "{given:?}");
        }
        // No token configured: nothing matches, not even an empty one.
        assert!(!token_matches(&SecretString::from(String::new()), ""));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_other_schemes_give_nothing() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            bearer(&h).to_string()
        };
        assert_eq!(with("Bearer abc"), "abc");
        assert_eq!(with("bearer abc"), "abc");
        assert_eq!(with("Basic abc"), "");
        assert_eq!(with("abc"), "");
        assert_eq!(bearer(&HeaderMap::new()), "");
    }
}
