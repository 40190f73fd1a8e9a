//! Liveness probes: `GET http://127.0.0.1:{port}/health`.
//!
//! The discovery file is local, so the server it describes runs on this
//! machine: probes go to 127.0.0.1 only, whatever the file's `address` or
//! `url` says. Redirects are not followed and proxies are never used, so a
//! probe cannot be steered anywhere else. The one exception is
//! [`Prober::lan_access`], which asks an exposed server through this
//! machine's own LAN address, checked against its interface list.

use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::discovery::{Instance, LanAccess};
use crate::interfaces::{self, Interface};
use crate::key::AccessKey;

/// The longest a probe waits for the whole answer, headers and body: a Mac
/// under load or loading a model answers `/health` in hundreds of
/// milliseconds, and a server that has not answered yet is not dead.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Who is asking, on every request: Osaurus logs it with each request.
pub const USER_AGENT: &str = concat!("osaurus-tray/", env!("CARGO_PKG_VERSION"));

/// At most this many probes run at once.
const MAX_PARALLEL: usize = 64; // keep the doc of `health_many` in step

/// How long one round of probes ([`Prober::health_many`], what `list`, `url`
/// and `env` wait for) takes at most, however many entries there are: one
/// wave of probes gets the whole [`PROBE_TIMEOUT`].
pub const ROUND_DEADLINE: Duration = Duration::from_millis(1500);

/// The shortest wait for one probe when a round has many to share its
/// deadline: a server on this machine answers within a few milliseconds.
const MIN_PROBE_TIMEOUT: Duration = Duration::from_millis(50);

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `/health` answered 200 with Osaurus's `{"status":"healthy",…}`.
    Healthy,
    /// Something answered HTTP, but not as Osaurus does: this status, or a
    /// 200 whose body is not Osaurus's health answer. Another program has
    /// the port.
    Status(u16),
    /// Nothing listens on the port: the connection was refused.
    Refused,
    /// No whole answer within the probe's wait: the server did not answer
    /// (yet). Never taken for another program's answer.
    TimedOut,
    /// Another failure (a reset, a protocol error), in one line.
    Failed(String),
    /// The answer's body is longer than the limit that was read (in bytes).
    TooLarge(u64),
}

impl Reply {
    /// True when the server is live.
    pub fn is_reachable(&self) -> bool {
        matches!(self, Reply::Healthy)
    }

    /// True when something answers on the port, but not as Osaurus.
    pub fn is_not_osaurus(&self) -> bool {
        matches!(self, Reply::Status(_))
    }
}

impl std::fmt::Display for Reply {
    /// What the port did, as a phrase: "refuses connections".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Healthy => f.write_str("answers as Osaurus"),
            Reply::Status(200) => f.write_str("answers HTTP 200, but not as Osaurus"),
            Reply::Status(s) => write!(f, "answers HTTP {s}, but not as Osaurus"),
            Reply::Refused => f.write_str("refuses connections"),
            Reply::TimedOut => f.write_str("does not answer in time"),
            Reply::Failed(why) => write!(f, "fails ({why})"),
            Reply::TooLarge(limit) => write!(f, "answers with more than {} KiB", limit / 1024),
        }
    }
}

/// True for the body of Osaurus's `/health` answer: a JSON object whose
/// `status` is `healthy` (other keys and their order do not matter).
pub fn is_osaurus_health(body: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => map.get("status").and_then(|s| s.as_str()) == Some("healthy"),
        _ => false,
    }
}

/// An HTTP client that can only speak to 127.0.0.1.
pub struct Prober {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Default for Prober {
    fn default() -> Self {
        Prober::new(PROBE_TIMEOUT)
    }
}

impl Prober {
    /// A prober whose every request ends within `timeout`.
    pub fn new(timeout: Duration) -> Prober {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(None)
            .user_agent(USER_AGENT)
            .build();
        let agent = ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::default(), IpOnly);
        Prober { agent, timeout }
    }

