//! A real-looking Osaurus without Osaurus: fake servers on 127.0.0.1 that
//! answer as Osaurus does, published in a temporary runtime folder the way
//! Osaurus publishes them. The runtime folder sits in a temporary folder laid
//! out like `~/.osaurus`, which also holds an agent tunnelled through the
//! relay and CORS open to any website, written as Osaurus writes them, so
//! that every warning shows. Everything is removed when the [`Demo`] is
//! dropped.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::json;

/// The model ids the fake servers list.
pub const MODELS: [&str; 2] = ["llama-3.2-3b-instruct-4bit", "qwen2.5-7b-instruct-4bit"];

/// The demo's agent tunnelled through the relay: its name and address.
pub const AGENT_NAME: &str = "Researcher";
/// The demo agent's address (checksummed, as Osaurus writes it).
pub const AGENT_ADDRESS: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/// A running demo: its data root, runtime folder and servers.
pub struct Demo {
    dir: tempfile::TempDir,
    runtime: PathBuf,
    servers: Vec<FakeServer>,
    publisher: Option<JoinHandle<()>>,
}

/// One fake Osaurus server as published.
#[derive(Debug, Clone)]
pub struct Published {
    /// The instance id (an upper-case UUID, like Osaurus's).
    pub instance_id: String,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// Whether the file says `exposeToNetwork: true`.
    pub expose: bool,
}

impl Demo {
    /// Starts two servers, one claiming to be exposed to the LAN (while bound
    /// to 127.0.0.1 only), and publishes them: `starting` at once, `running`
    /// after `startup`.
    pub fn start(startup: Duration) -> io::Result<Demo> {
        let dir = tempfile::Builder::new().prefix("osaurus-tray-demo-").tempdir()?;
        write_settings(dir.path(), &fake_uuid(7))?;
        let runtime = dir.path().join("runtime");
        let mut servers = Vec::new();
        let mut published = Vec::new();
        for (n, expose) in [false, true].into_iter().enumerate() {
            let server = FakeServer::start(expose)?;
            published.push(Published { instance_id: fake_uuid(n as u64), port: server.port, expose });
            servers.push(server);
        }
        for p in &published {
            write_atomically(&runtime.join(&p.instance_id).join("configuration.json"), &starting_json(&p.instance_id))?;
        }
        let base = runtime.clone();
        let publisher = std::thread::spawn(move || {
            std::thread::sleep(startup);
            for p in &published {
                if let Err(e) =
                    write_atomically(&base.join(&p.instance_id).join("configuration.json"), &running_json(p))
                {
                    eprintln!("osaurus-tray demo: cannot publish {}: {e}", p.instance_id);
                }
            }
        });
        Ok(Demo { dir, runtime, servers, publisher: Some(publisher) })
    }

    /// The temporary runtime folder, `runtime` in [`Demo::data_root`].
    pub fn runtime_dir(&self) -> &Path {
        &self.runtime
    }

    /// The temporary folder laid out like `~/.osaurus`.
    pub fn data_root(&self) -> &Path {
        self.dir.path()
    }

    /// The servers' ports, in order: the first is local, the second "exposed".
    pub fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|s| s.port).collect()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(p) = self.publisher.take() {
            let _ = p.join();
        }
        // Servers stop and join on drop; the TempDir removes the folder after.
        self.servers.clear();
    }
}

fn fake_uuid(n: u64) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
    let seed = nanos ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let hex = format!("{:016X}{:016X}", seed, seed.rotate_left(29) ^ 0xA5A5_5A5A_DEAD_BEEF);
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn starting_json(id: &str) -> String {
    foundation(&json!({ "instanceId": id, "updatedAt": now(), "health": "starting" }))
}

fn running_json(p: &Published) -> String {
    let url = format!("http://127.0.0.1:{}", p.port);
    foundation(&json!({
        "instanceId": p.instance_id,
        "updatedAt": now(),
        "port": p.port,
        "address": "127.0.0.1",
        "url": url,
        "exposeToNetwork": p.expose,
        "health": "running",
    }))
}

/// Osaurus's settings in the data root `root`: the agent `agent_id`
/// tunnelled through the relay (`config/relay.json`, `agents/<id>.json`) and
/// `allowedOrigins: ["*"]` (`config/server.json`), as JSONEncoder writes
/// them (pretty, sorted keys, dates in ISO 8601).
pub fn write_settings(root: &Path, agent_id: &str) -> io::Result<()> {
    write_atomically(&root.join("config/relay.json"), &foundation(&json!({ "enabledAgents": { agent_id: true } })))?;
    let agent = json!({
        "agentAddress": AGENT_ADDRESS,
        "agentIndex": 0,
        "createdAt": now(),
        "description": "Reads papers and/or notes",
        "id": agent_id,
        "isBuiltIn": false,
        "name": AGENT_NAME,
        "systemPrompt": "",
        "updatedAt": now(),
    });
    write_atomically(&root.join(format!("agents/{agent_id}.json")), &foundation(&agent))?;
    let server = json!({
        "allowedOrigins": ["*"],
        "appearanceMode": "system",
        "backlog": 256,
        "exposeToNetwork": false,
        "genKVGroupSize": 64,
        "genQuantizedKVStart": 0,
        "genTopP": 1,
        "hideDockIcon": false,
        "modelEvictionPolicy": "Strict (One Model)",
        "numberOfThreads": 8,
        "port": 1337,
        "startAtLogin": false,
    });
    write_atomically(&root.join("config/server.json"), &foundation(&server))
}

