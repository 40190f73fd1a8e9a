//! One Osaurus instance as this app understands it.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// What an instance folder says about its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// `health: "running"` with a usable port and address.
    Running,
    /// `health: "starting"`: the server is not listening yet.
    Starting,
    /// `health: "restarting"`: the server is moving to a new configuration.
    Restarting,
    /// A `health` value this app does not know; the raw value is in `problem`.
    Unknown,
    /// The folder or its file cannot be used; the reason is in `problem`.
    Invalid,
}

impl State {
    /// The word used in `list` output and in the JSON `state` key.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Starting => "starting",
            State::Restarting => "restarting",
            State::Unknown => "unknown",
            State::Invalid => "invalid",
        }
    }
}

/// What a client on the local network gets from an exposed server, asked
/// through this machine's own LAN address for `/v1/models` without a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LanAccess {
    /// It answered 401: it wants an access key.
    Guarded,
    /// It answered 200: anyone on the network can use it.
    Open,
    /// No clear answer (no LAN address, no answer, another status).
    Unknown,
    /// The system refused the connection to this machine's own LAN address
    /// before it left: on macOS 15, Local Network privacy has not allowed
    /// the app (EHOSTUNREACH); elsewhere a local firewall (EPERM, EACCES).
    Blocked,
}

impl LanAccess {
    /// The word used in `list` and in the JSON `lanAccess` key.
    pub fn as_str(self) -> &'static str {
        match self {
            LanAccess::Guarded => "guarded",
            LanAccess::Open => "open",
            LanAccess::Unknown => "unknown",
            LanAccess::Blocked => "blocked",
        }
    }
}

/// One instance folder, read and judged. Serialises to exactly the object that
/// `list --json` documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// The instance's id: the name of its folder.
    pub instance_id: String,
    /// What the folder says about the server.
    pub state: State,
    /// The URL to use for this instance, when it is running.
    pub url: Option<String>,
    /// The `address` the file gives.
    pub address: Option<String>,
    /// The `port` the file gives, when it is a valid TCP port.
    pub port: Option<u16>,
    /// The `exposeToNetwork` flag as written, if present.
    pub expose_to_network: Option<bool>,
    /// True when the server may be reachable from other machines.
    pub exposed: bool,
    /// Whether `GET /health` on 127.0.0.1 answered 200; `None` when not probed.
    pub reachable: Option<bool>,
    /// `updatedAt` as used: from the file, or the folder's mtime standing in
    /// when the file has none; `None` (undated) when the file's cannot be
    /// read or written back as RFC 3339 (years 0000 to 9999 in UTC).
    #[serde(serialize_with = "serialize_time")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The instance folder.
    #[serde(serialize_with = "serialize_path")]
    pub dir: PathBuf,
    /// Why the entry is invalid or unknown, or what was corrected, in one line.
    pub problem: Option<String>,
    /// When something else than Osaurus answers on its port, that in one
    /// sentence ("port 41055 answers, but not as Osaurus"); such an
    /// instance is never the best one. `None` when not probed or not so.
    pub not_osaurus: Option<String>,
    /// For an exposed instance, `http://127.0.0.1:<port>`: it works on this
    /// machine whatever the LAN address does.
    pub loopback_url: Option<String>,
    /// For an exposed instance whose address is an IP: whether this machine
    /// still has that address (false after a change of network). `None`
    /// when not checked.
    pub address_on_this_machine: Option<bool>,
    /// For an exposed, live instance: what a client on the LAN gets.
    /// `None` when not checked.
    pub lan_access: Option<LanAccess>,
    /// Why the entry is a crash leftover although something listens on its
    /// port: its file was written before that listener started
    /// ([`crate::leftover::written_before`]). `None` when not so, or not
    /// looked at.
    pub leftover: Option<String>,
}

