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
    /// `updatedAt` as used: from the file, or the folder's mtime standing in.
    #[serde(serialize_with = "serialize_time")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The instance folder.
    #[serde(serialize_with = "serialize_path")]
    pub dir: PathBuf,
    /// Why the entry is invalid or unknown, or what was corrected, in one line.
    pub problem: Option<String>,
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

    /// The URL with no trailing slash, ready to have a path appended.
    pub fn base_url(&self) -> Option<&str> {
        self.url.as_deref().map(|u| u.trim_end_matches('/'))
    }

    /// The OpenAI-compatible base URL (`<url>/v1`) that most clients want.
    pub fn openai_base_url(&self) -> Option<String> {
        self.base_url().map(|u| format!("{u}/v1"))
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