/// Foundation's JSON writer style: pretty, sorted keys, `"key" : value`, `\/`.
fn foundation(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("json").replace("\": ", "\" : ").replace('/', "\\/")
}

/// Writes `path` as Foundation's atomic write does: a temporary
/// `.dat.nosync<pid-hex>.<random>` beside it, then a rename.
fn write_atomically(path: &Path, body: &str) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("no folder"))?;
    fs::create_dir_all(dir)?;
    let random = Utc::now().timestamp_subsec_nanos() & 0xFF_FFFF;
    let tmp: PathBuf = dir.join(format!(".dat.nosync{:x}.{random:06X}", std::process::id()));
    fs::write(&tmp, body)?;
    fs::rename(&tmp, path)
}

/// An HTTP server on 127.0.0.1 that answers like Osaurus. Its thread blocks
/// on the socket (no polling) and is woken by `unblock` when dropped.
struct FakeServer {
    port: u16,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(exposed: bool) -> io::Result<FakeServer> {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?);
        let port = server.server_addr().to_ip().map(|a| a.port()).ok_or_else(|| io::Error::other("no port"))?;
        let serving = server.clone();
        let thread = std::thread::spawn(move || {
            // `incoming_requests` ends when the server is unblocked.
            for req in serving.incoming_requests() {
                let authorized = req.headers().iter().any(|h| h.field.equiv("Authorization"));
                let (status, body, kind) = respond(req.method(), req.url(), exposed, authorized);
                let header = tiny_http::Header::from_bytes("Content-Type", kind).expect("static header");
                let _ =
                    req.respond(tiny_http::Response::from_string(body).with_status_code(status).with_header(header));
            }
        });
        Ok(FakeServer { port, server, thread: Some(thread) })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Osaurus's answers: `/health` always; everything else needs a key when
/// exposed; paths work with or without the `/v1` or `/api` prefix.
pub fn respond(method: &tiny_http::Method, url: &str, exposed: bool, authorized: bool) -> (u16, String, &'static str) {
    const JSON: &str = "application/json";
    let path = url.split('?').next().unwrap_or("/");
    let path = path.strip_prefix("/v1").or_else(|| path.strip_prefix("/api")).unwrap_or(path);
    let path = if path.is_empty() { "/" } else { path };
    if *method == tiny_http::Method::Head {
        return (204, String::new(), "text/plain");
    }
    if path == "/health" {
        return (200, json!({"status": "healthy", "timestamp": now()}).to_string(), JSON);
    }
    if path == "/" {
        return (200, "Osaurus Server is running! 🦕".into(), "text/plain; charset=utf-8");
    }
    if exposed && !authorized {
        return (
            401,
            json!({"error": {"message": "Missing or invalid access key", "type": "unauthorized"}}).to_string(),
            JSON,
        );
    }
    match path {
        "/models" => {
            let data: Vec<_> = MODELS
                .iter()
                .map(|id| json!({"id": id, "object": "model", "created": 1_725_000_000, "owned_by": "osaurus"}))
                .collect();
            (200, json!({"object": "list", "data": data}).to_string(), JSON)
        }
        "/tags" => {
            let models: Vec<_> = MODELS.iter().map(|id| json!({"name": id, "model": id})).collect();
            (200, json!({"models": models}).to_string(), JSON)
        }
        _ => (404, json!({"error": {"message": "Not found"}}).to_string(), JSON),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiny_http::Method;

    #[test]
    fn files_are_written_byte_for_byte_as_osaurus_writes_them() {
        let v = json!({
            "instanceId": "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4",
            "updatedAt": "2025-09-08T12:35:12Z",
            "port": 1337,
            "address": "127.0.0.1",
            "url": "http://127.0.0.1:1337",
            "exposeToNetwork": false,
            "health": "running",
        });
        let expected = "{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \"instanceId\" : \"5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4\",\n  \"port\" : 1337,\n  \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:1337\"\n}";
        assert_eq!(foundation(&v), expected);
        let dir = tempfile::tempdir().unwrap();
        write_atomically(&dir.path().join("configuration.json"), expected).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("configuration.json")).unwrap(), expected);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["configuration.json"], "the temporary file was renamed into place");
    }

    #[test]
    fn health_needs_no_key_even_when_exposed() {
        for p in ["/health", "/v1/health", "/api/health"] {
            assert_eq!(respond(&Method::Get, p, true, false).0, 200, "{p}");
        }
    }

    #[test]
    fn models_need_a_key_only_when_exposed() {
        let (status, body, _) = respond(&Method::Get, "/v1/models", false, false);
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["data"][0]["owned_by"], "osaurus");
        assert_eq!(respond(&Method::Get, "/v1/models", true, false).0, 401);
        assert_eq!(respond(&Method::Get, "/models", true, true).0, 200);
    }

    #[test]
    fn head_is_204_and_unknown_is_404() {
        assert_eq!(respond(&Method::Head, "/v1/models", true, false).0, 204);
        assert_eq!(respond(&Method::Get, "/nope", false, false).0, 404);
    }

    #[test]
    fn fake_ids_look_like_osaurus_ids() {
        let id = fake_uuid(1);
        assert_eq!(id.len(), 36);
        assert_eq!(id, id.to_uppercase());
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(fake_uuid(1), fake_uuid(2));
    }
}
