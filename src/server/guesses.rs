//! How fast one client may guess the admin token (the web sign-in, the API's bearer token): a
//! budget of attempts per client address (a burst of `per_minute`, then one every
//! `60 / per_minute` seconds; the GCRA that `governor` uses), with two things `governor` does not
//! offer: an attempt reserves its place in line (so a sign-in can wait for its turn instead of
//! being refused), and an attempt that turns out to carry the right token gives its place back
//! (so using the token never spends the budget).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses tracked at most; beyond that (a flood from many addresses) the new ones share one
/// budget, so memory stays bounded and the flood slows itself.
const MAX_CLIENTS: usize = 65_536;

/// The budget of guesses per client address.
pub(crate) struct Guesses {
    /// One attempt is earned back every `interval`.
    interval: Duration,
    /// How far ahead of now the line may reach before attempts wait: `(burst - 1) * interval`.
    tolerance: Duration,
    /// Per client, when its line of reserved attempts ends (the GCRA's "theoretical arrival").
    line_end: Mutex<HashMap<IpAddr, Instant>>,
}

/// An attempt's place in line: it may be checked after `wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Turn {
    pub wait: Duration,
    client: IpAddr,
}

/// No place within the allowed wait: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1, for a `Retry-After` header.
    pub(crate) fn secs(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

impl Guesses {
    pub(crate) fn per_minute(n: u32) -> Self {
        let n = n.max(1);
        let interval = Duration::from_secs(60) / n;
        Self {
            interval,
            tolerance: interval * (n - 1),
            line_end: Mutex::new(HashMap::new()),
        }
    }

    /// How long a sign-in may wait for its turn: until the next attempt is earned back, at most
    /// 30 seconds (a browser waits that long; longer would look like a dead server).
    pub(crate) fn signin_wait(&self) -> Duration {
        self.interval.min(Duration::from_secs(30))
    }

    /// Takes a place in `client`'s line if it comes within `max_wait`; else says when to retry.
    pub(crate) fn reserve(&self, client: IpAddr, max_wait: Duration) -> Result<Turn, RetryAfter> {
        self.reserve_at(client, max_wait, Instant::now())
    }

    fn reserve_at(
        &self,
        client: IpAddr,
        max_wait: Duration,
        now: Instant,
    ) -> Result<Turn, RetryAfter> {
        let mut lines = self.line_end.lock().unwrap_or_else(|e| e.into_inner());
        let mut client = bucket(client);
        if lines.len() >= MAX_CLIENTS && !lines.contains_key(&client) {
            lines.retain(|_, end| *end > now);
            if lines.len() >= MAX_CLIENTS {
                client = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            }
        }
        let end = lines.get(&client).copied().unwrap_or(now).max(now);
        let allowed_at = end.checked_sub(self.tolerance).unwrap_or(now).max(now);
        let wait = allowed_at - now;
        if wait > max_wait {
            return Err(RetryAfter(wait - max_wait));
        }
        lines.insert(client, end + self.interval);
        Ok(Turn { wait, client })
    }

    /// Gives a place back: the attempt carried the right token, so it was no guess.
    pub(crate) fn refund(&self, turn: Turn) {
        let mut lines = self.line_end.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(end) = lines.get_mut(&turn.client) {
            *end = end.checked_sub(self.interval).unwrap_or(*end);
        }
    }
}

/// The client's address, from the connection. Behind a proxy all clients share the proxy's
/// budget, which errs on the safe side.
pub(crate) fn client_ip(ext: &axum::http::Extensions) -> IpAddr {
    ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The budget an address spends from: IPv6 clients by their /64, which one host usually holds
/// whole (else each of its 2^64 addresses would have a budget of its own).
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn a_burst_then_one_per_interval_per_address_and_right_tokens_cost_nothing() {
        let g = Guesses::per_minute(3); // one every 20 s
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                g.reserve_at(A, Duration::ZERO, t0).unwrap().wait,
                Duration::ZERO
            );
        }
        // The fourth is refused, with the time until the next attempt is earned back.
        assert_eq!(
            g.reserve_at(A, Duration::ZERO, t0),
            Err(RetryAfter(Duration::from_secs(20)))
        );
        // Another address has its own budget.
        assert!(g.reserve_at(B, Duration::ZERO, t0).is_ok());
        // Willing to wait 20 s: it gets the next place, and the one after is 40 s away.
        let turn = g.reserve_at(A, Duration::from_secs(20), t0).unwrap();
        assert_eq!(turn.wait, Duration::from_secs(20));
        assert_eq!(
            g.reserve_at(A, Duration::from_secs(20), t0),
            Err(RetryAfter(Duration::from_secs(20)))
        );
        // That attempt was the right token: its place is given back.
        g.refund(turn);
        assert_eq!(
            g.reserve_at(A, Duration::from_secs(20), t0).unwrap().wait,
            Duration::from_secs(20)
        );
        // Guessing stays at one per 20 s however long it goes on.
        let later = t0 + Duration::from_secs(600);
        let mut checked = 0;
        for s in 0..600 {
            if g.reserve_at(A, Duration::ZERO, later + Duration::from_secs(s))
                .is_ok()
            {
                checked += 1;
            }
        }
        assert!((30..=33).contains(&checked), "{checked}");
    }

    #[test]
    fn ipv6_clients_share_their_64_and_retry_after_rounds_up() {
        let g = Guesses::per_minute(1);
        let t0 = Instant::now();
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(g.reserve_at(one, Duration::ZERO, t0).is_ok());
        assert!(g.reserve_at(other, Duration::ZERO, t0).is_err());
        assert_eq!(RetryAfter(Duration::from_millis(1500)).secs(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(3)).secs(), 3);
        assert_eq!(RetryAfter(Duration::ZERO).secs(), 1);
    }
}