impl Instance {
    /// An entry that cannot be used, with the reason.
    pub fn invalid(instance_id: String, dir: PathBuf, problem: impl Into<String>) -> Instance {
        Instance {
            instance_id,
            state: State::Invalid,
            url: None,
            address: None,
            port: None,
            expose_to_network: None,
            exposed: false,
            reachable: None,
            updated_at: None,
            dir,
            problem: Some(problem.into()),
            not_osaurus: None,
            loopback_url: None,
            address_on_this_machine: None,
            lan_access: None,
            leftover: None,
        }
    }

    /// True for a running instance (one that has a port and a URL).
    pub fn is_running(&self) -> bool {
        self.state == State::Running
    }

    /// The first eight characters of the id, for tables and menus.
    pub fn short_id(&self) -> &str {
        match self.instance_id.char_indices().nth(8) {
            Some((i, _)) => &self.instance_id[..i],
            None => &self.instance_id,
        }
    }

    /// The URL to hand out: the file's, or the loopback one when the file's
    /// LAN address is no longer this machine's.
    pub fn usable_url(&self) -> Option<&str> {
        match (&self.loopback_url, self.address_on_this_machine) {
            (Some(lo), Some(false)) => Some(lo),
            _ => self.url.as_deref(),
        }
    }

    /// The same entry without what probes add: what its file says.
    pub fn as_written(&self) -> Instance {
        Instance {
            reachable: None,
            not_osaurus: None,
            address_on_this_machine: None,
            lan_access: None,
            leftover: None,
            ..self.clone()
        }
    }

    /// Takes over what probes found about `old`, the same server. What was
    /// found about its exposure is kept only while it is still exposed: an
    /// entry that is not exposed has none (as `list` shows it).
    pub fn keep_probed(&mut self, old: &Instance) {
        self.reachable = old.reachable;
        self.not_osaurus.clone_from(&old.not_osaurus);
        self.leftover.clone_from(&old.leftover);
        if self.exposed && old.exposed {
            self.address_on_this_machine = old.address_on_this_machine;
            self.lan_access = old.lan_access;
        }
    }

    /// The URL with no trailing slash, ready to have a path appended.
    pub fn base_url(&self) -> Option<&str> {
        self.usable_url().map(|u| u.trim_end_matches('/'))
    }

    /// The OpenAI-compatible base URL (`<url>/v1`) that most clients want:
    /// `/v1` goes at the end of the URL's path, and a query or fragment is
    /// left out (clients append their own paths to this base).
    pub fn openai_base_url(&self) -> Option<String> {
        let base = self.base_url()?;
        let Ok(mut url) = url::Url::parse(base) else {
            return Some(format!("{base}/v1"));
        };
        url.set_query(None);
        url.set_fragment(None);
        let path = format!("{}/v1", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Some(url.to_string())
    }
}

/// Formats a time the way Osaurus writes `updatedAt`: RFC 3339, UTC, `Z`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn serialize_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(t)),
        None => s.serialize_none(),
    }
}

fn serialize_path<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(exposed: bool) -> Instance {
        let mut i = Instance::invalid("A".into(), PathBuf::from("/rt/A"), "x");
        i.state = State::Running;
        i.problem = None;
        i.port = Some(1337);
        i.exposed = exposed;
        i
    }

    #[test]
    fn what_was_found_about_an_exposure_goes_with_the_exposure() {
        let mut old = running(true);
        old.reachable = Some(true);
        old.address_on_this_machine = Some(false);
        old.lan_access = Some(LanAccess::Open);
        let mut still = running(true);
        still.keep_probed(&old);
        assert_eq!(
            (still.reachable, still.address_on_this_machine, still.lan_access),
            (Some(true), Some(false), Some(LanAccess::Open))
        );
        let mut closed = running(false);
        closed.keep_probed(&old);
        assert_eq!(closed.reachable, Some(true), "the probe's answer still holds");
        assert_eq!((closed.address_on_this_machine, closed.lan_access), (None, None), "no exposure, nothing about it");
    }
}
