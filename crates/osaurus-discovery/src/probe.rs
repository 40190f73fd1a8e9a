//! Liveness probes: `GET http://127.0.0.1:{port}/health`.
//!
//! The discovery file is local, so the server it describes runs on this
//! machine: probes go to 127.0.0.1 only, whatever the file's `address` or
//! `url` says. Redirects are not followed and proxies are never used, so a
//! probe cannot be steered anywhere else.

use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::discovery::Instance;

/// The longest a probe waits for an answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(300);

/// At most this many probes run at once.
const MAX_PARALLEL: usize = 32; // keep the doc of `health_many` in step

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `/health` answered 200.
    Healthy,
    /// The server answered with another status.
    Status(u16),
    /// Nothing listens on the port: the connection was refused.
    Refused,
    /// No answer within [`PROBE_TIMEOUT`].
    TimedOut,
    /// Another failure (a reset, a protocol error), in one line.
    Failed(String),
}

impl Outcome {
    /// True when the server is live.
    pub fn is_reachable(&self) -> bool {
        matches!(self, Outcome::Healthy)
    }
}

/// An HTTP client that can only speak to 127.0.0.1.
pub struct Prober {
    agent: ureq::Agent,
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
            .build();
        Prober { agent: config.into() }
    }

    /// `GET http://127.0.0.1:{port}{path}`, returning the status and at most
    /// `limit` bytes of the body.
    pub fn get(&self, port: u16, path: &str, limit: u64) -> Result<(u16, String), Outcome> {
        let url = loopback_url(port, path);
        match self.agent.get(&url).call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response.body_mut().with_config().limit(limit).read_to_string().unwrap_or_default();
                Ok((status, body))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Probes `/health` on `port`.
    pub fn health(&self, port: u16) -> Outcome {
        match self.get(port, "/health", 4096) {
            Ok((200, _)) => Outcome::Healthy,
            Ok((status, _)) => Outcome::Status(status),
            Err(outcome) => outcome,
        }
    }

    /// Probes every running instance in parallel and sets `reachable`.
    /// Entries that are not running are left unprobed (`None`).
    pub fn probe_all(&self, instances: &mut [Instance]) {
        let ports: Vec<(usize, u16)> = instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.is_running())
            .filter_map(|(n, i)| i.port.map(|p| (n, p)))
            .collect();
        for (n, outcome) in self.health_many(&ports) {
            instances[n].reachable = Some(outcome.is_reachable());
        }
    }

    /// Probes many ports at once, each tagged with a key; at most
    /// 32 at a time.
    pub fn health_many<K: Copy + Send + Sync>(&self, ports: &[(K, u16)]) -> Vec<(K, Outcome)> {
        if ports.is_empty() {
            return Vec::new();
        }
        let next = AtomicUsize::new(0);
        let workers = ports.len().min(MAX_PARALLEL);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut found = Vec::new();
                        loop {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            let Some(&(key, port)) = ports.get(n) else {
                                break;
                            };
                            found.push((key, self.health(port)));
                        }
                        found
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        })
    }
}

/// The only kind of URL a probe requests.
fn loopback_url(port: u16, path: &str) -> String {
    format!("http://{}:{port}{path}", Ipv4Addr::LOCALHOST)
}

fn classify(e: ureq::Error) -> Outcome {
    match e {
        ureq::Error::Timeout(_) => Outcome::TimedOut,
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => Outcome::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
            _ => Outcome::Failed(io.to_string()),
        },
        other => Outcome::Failed(other.to_string()),
    }
}
