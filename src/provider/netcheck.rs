//! Which URLs the daemon may be told to talk to. A CalDAV URL comes from a user, and the URLs
//! its server hands back (principal, home set, event hrefs, redirects) come from that server, so
//! any of them could point at the machine's cloud metadata service or another internal address,
//! and credentials would travel in clear text over plain HTTP. The static rules are checked on
//! every URL before a request; [`GuardedResolver`] checks every address a name resolves to, at
//! each new connection, so a name that moves to a forbidden address is refused without a
//! check-then-connect race.

use std::net::{IpAddr, SocketAddr};

use url::Url;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
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
    #[error("{url} is on another host than the account ({account}): refused")]
    OtherOrigin { url: String, account: String },
    #[error(
        "{url}: a user name or password in the URL would be stored and shown in clear; give the user name with --username and the password with --password-env"
    )]
    UserInfo { url: String },
    #[error(
        "{url}: {from} redirects into this machine or its private network ({addr}); a server on the internet may not send the password there: connect that address directly if it is yours"
    )]
    Inward {
        url: String,
        from: String,
        addr: String,
    },
}

/// Host names of cloud metadata services (they resolve only inside the cloud).
const METADATA_NAMES: [&str; 2] = ["metadata.google.internal", "metadata"];

fn is_metadata_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    METADATA_NAMES.iter().any(|m| host.eq_ignore_ascii_case(m))
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Link-local (which includes 169.254.169.254, the metadata service of most clouds), Alibaba
/// Cloud's 100.100.100.200, the IPv6 metadata address, and any IPv4 address of these carried
/// inside an IPv6 one (mapped, compatible, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4
/// `2002::/16`).
pub(crate) fn forbidden_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a == std::net::Ipv4Addr::new(100, 100, 100, 200)
        }
        IpAddr::V6(a) => {
            let seg = a.segments();
            (seg[0] & 0xffc0) == 0xfe80
                || a.is_unspecified()
                || a == "fd00:ec2::254"
                    .parse::<std::net::Ipv6Addr>()
                    .expect("a valid address")
                || embedded_v4(a).is_some_and(|v4| forbidden_addr(IpAddr::V4(v4)))
        }
    }
}

/// The IPv4 address an IPv6 one carries, for the forms that reach it: mapped (`::ffff:a.b.c.d`),
/// compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`, `64:ff9b:1::/48` with the address last)
/// and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(a: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let seg = a.segments();
    let last = |hi: u16, lo: u16| {
        std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
    };
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some(v4);
    }
    if seg[..6] == [0; 6] {
        return Some(last(seg[6], seg[7]));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && (seg[2..6] == [0; 4] || seg[2] == 1) {
        return Some(last(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return Some(last(seg[1], seg[2]));
    }
    None
}

/// Loopback, private (RFC 1918, unique local `fc00::/7`) and shared (`100.64.0.0/10`) addresses:
/// this machine and its own network, which a server on the internet may not send us to.
fn internal_addr(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_loopback()
                || a.is_private()
                || (a.octets()[0] == 100 && a.octets()[1] & 0xc0 == 64)
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || embedded_v4(a).is_some_and(|v4| internal_addr(IpAddr::V4(v4)))
        }
    }
}

/// The first address of `url`'s host that is this machine or its private network (a literal
/// address, `localhost`, or what the name resolves to now), if any.
pub(crate) async fn internal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => internal_addr(IpAddr::V4(a)).then_some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => internal_addr(IpAddr::V6(a)).then_some(IpAddr::V6(a)),
        url::Host::Domain(d) if d.trim_end_matches('.').eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
        url::Host::Domain(d) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs = tokio::net::lookup_host((d, port)).await.ok()?;
            addrs.map(|a| a.ip()).find(|ip| internal_addr(*ip))
        }
    }
}

/// A discovery redirect from `from` to `to`: refused when it leads from a server outside into
/// this machine or its private network (a hostile server would aim the password at a local
/// service). Within the inside, or from inside out, it is the user's own network's business.
pub(crate) async fn check_redirect(from: &Url, to: &Url) -> Result<(), UrlRefused> {
    if internal_address(from).await.is_some() {
        return Ok(());
    }
    match internal_address(to).await {
        Some(addr) => Err(UrlRefused::Inward {
            url: shown(to),
            from: origin_of(from),
            addr: addr.to_string(),
        }),
        None => Ok(()),
    }
}

