//! What Osaurus exposes beyond the local network: agents tunnelled to the
//! internet through its relay (`agent.osaurus.ai`), and a CORS setting that
//! lets any website the user opens call the local API.
//!
//! Both are settings of Osaurus itself, kept in its data root (`~/.osaurus`),
//! not of one instance: `config/relay.json` (`{"enabledAgents": {"<UUID>":
//! true}}`), `agents/<UUID>.json` (each agent's `name` and `agentAddress`)
//! and `config/server.json` (`allowedOrigins`). So [`Exposure`] stands beside
//! the snapshot, not inside an instance. It matters while a server runs (the
//! tunnels connect when the server starts, and CORS is the server's answer):
//! [`Exposure::active`] says whether one does.
//!
//! [`decide`] is the pure core (bytes in, [`Exposure`] out), [`read`] reads
//! the files safely (regular files only, never through a symbolic link, never
//! blocking on a FIFO, at most [`MAX_FILE_BYTES`]), and [`watch`] keeps it
//! current from file-system events.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::discovery::read::{io_reason, kind};
use crate::discovery::RuntimeDirs;

/// The largest settings or agent file read (an agent's system prompt can be
/// long; anything bigger is not Osaurus's).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The relay's domain: an agent's public URL is `https://<address>.` this.
pub const RELAY_DOMAIN: &str = "agent.osaurus.ai";

/// The relay settings, under the data root.
pub const RELAY_FILE: &str = "config/relay.json";
/// The server settings, under the data root.
pub const SERVER_FILE: &str = "config/server.json";
/// The agents' folder, under the data root.
pub const AGENTS_DIR: &str = "agents";

/// Where the server settings and the agents are, under the data root.
/// Osaurus reads a legacy name (`ServerConfiguration.json`, `Personas/`,
/// both in the root) when it exists and the current one does not
/// (`OsaurusPaths.resolvePath`); the relay has no legacy name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The server settings file.
    pub server: &'static str,
    /// The agents' folder.
    pub agents: &'static str,
}

impl Layout {
    /// The current names.
    pub const CURRENT: Layout = Layout { server: SERVER_FILE, agents: AGENTS_DIR };

    /// The names Osaurus would use under `root` now.
    pub fn of(root: &Path) -> Layout {
        let pick = |new: &'static str, legacy: &'static str| {
            if root.join(legacy).exists() && !root.join(new).exists() {
                legacy
            } else {
                new
            }
        };
        Layout { server: pick(SERVER_FILE, LEGACY_SERVER_FILE), agents: pick(AGENTS_DIR, LEGACY_AGENTS_DIR) }
    }
}

/// The server settings' legacy name, in the data root.
pub const LEGACY_SERVER_FILE: &str = "ServerConfiguration.json";
/// The agents' legacy folder, in the data root.
pub const LEGACY_AGENTS_DIR: &str = "Personas";

/// Everything Osaurus exposes beyond the LAN, as its settings say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    /// At least one server runs, so what follows is in effect; when false it
    /// is configured and takes effect when a server starts.
    pub active: bool,
    /// Agents whose relay tunnel is on, in agent-id order.
    pub tunnels: Vec<Tunnel>,
    /// `allowedOrigins` holds `"*"`: any website the user opens can call the
    /// local API.
    pub any_website: bool,
    /// Files that could not be used, one sentence each.
    pub problems: Vec<String>,
}

/// One agent tunnelled to the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tunnel {
    /// The agent's id (an upper-case UUID, as Osaurus names its file).
    pub agent_id: String,
    /// The agent's name, from its file.
    pub name: Option<String>,
    /// `https://0x….agent.osaurus.ai`, only from a well-formed address.
    pub url: Option<String>,
    /// Why there is no name or no URL, in one sentence.
    pub problem: Option<String>,
}

impl Exposure {
    /// The same exposure, in effect or not as `running` says.
    pub fn while_running(mut self, running: bool) -> Exposure {
        self.active = running;
        self
    }

    /// Whether anything beyond the LAN is exposed (in effect or not).
    pub fn any(&self) -> bool {
        !self.tunnels.is_empty() || self.any_website
    }
}

impl Tunnel {
    /// What to call the agent: its name, else the start of its id.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) if !name.trim().is_empty() => name.clone(),
            _ => format!("agent {}", self.agent_id.chars().take(8).collect::<String>()),
        }
    }
}

