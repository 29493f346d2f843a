//! HTTP authentication of CalDAV requests: Basic (RFC 7617) and Digest (RFC 7616: MD5 and
//! SHA-256, their `-sess` variants, `qop=auth`, nonce reuse with a counted `nc`, a new nonce
//! on `stale=true`). The scheme is chosen from the server's `WWW-Authenticate` challenges on
//! a 401: Basic when it is offered over https, Digest otherwise when offered.
//!
//! Nothing here logs, and nothing here keeps the password: a Digest answer is computed from it
//! per request and only the hashes leave (guarantee 5).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::Digest as _;
use sha2::Digest as _;

/// A Digest hash algorithm (RFC 7616 section 3.3: `algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(md5::Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(sha2::Sha256::digest(data.as_bytes()))
            }
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Stronger first: of several Digest challenges, the one we answer.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
        }
    }
}

/// One Digest challenge of a `WWW-Authenticate` header, with what we answer it with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DigestChallenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// `qop=auth` offered (else the RFC 2069 answer, without `qop`, `nc` and `cnonce`).
    pub qop_auth: bool,
    pub stale: bool,
}

/// What a 401's challenges offer that we speak.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Offered {
    pub basic: bool,
    /// The strongest Digest challenge we can answer.
    pub digest: Option<DigestChallenge>,
    /// Schemes offered that we do not speak (named in the error when nothing else is).
    pub other: Vec<String>,
}

impl Offered {
    /// Reads every `WWW-Authenticate` value of a 401.
    pub(crate) fn from_headers<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut offered = Offered::default();
        for value in values {
            for (scheme, params) in challenges(value) {
                match scheme.to_ascii_lowercase().as_str() {
                    "basic" => offered.basic = true,
                    "digest" => {
                        if let Some(c) = DigestChallenge::from_params(&params)
                            && offered
                                .digest
                                .as_ref()
                                .is_none_or(|d| d.algorithm.strength() < c.algorithm.strength())
                        {
                            offered.digest = Some(c);
                        }
                    }
                    _ => offered.other.push(scheme),
                }
            }
        }
        offered
    }
}