    /// The status and, unless it is longer than `limit`, the body.
    fn fetch(&self, port: u16, path: &str, limit: u64, timeout: Duration) -> Result<(u16, Option<String>), Reply> {
        let url = loopback_url(port, path);
        let request = self.agent.get(&url).config().timeout_global(Some(timeout.min(self.timeout))).build();
        match request.call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // A body that does not come in time is no answer yet (a
                // busy server), never another program's answer.
                let body = match read_body(&mut response, limit) {
                    Ok(body) => Some(body),
                    Err(Reply::TooLarge(_)) => None,
                    Err(late) => return Err(late),
                };
                Ok((status, body))
            }
            Err(e) => Err(reply_to_error(e)),
        }
    }

    /// `GET http://127.0.0.1:{port}/v1/models`, with `Authorization: Bearer`
    /// when a key is given: the one request that ever carries the key. The
    /// key goes only to a server of this user
    /// ([`crate::process::served_by_this_user`]); another user's server on
    /// the port is asked without it.
    pub fn models(&self, port: u16, key: Option<&AccessKey>, limit: u64) -> Result<(u16, String), Reply> {
        let mut request = self.agent.get(&loopback_url(port, "/v1/models"));
        if let Some(key) = key.filter(|_| crate::process::served_by_this_user(port)) {
            request = request.header("Authorization", key.bearer());
        }
        match request.call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = read_body(&mut response, limit)?;
                Ok((status, body))
            }
            Err(e) => Err(reply_to_error(e)),
        }
    }

    /// What a client on the local network gets from the server on `port`:
    /// `GET /v1/models` without a key, sent to this machine's own LAN
    /// address ([`interfaces::lan_address`], one of `interfaces`), never
    /// to another host. 401 is guarded, 200 open.
    pub fn lan_access(&self, file_address: Option<&str>, port: u16, interfaces: &[Interface]) -> LanAccess {
        self.lan_access_and_list(file_address, port, interfaces, 0).0
    }

    /// [`Prober::lan_access`], with the body of an open server's answer
    /// (the model list anyone on the LAN gets) when it is at most `limit`
    /// bytes: one request tells both.
    pub fn lan_access_and_list(
        &self,
        file_address: Option<&str>,
        port: u16,
        interfaces: &[Interface],
        limit: u64,
    ) -> (LanAccess, Option<String>) {
        let Some(address) = interfaces::lan_address(file_address, interfaces) else {
            return (LanAccess::Unknown, None);
        };
        match self.agent.get(&format!("http://{address}:{port}/v1/models")).call() {
            Ok(mut response) => match response.status().as_u16() {
                401 => (LanAccess::Guarded, None),
                200 => (LanAccess::Open, (limit > 0).then(|| read_body(&mut response, limit).ok()).flatten()),
                _ => (LanAccess::Unknown, None),
            },
            Err(ureq::Error::Io(e)) if refused_here(&e) => (LanAccess::Blocked, None),
            Err(_) => (LanAccess::Unknown, None),
        }
    }

    /// `OPTIONS /health` on `port`: the hang check. Osaurus answers it 204
    /// before its access-key gate and never logs it, so asking costs the
    /// user nothing; any HTTP answer proves the server answers (not that
    /// it is Osaurus). `Healthy` for any answer.
    pub fn answers(&self, port: u16) -> Reply {
        let url = loopback_url(port, "/health");
        let request = self.agent.options(&url).config().timeout_global(Some(self.timeout)).build();
        match request.call() {
            Ok(_) => Reply::Healthy,
            Err(e) => reply_to_error(e),
        }
    }

    /// [`Prober::answers`] for many ports at once, within the round's deadline.
    pub fn answers_many<K: Copy + Send + Sync>(&self, ports: &[(K, u16)]) -> Vec<(K, Reply)> {
        self.many_within(ports, ROUND_DEADLINE, |port, _| self.answers(port))
    }

    /// Probes `/health` on `port`.
    pub fn health(&self, port: u16) -> Reply {
        self.health_within(port, self.timeout)
    }

    /// [`Prober::health`], ending within `timeout`.
    fn health_within(&self, port: u16, timeout: Duration) -> Reply {
        // A long body is not Osaurus's short health answer, whatever its status.
        match self.fetch(port, "/health", 4096, timeout) {
            Ok((200, Some(body))) if is_osaurus_health(&body) => Reply::Healthy,
            Ok((status, _)) => Reply::Status(status),
            Err(outcome) => outcome,
        }
    }

    /// Probes every running instance in parallel and records each outcome
    /// on it ([`record`]); returns the outcomes by index. Entries that are not
    /// running are left unprobed (`reachable` stays `None`).
    pub fn probe_all(&self, instances: &mut [Instance]) -> Vec<(usize, Reply)> {
        self.probe_all_within(instances, ROUND_DEADLINE)
    }

    /// [`Prober::probe_all`] with a round deadline of `budget`. The newest
    /// files are asked first ([`newest_first`]): if the round runs out of
    /// time, what goes unasked is most likely a crash leftover.
    pub fn probe_all_within(&self, instances: &mut [Instance], budget: Duration) -> Vec<(usize, Reply)> {
        let mut ports: Vec<(usize, u16)> = instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.is_running())
            .filter_map(|(n, i)| i.port.map(|p| (n, p)))
            .collect();
        newest_first(&mut ports, |&(n, _)| instances[n].updated_at);
        let outcomes = self.health_many_within(&ports, budget);
        for (n, outcome) in &outcomes {
            record(&mut instances[*n], outcome);
        }
        outcomes
    }

    /// Probes many ports at once, each tagged with a key: at most 64 at a
    /// time (starting threads is what a loaded machine pays for most), the
    /// whole round within [`ROUND_DEADLINE`] however many ports there are.
    /// When there are more ports than run at once, each probe gets its share
    /// of the round, with two shares of slack (at least 50 ms, at most the
    /// prober's timeout); a port not asked before the deadline is
    /// [`Reply::TimedOut`].
    pub fn health_many<K: Copy + Send + Sync>(&self, ports: &[(K, u16)]) -> Vec<(K, Reply)> {
        self.health_many_within(ports, ROUND_DEADLINE)
    }

    /// [`Prober::health_many`] with a round deadline of `budget`.
    pub fn health_many_within<K: Copy + Send + Sync>(&self, ports: &[(K, u16)], budget: Duration) -> Vec<(K, Reply)> {
        self.many_within(ports, budget, |port, t| self.health_within(port, t))
    }

    /// Asks `ask(port, wait)` of many ports at once (see [`Prober::health_many`]).
    fn many_within<K: Copy + Send + Sync>(
        &self,
        ports: &[(K, u16)],
        budget: Duration,
        ask: impl Fn(u16, Duration) -> Reply + Sync,
    ) -> Vec<(K, Reply)> {
        if ports.is_empty() {
            return Vec::new();
        }
        let deadline = Instant::now() + budget;
        let workers = ports.len().min(MAX_PARALLEL);
        let waves = u32::try_from(ports.len().div_ceil(workers)).unwrap_or(u32::MAX);
        // One wave gets the whole wait; more share the round, with two
        // waves of slack for starting the threads and for stragglers.
        let each = match waves {
            1 => self.timeout.min(budget),
            _ => (budget / waves.saturating_add(2)).clamp(MIN_PROBE_TIMEOUT.min(self.timeout), self.timeout),
        };
        let next = AtomicUsize::new(0);
        let work = || {
            let mut found = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(key, port)) = ports.get(n) else {
                    break;
                };
                let left = deadline.saturating_duration_since(Instant::now());
                let outcome = match left.min(each) {
                    t if t < Duration::from_millis(1) => Reply::TimedOut,
                    t => ask(port, t),
                };
                found.push((key, outcome));
            }
            found
        };
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..workers)
                .map_while(|_| std::thread::Builder::new().stack_size(256 * 1024).spawn_scoped(s, work).ok())
                .collect();
            // This thread works too, so that the round completes even when
            // no thread could be started.
            let mut found = work();
            found.extend(handles.into_iter().flat_map(|h| h.join().unwrap_or_default()));
            found
        })
    }
}