/// Osaurus's data root for `dirs`: the parent of the first runtime folder.
/// With the defaults that is `~/.osaurus`; with `--runtime-dir DIR` (or
/// `OSAURUS_RUNTIME_DIR`) it is DIR's parent, so that a folder laid out like
/// `~/.osaurus` (`runtime/`, `config/`, `agents/`) is read as one (DIR
/// `.` or ending in `..` included). `None` when the folder has no parent (`/`).
pub fn data_root(dirs: &RuntimeDirs) -> Option<PathBuf> {
    let base = dirs.bases.first()?;
    let parent = base.parent()?;
    // `.` and `..` (alone or at the end) name a folder whose parent is not
    // the path's: `Path::parent` only drops the last component.
    if base.file_name().is_none() {
        return Some(base.join(".."));
    }
    Some(if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() })
}

/// One file as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// There is no such file.
    Missing,
    /// The file's bytes.
    Bytes(Vec<u8>),
    /// The file exists but cannot be used: why, in one phrase.
    Unusable(String),
}

/// Decides the exposure from the three kinds of file (pure): `relay` and
/// `server` as loaded, `agent(id)` the file of the agent `id`. Follows
/// Osaurus's own reading: a relay.json or server.json it cannot decode counts
/// as its defaults (no tunnel, no CORS), and is named in
/// [`Exposure::problems`]; keys of `enabledAgents` that are not UUIDs, and
/// values other than `true`, are ignored as Osaurus ignores them.
pub fn decide(relay: &Loaded, server: &Loaded, agent: impl Fn(&str) -> Loaded) -> Exposure {
    decide_in(Layout::CURRENT, relay, server, agent)
}

/// [`decide`] for files found under the names of `layout`.
pub fn decide_in(layout: Layout, relay: &Loaded, server: &Loaded, agent: impl Fn(&str) -> Loaded) -> Exposure {
    let server_file = layout.server;
    let mut e = Exposure::default();
    match relay {
        Loaded::Missing => {}
        Loaded::Unusable(why) => e.problems.push(format!("{RELAY_FILE} {why}")),
        Loaded::Bytes(b) => match enabled_agents(b) {
            Ok(ids) => e.tunnels = ids.iter().map(|id| tunnel_in(layout.agents, id, &agent(id))).collect(),
            Err(why) => e.problems.push(format!("{RELAY_FILE}: {why}; Osaurus reads it as no tunnel")),
        },
    }
    match server {
        Loaded::Missing => {}
        Loaded::Unusable(why) => e.problems.push(format!("{server_file} {why}")),
        Loaded::Bytes(b) => match any_website(b) {
            Ok(any) => e.any_website = any,
            Err(why) => e.problems.push(format!("{server_file}: {why}; Osaurus reads it as its defaults")),
        },
    }
    e
}

/// The agents whose tunnel `relay.json` turns on, as upper-case UUIDs,
/// sorted, each once.
pub fn enabled_agents(relay: &[u8]) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_slice(relay).map_err(|e| format!("not valid JSON ({e})"))?;
    let map = v
        .as_object()
        .ok_or("not a JSON object")?
        .get("enabledAgents")
        .ok_or("no enabledAgents")?
        .as_object()
        .ok_or("enabledAgents is not an object")?;
    // Osaurus decodes `[String: Bool]`: one value of another type fails it all.
    if map.values().any(|v| !v.is_boolean()) {
        return Err("a value of enabledAgents is not true or false".into());
    }
    let mut ids: Vec<String> = map
        .iter()
        .filter(|(k, v)| v.as_bool() == Some(true) && is_uuid(k))
        .map(|(k, _)| k.to_ascii_uppercase())
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Whether `server.json`'s `allowedOrigins` lets any website in (`"*"`).
pub fn any_website(server: &[u8]) -> Result<bool, String> {
    let v: Value = serde_json::from_slice(server).map_err(|e| format!("not valid JSON ({e})"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    match obj.get("allowedOrigins") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Array(origins)) if origins.iter().all(Value::is_string) => {
            Ok(origins.iter().any(|o| o.as_str() == Some("*")))
        }
        Some(_) => Err("allowedOrigins is not a list of strings".into()),
    }
}

/// The tunnel of agent `id`, from its file.
pub fn tunnel(id: &str, file: &Loaded) -> Tunnel {
    tunnel_in(AGENTS_DIR, id, file)
}