/// The URL a person typed for an account: no user name or password inside it (they would be
/// stored with the account's settings and shown in messages, outside the encrypted credentials).
pub(crate) fn check_typed(url: &Url) -> Result<(), UrlRefused> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefused::UserInfo { url: shown(url) });
    }
    Ok(())
}

/// The checks that need no DNS: scheme, host, plain http.
pub(crate) fn check_static(url: &Url, allow_http: bool) -> Result<(), UrlRefused> {
    let shown = url.as_str().to_string();
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(shown));
    }
    let host = url
        .host()
        .ok_or_else(|| UrlRefused::NoHost(shown.clone()))?;
    let forbidden = match &host {
        url::Host::Domain(d) => is_metadata_name(d).then(|| d.to_string()),
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
pub(crate) async fn check(url: &Url, allow_http: bool) -> Result<(), UrlRefused> {
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

/// Scheme, host and port as the account's URL has them: what "the account's server" means.
fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The rule for a URL the server handed back (an href, a principal, a home set): not a forbidden
/// address, and on the same origin (scheme, host, port) as `account`, the URL the account was
/// reached at. The URL is shown without user or password.
pub(crate) fn check_same_origin(account: &Url, url: &Url) -> Result<(), UrlRefused> {
    // Forbidden addresses are named as such even when the origin differs: the stronger reason.
    check_static(url, true)?;
    if url.origin() != account.origin() {
        return Err(UrlRefused::OtherOrigin {
            url: shown(url),
            account: origin_of(account),
        });
    }
    Ok(())
}

/// A URL as shown in errors: without user name or password.
fn shown(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

/// The addresses `host` resolves to, all of them allowed, or the rule that refuses them. A name
/// with any forbidden address is refused whole: a calendar server has no reason to resolve to a
/// metadata address, and connecting to "the other ones" would reward the trick.
pub(crate) fn allowed_addrs(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, UrlRefused> {
    let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    if let Some(bad) = addrs.iter().find(|a| forbidden_addr(a.ip())) {
        return Err(UrlRefused::Forbidden {
            url: format!("host {host}"),
            addr: bad.ip().to_string(),
        });
    }
    if addrs.is_empty() {
        return Err(UrlRefused::Resolve {
            url: format!("host {host}"),
            message: "no address".into(),
        });
    }
    Ok(addrs)
}

/// The DNS resolver of every HTTP client the daemon builds (CalDAV and Google): resolves with
/// the system resolver, then refuses metadata names and any forbidden address. It runs for each
/// new connection, so the check and the connection use the same answer. (IP literals never reach
/// a resolver: [`check_static`] covers them before each request.)
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            if is_metadata_name(&host) {
                return Err(Box::new(UrlRefused::Forbidden {
                    url: format!("host {host}"),
                    addr: host.clone(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            // Port 0: reqwest puts the URL's port in.
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| UrlRefused::Resolve {
                    url: format!("host {host}"),
                    message: e.to_string(),
                })?;
            let addrs = allowed_addrs(&host, found)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The rule a failed request broke, when the failure is one of ours (refused by the resolver or
/// a redirect check) somewhere in its chain of sources.
pub(crate) fn refusal_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a UrlRefused> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<UrlRefused>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
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

    #[test]
    fn a_url_the_server_hands_back_must_be_on_the_accounts_origin() {
        let account = u("http://127.0.0.1:5232/user/");
        assert!(check_same_origin(&account, &u("http://127.0.0.1:5232/user/cal/a.ics")).is_ok());
        // A different port, scheme or host is a different origin (a proxy on another port is
        // another server as far as the rule goes).
        for other in [
            "http://127.0.0.1:5233/user/cal/a.ics",
            "https://127.0.0.1:5232/user/",
            "http://localhost:5232/user/",
            "http://192.0.2.10/user/",
        ] {
            let e = check_same_origin(&account, &u(other)).unwrap_err();
            assert!(
                matches!(e, UrlRefused::OtherOrigin { .. }),
                "{other}: {e:?}"
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "{} is on another host than the account (http://127.0.0.1:5232): refused",
                    u(other)
                )
            );
        }
        // A forbidden address is named as such, the stronger reason.
        let e = check_same_origin(&account, &u("http://169.254.169.254/latest/meta-data/"))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("169.254.169.254 is a link-local or cloud metadata address"),
            "{e}"
        );
        // The default port is the same origin whether written or not; no password is shown.
        let https = u("https://cal.example.com/dav/");
        assert!(check_same_origin(&https, &u("https://cal.example.com:443/x.ics")).is_ok());
        let e = check_same_origin(&https, &u("https://me:secret@evil.example/x")).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn a_name_with_any_forbidden_address_is_refused_whole() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let ok = allowed_addrs("cal.test", [a("127.0.0.1:0"), a("[::1]:0")]).unwrap();
        assert_eq!(ok.len(), 2);
        for bad in [
            "169.254.169.254:0",
            "[fe80::1]:0",
            "0.0.0.0:0",
            "[fd00:ec2::254]:0",
        ] {
            let e = allowed_addrs("cal.test", [a("127.0.0.1:0"), a(bad)]).unwrap_err();
            let ip = a(bad).ip().to_string();
            assert_eq!(
                e.to_string(),
                format!(
                    "host cal.test: {ip} is a link-local or cloud metadata address, never a calendar server"
                )
            );
        }
        assert!(matches!(
            allowed_addrs("cal.test", []),
            Err(UrlRefused::Resolve { .. })
        ));
    }

    #[tokio::test]
    async fn the_resolver_refuses_metadata_names_and_resolves_the_others() {
        use reqwest::dns::Resolve;
        let r = GuardedResolver;
        let e = r
            .resolve("metadata.google.internal".parse().unwrap())
            .await
            .err()
            .expect("refused");
        let rule = refusal_in(e.as_ref()).expect("our rule");
        assert!(matches!(rule, UrlRefused::Forbidden { .. }), "{rule}");
        let addrs: Vec<SocketAddr> = r
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        assert!(check(&u("http://localhost:1/"), false).await.is_ok());
    }

    #[test]
    fn metadata_addresses_inside_ipv6_forms_and_alibabas_are_refused() {
        for bad in [
            "http://[::a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b:1::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://100.100.100.200/latest/meta-data/",
        ] {
            let r = check_static(&u(bad), true);
            assert!(
                matches!(r, Err(UrlRefused::Forbidden { .. })),
                "{bad}: {r:?}"
            );
        }
        for good in [
            "https://[2001:db8::1]/",
            "https://[64:ff9b::808:808]/",
            "https://100.100.100.201/",
        ] {
            assert!(check_static(&u(good), true).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_typed_url_with_a_user_or_password_is_refused_without_showing_them() {
        let r = check_typed(&u("https://bob:hunter2@cal.example.com/dav/"));
        let Err(e) = r else { panic!("accepted: {r:?}") };
        let said = e.to_string();
        assert!(
            said.contains("--username") && said.contains("--password-env"),
            "{said}"
        );
        assert!(!said.contains("hunter2") && !said.contains("bob"), "{said}");
        assert!(check_typed(&u("https://cal.example.com/dav/")).is_ok());
    }

    #[tokio::test]
    async fn a_discovery_redirect_from_outside_into_this_machine_or_its_network_is_refused() {
        let outside = u("https://93.184.216.34/.well-known/caldav");
        for inward in [
            "http://127.0.0.1:6379/",
            "https://10.0.0.5/dav/",
            "https://192.168.1.2/",
            "https://100.64.0.1/",
            "https://[fd00::5]/",
            "https://[::ffff:10.0.0.5]/",
            "http://localhost:8080/",
        ] {
            let r = check_redirect(&outside, &u(inward)).await;
            let Err(UrlRefused::Inward { addr, .. }) = &r else {
                panic!("{inward}: {r:?}")
            };
            assert!(!addr.is_empty(), "{inward}");
        }
        // Outside to outside, and inside to inside (a local server's own redirects), are fine.
        assert!(
            check_redirect(&outside, &u("https://93.184.216.35/dav/"))
                .await
                .is_ok()
        );
        let inside = u("http://127.0.0.1:5232/.well-known/caldav");
        assert!(
            check_redirect(&inside, &u("http://127.0.0.1:5233/dav/"))
                .await
                .is_ok()
        );
    }
}