impl DigestChallenge {
    fn from_params(params: &[(String, String)]) -> Option<Self> {
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(&a)?,
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) => {
                let auth = q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth"));
                if !auth {
                    // Only `auth-int` (a hash of every body): not spoken.
                    return None;
                }
                true
            }
        };
        Some(DigestChallenge {
            realm: get("realm").unwrap_or_default(),
            nonce: get("nonce")?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

/// How requests are authenticated now: Basic until a server asks for Digest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Auth {
    Basic,
    Digest { challenge: DigestChallenge, nc: u32 },
}

impl Auth {
    /// What to use after a 401 answered with `offered` to a request sent with `self`, if
    /// anything differs from what was sent (else the user name or password is refused).
    /// Basic is kept over https when offered; Digest is taken otherwise.
    pub(crate) fn after_401(&self, offered: Offered, https: bool) -> Option<Auth> {
        let next = match offered.digest {
            Some(_) if offered.basic && https => Auth::Basic,
            Some(challenge) => Auth::Digest { challenge, nc: 0 },
            None if offered.basic => Auth::Basic,
            None => return None,
        };
        let changed = match (self, &next) {
            (Auth::Basic, Auth::Basic) => false,
            // The same nonce refused again is the password; a new (or stale) one is not yet.
            (Auth::Digest { challenge: a, .. }, Auth::Digest { challenge: b, .. }) => {
                a.nonce != b.nonce || b.stale
            }
            _ => true,
        };
        changed.then_some(next)
    }

    /// The `Authorization` header value for `method` on `uri` (the request target: path and
    /// query), counting the nonce's use; `cnonce` is fresh randomness per request.
    pub(crate) fn header(
        &mut self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        match self {
            Auth::Basic => {
                use base64::Engine as _;
                let raw = format!("{username}:{password}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Auth::Digest { challenge, nc } => {
                *nc += 1;
                digest_header(challenge, *nc, username, password, method, uri, cnonce)
            }
        }
    }
}

/// The authentication each account's server asked for, kept across passes by the provider (by
/// account and user name: a reconnect with another user starts over with Basic).
#[derive(Debug, Default)]
pub(crate) struct Remembered(Mutex<HashMap<(i64, String), Shared>>);

/// One account's authentication, shared by its clients.
pub(crate) type Shared = Arc<Mutex<Auth>>;

impl Remembered {
    /// The shared state of `account` signed in as `username` (Basic until a server asks).
    pub(crate) fn of(&self, account: i64, username: &str) -> Shared {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry((account, username.to_string()))
            .or_insert_with(|| Arc::new(Mutex::new(Auth::Basic)))
            .clone()
    }
}

/// The Digest `response` value (RFC 7616 section 3.4.1).
#[allow(clippy::too_many_arguments)]
pub(crate) fn response(
    c: &DigestChallenge,
    nc: u32,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
) -> String {
    let h = |s: &str| c.algorithm.hash(s);
    let mut ha1 = h(&format!("{username}:{}:{password}", c.realm));
    if c.algorithm.is_sess() {
        ha1 = h(&format!("{ha1}:{}:{cnonce}", c.nonce));
    }
    let ha2 = h(&format!("{method}:{uri}"));
    if c.qop_auth {
        h(&format!("{ha1}:{}:{nc:08x}:{cnonce}:auth:{ha2}", c.nonce))
    } else {
        h(&format!("{ha1}:{}:{ha2}", c.nonce))
    }
}

fn digest_header(
    c: &DigestChallenge,
    nc: u32,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
) -> String {
    let resp = response(c, nc, username, password, method, uri, cnonce);
    let mut out = format!(
        "Digest username={}, realm={}, uri={}, algorithm={}, nonce={}",
        quote(username),
        quote(&c.realm),
        quote(uri),
        c.algorithm.name(),
        quote(&c.nonce),
    );
    if c.qop_auth {
        out.push_str(&format!(
            ", nc={nc:08x}, cnonce={}, qop=auth",
            quote(cnonce)
        ));
    }
    out.push_str(&format!(", response={}", quote(&resp)));
    if let Some(o) = &c.opaque {
        out.push_str(&format!(", opaque={}", quote(o)));
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            q.push('\\');
        }
        q.push(ch);
    }
    q.push('"');
    q
}

/// The challenges of one `WWW-Authenticate` value: `scheme param=value, param="v", Other ...`
/// (RFC 9110 section 11.6.1). A token68 (`Negotiate abc==`) is kept as a nameless parameter.
fn challenges(value: &str) -> Vec<(String, Vec<(String, String)>)> {
    let s = value.as_bytes();
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut i = 0;
    let skip = |i: &mut usize, set: &[u8]| {
        while *i < s.len() && set.contains(&s[*i]) {
            *i += 1;
        }
    };
    while i < s.len() {
        skip(&mut i, b" \t,");
        let start = i;
        while i < s.len() && !b" \t,=".contains(&s[i]) {
            i += 1;
        }
        if start == i {
            // A stray `=` (the end of a token68): skip it.
            i += 1;
            continue;
        }
        let token = value[start..i].to_string();
        let mut j = i;
        skip(&mut j, b" \t");
        let is_param = j < s.len() && s[j] == b'=' && !(j + 1 < s.len() && s[j + 1] == b'=');
        match (is_param, out.last_mut()) {
            (true, Some((_, params))) => {
                i = j + 1;
                skip(&mut i, b" \t");
                let v = if i < s.len() && s[i] == b'"' {
                    i += 1;
                    let mut v = String::new();
                    let mut chars = value[i..].char_indices();
                    let mut end = value.len();
                    while let Some((k, ch)) = chars.next() {
                        match ch {
                            '\\' => {
                                if let Some((_, next)) = chars.next() {
                                    v.push(next);
                                }
                            }
                            '"' => {
                                end = i + k + 1;
                                break;
                            }
                            _ => v.push(ch),
                        }
                    }
                    i = end;
                    v
                } else {
                    let vs = i;
                    while i < s.len() && !b" \t,".contains(&s[i]) {
                        i += 1;
                    }
                    value[vs..i].to_string()
                };
                params.push((token, v));
            }
            (false, Some((_, params))) if j < s.len() && s[j] == b'=' => {
                // A token68 (`abc==`): kept whole, nameless.
                i = j;
                skip(&mut i, b"=");
                params.push((String::new(), value[start..i].to_string()));
            }
            _ => out.push((token, Vec::new())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 section 3.9.1: the server's challenges, MD5 and SHA-256.
    const RFC_CHALLENGES: [&str; 2] = [
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
    ];
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn rfc(value: &str) -> DigestChallenge {
        Offered::from_headers([value]).digest.unwrap()
    }

    #[test]
    fn the_rfc_7616_worked_examples_give_its_responses() {
        let sha = rfc(RFC_CHALLENGES[0]);
        assert_eq!(sha.algorithm, Algorithm::Sha256);
        assert!(sha.qop_auth);
        assert_eq!(
            response(
                &sha,
                1,
                "Mufasa",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                CNONCE
            ),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let md5 = rfc(RFC_CHALLENGES[1]);
        assert_eq!(md5.algorithm, Algorithm::Md5);
        assert_eq!(
            response(
                &md5,
                1,
                "Mufasa",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                CNONCE
            ),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        let mut auth = Auth::Digest {
            challenge: md5,
            nc: 0,
        };
        let header = auth.header("Mufasa", "Circle of Life", "GET", "/dir/index.html", CNONCE);
        assert_eq!(
            header,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
             algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, \
             cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
             response=\"8ca523f5e9506fed4657c9700eebdbec\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        assert!(!header.contains("Circle of Life"));
        // The nonce is reused, its count goes up.
        let next = auth.header("Mufasa", "Circle of Life", "GET", "/dir/index.html", CNONCE);
        assert!(next.contains("nc=00000002"), "{next}");
    }

    #[test]
    fn of_both_challenges_the_stronger_is_answered_and_basic_is_kept_over_https_only() {
        // Both in one header, and each in its own.
        let joined = format!("{}, {}", RFC_CHALLENGES[1], RFC_CHALLENGES[0]);
        assert_eq!(
            Offered::from_headers([joined.as_str()])
                .digest
                .unwrap()
                .algorithm,
            Algorithm::Sha256
        );
        assert_eq!(
            Offered::from_headers(RFC_CHALLENGES)
                .digest
                .unwrap()
                .algorithm,
            Algorithm::Sha256
        );
        let both = || {
            Offered::from_headers([
                r#"Basic realm="x""#,
                r#"Digest realm="x", nonce="n1", qop=auth"#,
            ])
        };
        assert!(both().basic);
        assert_eq!(Auth::Basic.after_401(both(), true), None);
        assert!(matches!(
            Auth::Basic.after_401(both(), false),
            Some(Auth::Digest { .. })
        ));
        let digest_only = || Offered::from_headers([r#"Digest realm="x", nonce="n1", qop="auth""#]);
        let Some(mut auth) = Auth::Basic.after_401(digest_only(), true) else {
            panic!("digest not taken")
        };
        auth.header("u", "p", "GET", "/", "c");
        // The same nonce refused again: the password. A stale one, or a new one: retried.
        assert_eq!(auth.after_401(digest_only(), true), None);
        let stale =
            Offered::from_headers([r#"Digest realm="x", nonce="n2", stale=TRUE, qop="auth""#]);
        let Some(Auth::Digest { challenge, nc }) = auth.after_401(stale, true) else {
            panic!("stale nonce not renewed")
        };
        assert_eq!((challenge.nonce.as_str(), nc), ("n2", 0));
        // Basic only, refused: the password.
        assert_eq!(
            Auth::Basic.after_401(Offered::from_headers([r#"Basic realm="x""#]), false),
            None
        );
    }

    #[test]
    fn unknown_schemes_and_auth_int_only_are_not_answered() {
        let o = Offered::from_headers([
            "Negotiate abc==, Bearer realm=\"r\", error=\"invalid_token\"",
            r#"Digest realm="x", nonce="n", qop="auth-int""#,
            r#"Digest realm="x", nonce="n", algorithm=SHA-512-256"#,
        ]);
        assert_eq!(o.digest, None);
        assert!(!o.basic);
        assert_eq!(o.other, ["Negotiate", "Bearer"]);
        // Without qop (RFC 2069), the answer has no count.
        let mut old = Auth::Digest {
            challenge: rfc(r#"Digest realm="r", nonce="n""#),
            nc: 0,
        };
        let h = old.header("u", "p", "GET", "/", "c");
        assert!(!h.contains("nc=") && !h.contains("qop"), "{h}");
        assert!(h.starts_with("Digest username=\"u\""), "{h}");
    }
}