/// [`tunnel`] for an agent's file in the folder `agents_dir`.
fn tunnel_in(agents_dir: &str, id: &str, file: &Loaded) -> Tunnel {
    let mut t = Tunnel { agent_id: id.to_owned(), name: None, url: None, problem: None };
    let v = match file {
        Loaded::Missing => {
            t.problem = Some(format!("no {agents_dir}/{id}.json"));
            return t;
        }
        Loaded::Unusable(why) => {
            t.problem = Some(format!("{agents_dir}/{id}.json {why}"));
            return t;
        }
        Loaded::Bytes(b) => match serde_json::from_slice::<Value>(b) {
            Ok(Value::Object(v)) => v,
            Ok(_) => {
                t.problem = Some(format!("{agents_dir}/{id}.json is not a JSON object"));
                return t;
            }
            Err(e) => {
                t.problem = Some(format!("{agents_dir}/{id}.json is not valid JSON ({e})"));
                return t;
            }
        },
    };
    t.name = v.get("name").and_then(Value::as_str).map(str::to_owned);
    t.problem = match v.get("agentAddress") {
        None | Some(Value::Null) => {
            Some("no public address yet (Osaurus gives it one when the tunnel connects)".into())
        }
        Some(Value::String(a)) => match public_url(a) {
            Ok(url) => {
                t.url = Some(url);
                None
            }
            Err(why) => Some(why),
        },
        Some(_) => Some("agentAddress is not a string; no URL is made from it".into()),
    };
    if t.name.is_none() && t.problem.is_none() {
        t.problem = Some("the agent's file has no name".into());
    }
    t
}

/// `https://0x….agent.osaurus.ai` for an agent address, which must be `0x`
/// and 40 hexadecimal digits (Osaurus writes them checksummed, in mixed
/// case; the host is given in lower case). Anything else is refused: no URL
/// is ever made from it.
pub fn public_url(address: &str) -> Result<String, String> {
    let hex = address.strip_prefix("0x").filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    match hex {
        Some(hex) => Ok(format!("https://0x{}.{RELAY_DOMAIN}", hex.to_ascii_lowercase())),
        None => Err("agentAddress is not 0x and 40 hexadecimal digits; no URL is made from it".into()),
    }
}

/// `0x1234ab…cdef`: an address short enough for a menu row.
pub fn short_address(url: &str) -> String {
    let host = url.strip_prefix("https://").and_then(|h| h.strip_suffix(&format!(".{RELAY_DOMAIN}")));
    match host {
        Some(a) if a.len() > 12 && a.is_ascii() => format!("{}…{}", &a[..8], &a[a.len() - 4..]),
        Some(a) => a.to_owned(),
        None => url.to_owned(),
    }
}

/// A UUID as Foundation's `UUID(uuidString:)` accepts it: 8-4-4-4-12
/// hexadecimal digits, either case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Reads the exposure under the data root `root` now. Never fails: what
/// cannot be read is named in [`Exposure::problems`] (or the tunnel's
/// problem). [`Exposure::active`] is false; the caller knows whether a
/// server runs.
pub fn read(root: &Path) -> Exposure {
    let layout = Layout::of(root);
    let agents = root.join(layout.agents);
    let (relay, server) = (load(&root.join(RELAY_FILE)), load(&root.join(layout.server)));
    decide_in(layout, &relay, &server, |id| load(&agents.join(format!("{id}.json"))))
}

/// Reads one file safely: a regular file, not through a symbolic link, not
/// blocking on a FIFO, at most [`MAX_FILE_BYTES`].
pub fn load(path: &Path) -> Loaded {
    let file = OpenOptions::new()
        .read(true)
        // O_NOFOLLOW: a symbolic link fails with ELOOP instead of being
        // followed. O_NONBLOCK: opening a FIFO cannot hang.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    match file {
        Ok(f) => read_regular(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded::Missing,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            Loaded::Unusable("is a symbolic link; only regular files are read".into())
        }
        Err(e) => match std::fs::symlink_metadata(path) {
            Ok(m) if !m.is_file() => Loaded::Unusable(format!("is {}, not a regular file", kind(&m))),
            _ => Loaded::Unusable(format!("cannot be opened: {}", io_reason(&e))),
        },
    }
}

fn read_regular(file: File) -> Loaded {
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Loaded::Unusable(format!("cannot be read: {}", io_reason(&e))),
    };
    if !meta.is_file() {
        return Loaded::Unusable(format!("is {}, not a regular file", kind(&meta)));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Loaded::Unusable(format!("is {} bytes, over the 1 MiB limit", meta.len()));
    }
    let mut bytes = Vec::new();
    match file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > MAX_FILE_BYTES => {
            Loaded::Unusable("grew over the 1 MiB limit while being read".into())
        }
        Ok(_) => Loaded::Bytes(bytes),
        Err(e) => Loaded::Unusable(format!("cannot be read: {}", io_reason(&e))),
    }
}

