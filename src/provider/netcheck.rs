//! Which URLs the daemon may be told to talk to. A CalDAV URL comes from a user, so it could point
//! at the machine's cloud metadata service or another internal address; credentials would travel
//! in clear text over plain HTTP. Checked at connect time and before every pass.

use std::net::IpAddr;

use url::Url;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlRefused {
    #[error("{0}: only http and https URLs are accepted")]
    Scheme(String),
    #[error("{0}: the URL names no host")]
    NoHost(String),
    #[error(
        "{0}: plain http would send the password unencrypted; use https (or set network.allow_http = true for a trusted network)"
    )]
    PlainHttp(String),
    #[error("{url}: {addr} is a link-local or cloud metadata address, never a calendar server")]
    Forbidden { url: String, addr: String },
    #[error("{url}: cannot resolve the host: {message}")]
    Resolve { url: String, message: String },
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Link-local (which includes 169.254.169.254, the metadata service of most clouds) and the
/// IPv6 metadata addresses.
pub fn forbidden_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local() || a.is_unspecified() || a.is_broadcast(),
        IpAddr::V6(a) => {
            let seg = a.segments();
            (seg[0] & 0xffc0) == 0xfe80
                || a.is_unspecified()
                || a == "fd00:ec2::254"
                    .parse::<std::net::Ipv6Addr>()
                    .expect("a valid address")
                || a.to_ipv4_mapped()
                    .is_some_and(|v4| forbidden_addr(IpAddr::V4(v4)))
        }
    }
}

/// The checks that need no DNS: scheme, host, plain http.
pub fn check_static(url: &Url, allow_http: bool) -> Result<(), UrlRefused> {
    let shown = url.as_str().to_string();
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(shown));
    }
    let host = url
        .host()
        .ok_or_else(|| UrlRefused::NoHost(shown.clone()))?;
    let forbidden = match &host {
        url::Host::Domain(d) => ["metadata.google.internal", "metadata"]
            .iter()
            .any(|m| d.eq_ignore_ascii_case(m))
            .then(|| d.to_string()),
        url::Host::Ipv4(a) => forbidden_addr(IpAddr::V4(*a)).then(|| a.to_string()),
        url::Host::Ipv6(a) => forbidden_addr(IpAddr::V6(*a)).then(|| a.to_string()),
    };
    if let Some(addr) = forbidden {
        return Err(UrlRefused::Forbidden { url: shown, addr });
    }
    if url.scheme() == "http" && !allow_http && !is_loopback_host(&host) {
        return Err(UrlRefused::PlainHttp(shown));
    }
    Ok(())
}

/// All checks, including every address the host name resolves to.
pub async fn check(url: &Url, allow_http: bool) -> Result<(), UrlRefused> {
    check_static(url, allow_http)?;
    if let Some(url::Host::Domain(d)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((d, port))
            .await
            .map_err(|e| UrlRefused::Resolve {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        for a in addrs {
            if forbidden_addr(a.ip()) {
                return Err(UrlRefused::Forbidden {
                    url: url.to_string(),
                    addr: a.ip().to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn https_anywhere_and_http_only_on_loopback_unless_allowed() {
        assert!(check_static(&u("https://caldav.example.com/"), false).is_ok());
        assert!(check_static(&u("http://127.0.0.1:5232/"), false).is_ok());
        assert!(check_static(&u("http://localhost/"), false).is_ok());
        assert!(check_static(&u("http://[::1]:8080/"), false).is_ok());
        assert!(matches!(
            check_static(&u("http://caldav.example.com/"), false),
            Err(UrlRefused::PlainHttp(_))
        ));
        assert!(check_static(&u("http://caldav.example.com/"), true).is_ok());
        assert!(matches!(
            check_static(&u("ftp://x/"), true),
            Err(UrlRefused::Scheme(_))
        ));
    }

    #[test]
    fn metadata_and_link_local_addresses_are_refused_even_with_http_allowed() {
        for bad in [
            "http://169.254.169.254/latest/meta-data/",
            "https://169.254.1.1/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://0.0.0.0/",
        ] {
            let r = check_static(&u(bad), true);
            assert!(
                matches!(r, Err(UrlRefused::Forbidden { .. })),
                "{bad}: {r:?}"
            );
        }
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        assert!(check(&u("http://localhost:1/"), false).await.is_ok());
    }
}