/// Records what one `/health` probe found on `instance`'s port.
pub fn record(instance: &mut Instance, outcome: &Reply) {
    instance.reachable = Some(outcome.is_reachable());
    instance.not_osaurus = match (outcome.is_not_osaurus(), instance.port) {
        (true, Some(port)) => Some(format!("port {port} answers, but not as Osaurus")),
        _ => None,
    };
}

/// Orders probe targets so that the newest `updatedAt` goes first (undated
/// last): Osaurus rewrites its file when it starts, so a live server is
/// usually the newest, and a leftover from a crash the oldest.
pub fn newest_first<T>(targets: &mut [T], updated_at: impl Fn(&T) -> Option<chrono::DateTime<chrono::Utc>>) {
    targets.sort_by_key(|t| std::cmp::Reverse(updated_at(t)));
}

/// Resolves only IP literals, at once: a probe never looks a name up, and
/// never starts a thread to time a lookup out (ureq's resolver does, one per
/// request, which a round of a thousand probes cannot afford).
#[derive(Debug)]
struct IpOnly;

impl ureq::unversioned::resolver::Resolver for IpOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let ip: std::net::IpAddr = host.parse().map_err(|_| ureq::Error::HostNotFound)?;
        let mut out = self.empty();
        out.push(std::net::SocketAddr::new(ip, uri.port_u16().unwrap_or(80)));
        Ok(out)
    }
}