mod watch;
#[cfg(test)]
use watch::{matters, reshapes};
pub use watch::{watch, Watch};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    const ADDRESS: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const ID: &str = "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4";

    fn bytes(s: &str) -> Loaded {
        Loaded::Bytes(s.as_bytes().to_vec())
    }

    fn agent(name: &str, address: &str) -> Loaded {
        bytes(&format!(r#"{{"name": "{name}", "agentAddress": "{address}", "id": "{ID}"}}"#))
    }

    #[test]
    fn a_tunnelled_agent_has_its_name_and_public_url() {
        let relay = bytes(&format!(r#"{{"enabledAgents": {{"{ID}": true}}}}"#));
        let e =
            decide(&relay, &Loaded::Missing, |id| if id == ID { agent("Research", ADDRESS) } else { Loaded::Missing });
        assert_eq!(
            e.tunnels,
            [Tunnel {
                agent_id: ID.into(),
                name: Some("Research".into()),
                url: Some("https://0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed.agent.osaurus.ai".into()),
                problem: None,
            }]
        );
        assert!(!e.any_website && e.problems.is_empty() && !e.active);
    }

    #[test]
    fn only_true_values_for_uuid_keys_are_tunnels() {
        let lower = ID.to_lowercase();
        let relay = bytes(&format!(
            r#"{{"enabledAgents": {{"{lower}": true, "AAAAAAAA-0000-0000-0000-000000000000": false, "not-a-uuid": true}}}}"#
        ));
        let e = decide(&relay, &Loaded::Missing, |_| agent("A", ADDRESS));
        let ids: Vec<&str> = e.tunnels.iter().map(|t| t.agent_id.as_str()).collect();
        assert_eq!(ids, [ID], "a lower-case key names the upper-case file; false and non-UUIDs are ignored");
    }

    #[test]
    fn a_relay_file_osaurus_cannot_decode_is_no_tunnel_and_a_problem() {
        for (text, why) in [
            ("[]", "not a JSON object"),
            ("{}", "no enabledAgents"),
            (r#"{"enabledAgents": []}"#, "enabledAgents is not an object"),
            (&format!(r#"{{"enabledAgents": {{"{ID}": 1}}}}"#), "not true or false"),
            ("{", "not valid JSON"),
        ] {
            let e = decide(&bytes(text), &Loaded::Missing, |_| agent("A", ADDRESS));
            assert!(e.tunnels.is_empty(), "{text}");
            assert_eq!(e.problems.len(), 1, "{text}");
            assert!(e.problems[0].starts_with("config/relay.json: "), "{}", e.problems[0]);
            assert!(e.problems[0].contains(why), "{text}: {}", e.problems[0]);
        }
    }

    #[test]
    fn an_address_is_turned_into_a_url_only_when_well_formed() {
        for bad in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
            "0xevil.example.com/#5aAeb6053F3E94C9b9A0",
            "0x５aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
            "",
        ] {
            let t = tunnel(ID, &agent("A", bad));
            assert_eq!(t.url, None, "{bad}");
            assert!(t.problem.as_deref().unwrap().contains("no URL is made"), "{bad}: {:?}", t.problem);
            assert_eq!(t.name.as_deref(), Some("A"));
        }
    }

    #[test]
    fn an_agent_that_cannot_be_read_is_still_a_tunnel_with_a_reason() {
        let missing = tunnel(ID, &Loaded::Missing);
        assert_eq!(missing.problem.as_deref(), Some(format!("no agents/{ID}.json").as_str()));
        assert_eq!(missing.label(), "agent 5B0E7C1D");
        let fifo = tunnel(ID, &Loaded::Unusable("is a named pipe (FIFO), not a regular file".into()));
        assert!(fifo.problem.unwrap().ends_with("is a named pipe (FIFO), not a regular file"));
        let no_address = tunnel(ID, &bytes(r#"{"name": "Helper"}"#));
        assert_eq!((no_address.label(), &no_address.url), ("Helper".to_owned(), &None));
        assert!(no_address.problem.unwrap().contains("no public address yet"));
        let wrong = tunnel(ID, &bytes(r#"{"name": 7, "agentAddress": 7}"#));
        assert_eq!((wrong.name, wrong.url), (None, None));
        assert!(wrong.problem.unwrap().contains("not a string"));
        assert!(tunnel(ID, &bytes("[1]")).problem.unwrap().contains("not a JSON object"));
    }

    #[test]
    fn any_website_is_exactly_a_star_in_allowed_origins() {
        let e = |s: &str| decide(&Loaded::Missing, &bytes(s), |_| Loaded::Missing);
        assert!(e(r#"{"allowedOrigins": ["https://a.example", "*"], "port": 1337}"#).any_website);
        assert!(!e(r#"{"allowedOrigins": ["https://*.example"]}"#).any_website);
        assert!(!e(r#"{"allowedOrigins": []}"#).any_website);
        assert!(!e(r#"{"port": 1337}"#).any_website);
        let wrong = e(r#"{"allowedOrigins": "*"}"#);
        assert!(!wrong.any_website);
        assert_eq!(
            wrong.problems,
            ["config/server.json: allowedOrigins is not a list of strings; Osaurus reads it as its defaults"]
        );
        assert!(!decide(&Loaded::Missing, &Loaded::Missing, |_| Loaded::Missing).any());
    }

    #[test]
    fn an_unusable_file_is_a_problem_naming_it() {
        let why = Loaded::Unusable("is a symbolic link; only regular files are read".into());
        let e = decide(&why, &why, |_| Loaded::Missing);
        assert_eq!(
            e.problems,
            [
                "config/relay.json is a symbolic link; only regular files are read",
                "config/server.json is a symbolic link; only regular files are read"
            ]
        );
    }

    #[test]
    fn the_data_root_is_the_runtime_folders_parent() {
        let home = RuntimeDirs::resolve(None, Some("/home/u".into()));
        assert_eq!(data_root(&home), Some(PathBuf::from("/home/u/.osaurus")));
        assert_eq!(data_root(&RuntimeDirs::explicit("/tmp/x/runtime".into())), Some(PathBuf::from("/tmp/x")));
        assert_eq!(data_root(&RuntimeDirs::explicit("runtime".into())), Some(PathBuf::from(".")));
        assert_eq!(data_root(&RuntimeDirs::explicit("/".into())), None);
        assert_eq!(data_root(&RuntimeDirs::explicit(".".into())), Some(PathBuf::from("./..")));
        assert_eq!(data_root(&RuntimeDirs::explicit("/x/rt/A/..".into())), Some(PathBuf::from("/x/rt/A/../..")));
        assert_eq!(data_root(&RuntimeDirs::explicit("/x/rt/.".into())), Some(PathBuf::from("/x")));
    }

    #[test]
    fn only_events_on_the_settings_or_above_the_root_matter() {
        use notify::event::{AccessKind, CreateKind, EventKind};
        let root = Path::new("/tmp/x/.osaurus");
        let ev = |kind, p: &str| Ok(notify::Event::new(kind).add_path(p.into()));
        let create = EventKind::Create(CreateKind::File);
        assert!(matters(root, &ev(create, "/tmp/x/.osaurus/config/relay.json")));
        assert!(matters(root, &ev(create, "/tmp/x/.osaurus/agents")));
        assert!(matters(root, &ev(create, "/tmp/x/.osaurus")));
        assert!(matters(root, &ev(create, "/tmp/x")));
        assert!(!matters(root, &ev(create, "/tmp/x/.osaurus/sessions")));
        assert!(matters(root, &ev(create, "/tmp/x/.osaurus/ServerConfiguration.json")));
        assert!(matters(root, &ev(create, "/tmp/x/.osaurus/Personas/A.json")));
        assert!(reshapes(root, &ev(create, "/tmp/x/.osaurus/Personas")));
        assert!(!matters(root, &ev(create, "/tmp/other")));
        assert!(!matters(root, &ev(EventKind::Access(AccessKind::Any), "/tmp/x/.osaurus/config/relay.json")));
        assert!(matters(root, &Err(notify::Error::generic("overflow"))));
        assert!(reshapes(root, &ev(create, "/tmp/x/.osaurus/agents")));
        assert!(reshapes(root, &ev(create, "/tmp/x")));
        assert!(!reshapes(root, &ev(create, "/tmp/x/.osaurus/agents/A.json")));
        assert!(!reshapes(root, &ev(create, "/tmp/x/.osaurus/config/relay.json")));
    }

    #[test]
    fn legacy_names_are_read_only_where_osaurus_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join(RELAY_FILE), &format!(r#"{{"enabledAgents": {{"{ID}": true}}}}"#));
        write(&root.join(LEGACY_SERVER_FILE), r#"{"allowedOrigins": ["*"]}"#);
        write(&root.join(LEGACY_AGENTS_DIR).join(format!("{ID}.json")), r#"{"name": "Old"}"#);
        let old = read(root);
        assert!(old.any_website);
        assert_eq!(old.tunnels[0].name.as_deref(), Some("Old"));
        write(&root.join(SERVER_FILE), r#"{"allowedOrigins": "*"}"#);
        std::fs::create_dir(root.join(AGENTS_DIR)).unwrap();
        let new = read(root);
        assert!(!new.any_website, "the current file wins once it exists");
        assert!(new.problems[0].starts_with("config/server.json: "), "{:?}", new.problems);
        assert_eq!(new.tunnels[0].problem.as_deref(), Some(format!("no agents/{ID}.json").as_str()));
        std::fs::remove_file(root.join(SERVER_FILE)).unwrap();
        std::fs::write(root.join(LEGACY_SERVER_FILE), "[]").unwrap();
        assert!(read(root).problems[0].starts_with("ServerConfiguration.json: "), "a problem names the file read");
    }

    #[test]
    fn a_short_address_keeps_both_ends() {
        let url = public_url(ADDRESS).unwrap();
        assert_eq!(short_address(&url), "0x5aaeb6…eaed");
        assert_eq!(short_address("https://0x12.agent.osaurus.ai"), "0x12");
    }

    #[test]
    fn hostile_files_are_refused_with_a_reason_and_never_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("real"), b"{}").unwrap();
        std::os::unix::fs::symlink(p("real"), p("link")).unwrap();
        std::fs::write(p("huge"), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        std::fs::create_dir(p("folder")).unwrap();
        let fifo = std::ffi::CString::new(p("fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(load(&p("real")), Loaded::Bytes(b"{}".to_vec()));
        assert_eq!(load(&p("none")), Loaded::Missing);
        let why = |n: &str| match load(&p(n)) {
            Loaded::Unusable(why) => why,
            other => panic!("{n}: {other:?}"),
        };
        assert_eq!(why("link"), "is a symbolic link; only regular files are read");
        assert_eq!(why("huge"), format!("is {} bytes, over the 1 MiB limit", MAX_FILE_BYTES + 1));
        assert_eq!(why("folder"), "is a folder, not a regular file");
        assert_eq!(why("fifo"), "is a named pipe (FIFO), not a regular file");
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(tmp, path).unwrap();
    }

    #[test]
    fn the_watch_sees_the_folders_come_and_the_files_change() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join(".osaurus");
        let (tx, rx) = mpsc::channel();
        let _w = watch(root.clone(), false, move |e| {
            let _ = tx.send(e.clone());
        });
        let next = || rx.recv_timeout(Duration::from_secs(5)).expect("a reading within 5 s");
        assert!(!next().any(), "nothing there at first");
        write(&root.join(SERVER_FILE), r#"{"allowedOrigins": ["*"]}"#);
        assert!(next().any_website, "the root and config/ appeared and were followed");
        write(&root.join(AGENTS_DIR).join(format!("{ID}.json")), r#"{"name": "A"}"#);
        write(&root.join(RELAY_FILE), &format!(r#"{{"enabledAgents": {{"{ID}": true}}}}"#));
        let mut e = next();
        while e.tunnels.is_empty() {
            e = next();
        }
        assert_eq!(e.tunnels[0].url, None);
        write(
            &root.join(AGENTS_DIR).join(format!("{ID}.json")),
            &format!(r#"{{"name": "A", "agentAddress": "{ADDRESS}"}}"#),
        );
        assert!(next().tunnels[0].url.is_some(), "a change to an agent file is seen");
        std::fs::remove_file(root.join(RELAY_FILE)).unwrap();
        assert!(next().tunnels.is_empty());
        // config/ replaced by a new folder: its new files are seen too.
        std::fs::remove_dir_all(root.join("config")).unwrap();
        assert!(!next().any_website);
        write(&root.join(SERVER_FILE), r#"{"allowedOrigins": ["*"]}"#);
        assert!(next().any_website, "the new config/ is watched");
        write(&root.join(SERVER_FILE), r#"{"allowedOrigins": []}"#);
        assert!(!next().any_website, "and a change in it is seen");
    }
}
