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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use crate::control::{read_line_from, Message, DEMO_SOCKET};

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
    ports: Vec<u16>,
    fakes: Fakes,
    publisher: Option<JoinHandle<()>>,
    listener: Option<Listener>,
}

/// The fake Osaurus apps, each with its server (none once stopped).
type Fakes = Arc<Mutex<Vec<(Published, Option<FakeServer>)>>>;

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
        let mut fakes = Vec::new();
        for (n, expose) in [false, true].into_iter().enumerate() {
            let server = FakeServer::start(expose)?;
            fakes.push((Published { instance_id: fake_uuid(n as u64), port: server.port, expose }, Some(server)));
        }
        for (p, _) in &fakes {
            write_atomically(&runtime.join(&p.instance_id).join("configuration.json"), &starting_json(&p.instance_id))?;
        }
        let ports = fakes.iter().map(|(p, _)| p.port).collect();
        let fakes: Fakes = Arc::new(Mutex::new(fakes));
        let (base, published) = (runtime.clone(), fakes.clone());
        let publisher = std::thread::spawn(move || {
            std::thread::sleep(startup);
            // Only those still serving as they started: a message may have
            // come first.
            for (p, server) in lock(&published).iter().filter(|(_, s)| s.is_some()) {
                let path = base.join(&p.instance_id).join("configuration.json");
                if server.as_ref().is_some_and(|s| s.exposed == p.expose) {
                    if let Err(e) = write_atomically(&path, &running_json(p)) {
                        eprintln!("osaurus-tray demo: cannot publish {}: {e}", p.instance_id);
                    }
                }
            }
        });
        // Without its socket (a path too long for one) the demo still shows
        // everything; only the actions cannot reach it.
        let socket = dir.path().join(DEMO_SOCKET);
        let listener = Listener::start(&socket, runtime.clone(), fakes.clone())
            .inspect_err(|e| eprintln!("osaurus-tray demo: cannot take control messages at {}: {e}", socket.display()))
            .ok();
        Ok(Demo { dir, runtime, ports, fakes, publisher: Some(publisher), listener })
    }

    /// Obeys a control message as every Osaurus app does: `serve` restarts
    /// the fake on that port local only, through `restarting`, `starting`
    /// and `running`, its port closed for a moment in between (the other
    /// fake, local on a port of its own, is left as it is: a second real
    /// Osaurus would move to that port too); `stop` stops them all and
    /// removes their folders; `ui` says that Osaurus's window would open.
    pub fn obey(&self, message: Message) {
        obey(&self.runtime, &self.fakes, message);
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
        self.ports.clone()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        drop(self.listener.take());
        if let Some(p) = self.publisher.take() {
            let _ = p.join();
        }
        // Servers stop and join on drop; the TempDir removes the folder after.
        lock(&self.fakes).clear();
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

fn restarting_json(id: &str) -> String {
    foundation(&json!({ "instanceId": id, "updatedAt": now(), "health": "restarting" }))
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long the demo's restart keeps each step, as Osaurus's takes a moment.
const STEP: Duration = Duration::from_millis(300);

fn obey(runtime: &Path, fakes: &Mutex<Vec<(Published, Option<FakeServer>)>>, message: Message) {
    let mut fakes = lock(fakes);
    let file = |p: &Published| runtime.join(&p.instance_id).join("configuration.json");
    let report = |what: &str, p: &Published, r: io::Result<()>| {
        if let Err(e) = r {
            eprintln!("osaurus-tray demo: cannot {what} {}: {e}", p.instance_id);
        }
    };
    match message {
        Message::Serve { port } => {
            for (p, server) in fakes.iter_mut().filter(|(p, s)| p.port == port && s.is_some()) {
                report("write", p, write_atomically(&file(p), &restarting_json(&p.instance_id)));
                *server = None; // the port closes for a moment
                std::thread::sleep(STEP);
                report("write", p, write_atomically(&file(p), &starting_json(&p.instance_id)));
                *server = rebind(port);
                std::thread::sleep(STEP);
                p.expose = false;
                if server.is_some() {
                    report("write", p, write_atomically(&file(p), &running_json(p)));
                } else {
                    report("remove", p, fs::remove_dir_all(runtime.join(&p.instance_id)));
                }
            }
        }
        Message::Stop => {
            for (p, server) in fakes.iter_mut().filter(|(_, s)| s.is_some()) {
                *server = None;
                report("remove", p, fs::remove_dir_all(runtime.join(&p.instance_id)));
            }
        }
        Message::Ui => eprintln!("osaurus-tray demo: Osaurus would show its window now"),
    }
}

/// The fake server again on `port`, local only; a port another program
/// took meanwhile is given up after a second (the server is then stopped).
fn rebind(port: u16) -> Option<FakeServer> {
    for _ in 0..20 {
        match FakeServer::on(port, false) {
            Ok(s) => return Some(s),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    eprintln!("osaurus-tray demo: port {port} is taken; the server stopped");
    None
}

/// The demo's fake Osaurus listening for control messages on its socket.
struct Listener {
    path: PathBuf,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    #[cfg(unix)]
    fn start(path: &Path, runtime: PathBuf, fakes: Fakes) -> io::Result<Listener> {
        let socket = std::os::unix::net::UnixListener::bind(path)?;
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            for conn in socket.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                match read_line_from(conn) {
                    Some(message) => obey(&runtime, &fakes, message),
                    None => eprintln!("osaurus-tray demo: a control message was not understood and is ignored"),
                }
            }
        });
        Ok(Listener { path: path.to_path_buf(), done, thread: Some(thread) })
    }

    #[cfg(not(unix))]
    fn start(path: &Path, _: PathBuf, _: Fakes) -> io::Result<Listener> {
        Ok(Listener { path: path.to_path_buf(), done: Arc::new(AtomicBool::new(true)), thread: None })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        // Wakes the accepting thread, which then sees `done`.
        #[cfg(unix)]
        let _ = std::os::unix::net::UnixStream::connect(&self.path);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP server on 127.0.0.1 that answers like Osaurus. Its thread blocks
/// on the socket (no polling) and is woken by `unblock` when dropped.
struct FakeServer {
    port: u16,
    exposed: bool,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(exposed: bool) -> io::Result<FakeServer> {
        FakeServer::on(0, exposed)
    }

    /// A server on 127.0.0.1:`port` (0: any free port).
    fn on(port: u16, exposed: bool) -> io::Result<FakeServer> {
        let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).map_err(io::Error::other)?);
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
        Ok(FakeServer { port, exposed, server, thread: Some(thread) })
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

    fn health(port: u16) -> bool {
        use std::io::{Read, Write};
        let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
        let _ = c.write_all(b"GET /health HTTP/1.0\r\n\r\n");
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
    }

    fn read_back(demo: &Demo, n: usize) -> crate::discovery::Instance {
        let ids: Vec<String> = lock(&demo.fakes).iter().map(|(p, _)| p.instance_id.clone()).collect();
        crate::control::observe(&demo.runtime_dir().join(&ids[n])).expect("the folder is there")
    }

    #[test]
    #[cfg(unix)]
    fn the_fake_osaurus_obeys_the_control_messages_from_its_socket() {
        let demo = Demo::start(Duration::ZERO).unwrap();
        let exposed = demo.ports()[1];
        let socket = demo.data_root().join(DEMO_SOCKET);
        let dirs = crate::discovery::RuntimeDirs::explicit(demo.runtime_dir().to_path_buf());
        assert_eq!(crate::control::route(&dirs), crate::control::Route::Demo(socket.clone()));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while read_back(&demo, 1).state != crate::discovery::State::Running {
            assert!(std::time::Instant::now() < deadline, "never published");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(read_back(&demo, 1).exposed);
        // Make Local Only: restarted on the same port, local only, written as Osaurus writes it.
        let request = crate::control::Request::local_only(&read_back(&demo, 1)).unwrap();
        crate::control::send_to_demo(&socket, request.message()).unwrap();
        let said = crate::control::wait(&request, Duration::from_secs(5)).unwrap();
        assert!(said.contains("local only now"), "{said}");
        let now = read_back(&demo, 1);
        assert_eq!(
            (now.port, now.address.as_deref(), now.expose_to_network),
            (Some(exposed), Some("127.0.0.1"), Some(false))
        );
        assert!(health(exposed), "the restarted server answers on its port");
        assert!(!now.exposed);
        assert_eq!(read_back(&demo, 0).port, Some(demo.ports()[0]), "the other is left as it is");
        // Stop: every fake stops and its folder goes.
        let stop = crate::control::Request::stop(&read_back(&demo, 0));
        crate::control::send_to_demo(&socket, Message::Stop).unwrap();
        assert_eq!(
            crate::control::wait(&stop, Duration::from_secs(5)).unwrap(),
            format!("Osaurus on port {} stopped.", demo.ports()[0])
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while fs::read_dir(demo.runtime_dir()).unwrap().next().is_some() {
            assert!(std::time::Instant::now() < deadline, "a folder is left");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!health(exposed), "stopped");
        let root = demo.data_root().to_path_buf();
        drop(demo);
        assert!(!root.exists(), "the demo leaves nothing behind");
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