/// At most `limit` bytes of the body, as text; a longer body is
/// [`Reply::TooLarge`], not a truncated text, and a body that does not
/// come within the timeout is [`Reply::TimedOut`]. A body that is not
/// UTF-8 or breaks off reads as empty.
fn read_body(response: &mut ureq::http::Response<ureq::Body>, limit: u64) -> Result<String, Reply> {
    match response.body_mut().with_config().limit(limit).read_to_string() {
        Ok(body) => Ok(body),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(Reply::TooLarge(limit)),
        Err(e) => match reply_to_error(e) {
            Reply::TimedOut => Err(Reply::TimedOut),
            _ => Ok(String::new()),
        },
    }
}

/// The only kind of URL a probe requests.
fn loopback_url(port: u16, path: &str) -> String {
    format!("http://{}:{port}{path}", Ipv4Addr::LOCALHOST)
}

/// Whether a connection to this machine's own LAN address failed before it
/// left the machine: macOS's Local Network privacy answers EHOSTUNREACH to
/// an app it has not allowed; a local firewall, EPERM or EACCES.
fn refused_here(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::HostUnreachable | ErrorKind::PermissionDenied)
}

/// What a request that failed with `e` says about the port.
fn reply_to_error(e: ureq::Error) -> Reply {
    match e {
        ureq::Error::Timeout(_) => Reply::TimedOut,
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => Reply::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Reply::TimedOut,
            _ => Reply::Failed(crate::discovery::read::io_reason(&io)),
        },
        other => Reply::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lan_check_the_system_refused_is_told_from_one_nobody_answered() {
        use std::io::Error;
        for errno in [libc::EHOSTUNREACH, libc::EPERM, libc::EACCES] {
            assert!(refused_here(&Error::from_raw_os_error(errno)), "errno {errno}");
        }
        for errno in [libc::ECONNREFUSED, libc::ETIMEDOUT, libc::ENETDOWN, libc::ECONNRESET] {
            assert!(!refused_here(&Error::from_raw_os_error(errno)), "errno {errno}");
        }
    }

    #[test]
    fn only_osaurus_health_bodies_count() {
        assert!(is_osaurus_health(r#"{"status":"healthy","timestamp":"2025-09-08T12:35:12Z"}"#));
        assert!(is_osaurus_health(r#"{"timestamp":"x","status":"healthy"}"#));
        for body in ["<html>ok</html>", "", "{}", r#"{"status":"ok"}"#, r#"["healthy"]"#, r#"{"status":true}"#] {
            assert!(!is_osaurus_health(body), "{body}");
        }
    }

    #[test]
    fn a_probe_names_another_program_on_the_port() {
        let mut i = Instance::invalid("A".into(), "/rt/A".into(), "x");
        i.port = Some(41055);
        record(&mut i, &Reply::Status(200));
        assert_eq!(i.reachable, Some(false));
        assert_eq!(i.not_osaurus.as_deref(), Some("port 41055 answers, but not as Osaurus"));
        record(&mut i, &Reply::Healthy);
        assert_eq!((i.reachable, i.not_osaurus.as_deref()), (Some(true), None));
    }

    #[test]
    fn outcomes_read_as_plain_phrases() {
        assert_eq!(Reply::Refused.to_string(), "refuses connections");
        assert_eq!(Reply::Status(404).to_string(), "answers HTTP 404, but not as Osaurus");
        assert_eq!(Reply::TimedOut.to_string(), "does not answer in time");
        for o in [Reply::Healthy, Reply::Status(200), Reply::Refused, Reply::TimedOut, Reply::Failed("x".into())] {
            let text = o.to_string();
            assert!(!text.contains("Refused") && !text.contains("Status(") && !text.contains("Failed("), "{text}");
        }
    }
}
