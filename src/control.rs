//! Telling Osaurus what to do: the local control messages it obeys, and
//! knowing whether it did.
//!
//! Osaurus listens for three distributed notifications (AppDelegate.swift,
//! `setupControlNotifications`; its own CLI, `osaurus serve|stop|ui`, posts
//! exactly these): `…control.serve` with `port` and no `expose` restarts the
//! server local only on that port and saves that; `…control.stop` stops it;
//! `…control.ui` shows its window. They reach every Osaurus app of the user.
//! Nothing here ever asks for exposure: exposing stays a deliberate act
//! inside Osaurus.
//!
//! Whether a message took is read from the runtime folder, as everything
//! else is: [`verdict`] is the rule, a plain function. Where the message
//! goes is [`route`]: to Osaurus (macOS, posted by the app executable, see
//! `src/app/tray/platform.rs`), or to the demo's fake Osaurus through the
//! socket it keeps in its data root ([`DEMO_SOCKET`]), on every platform.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::discovery::config::is_loopback;
use crate::discovery::read::read_instance;
use crate::discovery::{Instance, RuntimeDirs, State};

/// Restart the server (local only when `expose` is absent) on `port`.
pub const SERVE: &str = "com.dinoki.osaurus.control.serve";
/// Stop the server.
pub const STOP: &str = "com.dinoki.osaurus.control.stop";
/// Show Osaurus's window.
pub const UI: &str = "com.dinoki.osaurus.control.ui";

/// How long the menu waits for a message to show in the runtime folder.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(15);

/// The socket the demo's fake Osaurus listens on, in its data root (the
/// runtime folder's parent). Only a runtime folder named on the command
/// line is looked at for one: the default folders always mean Osaurus.
pub const DEMO_SOCKET: &str = "osaurus-tray-demo.sock";

/// One control message, as Osaurus reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// `…control.serve` with `port` and no `expose`: local only on `port`.
    Serve {
        /// The port to serve on (the instance's own: it stays where it is).
        port: u16,
    },
    /// `…control.stop`.
    Stop,
    /// `…control.ui`.
    Ui,
}

impl Message {
    /// The notification's name.
    pub fn name(self) -> &'static str {
        match self {
            Message::Serve { .. } => SERVE,
            Message::Stop => STOP,
            Message::Ui => UI,
        }
    }

    /// The notification's userInfo: `port` as an integer for `serve` (Osaurus
    /// takes an Int or a String), nothing else; never `expose`.
    pub fn user_info(self) -> Vec<(&'static str, i64)> {
        match self {
            Message::Serve { port } => vec![("port", i64::from(port))],
            Message::Stop | Message::Ui => Vec::new(),
        }
    }

    /// The message as one JSON line: `{"name": …, "userInfo": {…}}`, what
    /// the demo's socket takes.
    pub fn to_line(self) -> String {
        let info: serde_json::Map<String, serde_json::Value> =
            self.user_info().into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        format!("{}\n", serde_json::json!({ "name": self.name(), "userInfo": info }))
    }

    /// Reads a message as Osaurus would: a known name; for `serve`, `port`
    /// as an integer or a string of one, within 1 to 65535, and `expose`
    /// absent or false. `None` for anything else, which is then ignored
    /// (a `serve` without a port, or asking for exposure, is not obeyed).
    pub fn from_line(line: &str) -> Option<Message> {
        let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
        let info = v.get("userInfo");
        match v.get("name")?.as_str()? {
            SERVE => {
                let port = match info?.get("port")? {
                    serde_json::Value::Number(n) => n.as_u64()?,
                    serde_json::Value::String(s) => s.trim().parse().ok()?,
                    _ => return None,
                };
                let expose = info?.get("expose").is_some_and(|e| e != &serde_json::Value::Bool(false));
                let port = u16::try_from(port).ok().filter(|p| *p > 0)?;
                (!expose).then_some(Message::Serve { port })
            }
            STOP => Some(Message::Stop),
            UI => Some(Message::Ui),
            _ => None,
        }
    }
}

/// What the user asked of one instance; its effect shows in its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Restart the instance in `dir` local only, on its `port`.
    LocalOnly {
        /// The instance folder.
        dir: PathBuf,
        /// Its port.
        port: u16,
    },
    /// Stop the instance in `dir`.
    Stop {
        /// The instance folder.
        dir: PathBuf,
        /// Its port, to name it.
        port: Option<u16>,
    },
}

impl Request {
    /// Make the running instance `i` local only; `None` when it has no port.
    pub fn local_only(i: &Instance) -> Option<Request> {
        Some(Request::LocalOnly { dir: i.dir.clone(), port: i.port? })
    }

    /// Stop the instance `i`.
    pub fn stop(i: &Instance) -> Request {
        Request::Stop { dir: i.dir.clone(), port: i.port }
    }

    /// The message that asks for it.
    pub fn message(&self) -> Message {
        match self {
            Request::LocalOnly { port, .. } => Message::Serve { port: *port },
            Request::Stop { .. } => Message::Stop,
        }
    }

    /// The instance folder whose change confirms it.
    pub fn dir(&self) -> &Path {
        match self {
            Request::LocalOnly { dir, .. } | Request::Stop { dir, .. } => dir,
        }
    }

    /// The instance as a person knows it: "Osaurus on port 1338".
    fn subject(&self) -> String {
        match self {
            Request::LocalOnly { port, .. } | Request::Stop { port: Some(port), .. } => {
                format!("Osaurus on port {port}")
            }
            Request::Stop { port: None, .. } => "Osaurus".into(),
        }
    }
}

/// Whether `request` took, from what its folder holds now (`None`: the
/// folder is gone): `Some` with the sentence that says so, `None` while
/// waiting. Local only is the file rewritten running with
/// `exposeToNetwork: false` and a loopback address; a stop is the folder
/// gone. A folder gone after "local only" is not exposed either (the
/// server stopped instead), and is said so.
pub fn verdict(request: &Request, now: Option<&Instance>) -> Option<String> {
    let subject = request.subject();
    match (request, now) {
        (Request::LocalOnly { .. }, None) => Some(format!("{subject} stopped; it is no longer exposed.")),
        (Request::Stop { .. }, None) => Some(format!("{subject} stopped.")),
        (Request::LocalOnly { .. }, Some(i)) => {
            let local = i.state == State::Running
                && i.expose_to_network == Some(false)
                && i.address.as_deref().is_some_and(is_loopback);
            local.then(|| format!("{subject} is local only now: other machines cannot reach it."))
        }
        (Request::Stop { .. }, Some(_)) => None,
    }
}

/// The one sentence said when nothing changed within `waited`.
pub fn timed_out(request: &Request, waited: Duration) -> String {
    let what = match request {
        Request::LocalOnly { .. } => "did not restart local only",
        Request::Stop { .. } => "did not stop",
    };
    format!(
        "{} {what} within {}: this Osaurus may be too old to take control messages, or stuck; change it in Osaurus.",
        request.subject(),
        seconds(waited)
    )
}

/// The same, short enough for the menu's notice row, which Open Osaurus
/// follows.
pub fn unconfirmed_notice(request: &Request, waited: Duration) -> String {
    format!("{} did not change within {}; use Open Osaurus", request.subject(), seconds(waited))
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What the instance folder `dir` holds now: `None` when it is gone.
pub fn observe(dir: &Path) -> Option<Instance> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        _ => {
            let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Some(read_instance(dir, id))
        }
    }
}

/// Watches `request`'s folder until [`verdict`] confirms it (its sentence)
/// or `timeout` passes (the [`timed_out`] sentence).
pub fn wait(request: &Request, timeout: Duration) -> Result<String, String> {
    let start = Instant::now();
    loop {
        if let Some(done) = verdict(request, observe(request.dir()).as_ref()) {
            return Ok(done);
        }
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(timed_out(request, timeout));
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Where the messages for `dirs` go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the Osaurus apps of this user (macOS).
    Osaurus,
    /// To the demo's fake Osaurus, through this socket.
    Demo(PathBuf),
}

/// Where the messages for `dirs` go: to the demo when the one runtime
/// folder named on the command line sits beside a demo's socket, else to
/// Osaurus.
pub fn route(dirs: &RuntimeDirs) -> Route {
    let [dir] = &dirs.bases[..] else { return Route::Osaurus };
    let socket = dir.parent().map(|p| p.join(DEMO_SOCKET));
    match socket {
        Some(s) if dirs.explicit && is_socket(&s) => Route::Demo(s),
        _ => Route::Osaurus,
    }
}

#[cfg(unix)]
fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[cfg(not(unix))]
fn is_socket(_: &Path) -> bool {
    false
}

/// Sends `message` to the demo listening on `socket`, as one line; waits at
/// most 2 s for it to be taken.
#[cfg(unix)]
pub fn send_to_demo(socket: &Path, message: Message) -> Result<(), String> {
    let fail = |e: io::Error| format!("Could not reach the demo's Osaurus: {e}");
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(fail)?;
    stream.set_write_timeout(Some(Duration::from_secs(2))).map_err(fail)?;
    stream.write_all(message.to_line().as_bytes()).map_err(fail)
}

/// The demo's socket is a Unix one.
#[cfg(not(unix))]
pub fn send_to_demo(_: &Path, _: Message) -> Result<(), String> {
    Err("The demo's Osaurus takes messages on Unix only.".into())
}

/// Reads the one line a connection to the demo's socket sends (at most
/// 4 KiB, 2 s), as [`Message::from_line`] reads it.
pub fn read_line_from(mut conn: impl Read) -> Option<Message> {
    let mut buf = Vec::new();
    conn.by_ref().take(4096).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8(buf).ok()?;
    Message::from_line(text.lines().next()?)
}

/// Why these commands cannot run here, in one sentence: no Osaurus outside
/// macOS (the demo's excepted).
pub const NO_OSAURUS_HERE: &str =
    "Osaurus runs only on macOS: there is no Osaurus here to control (a runtime folder of `osaurus-tray demo` can be).";

#[cfg(test)]
mod tests {
    use super::*;

    fn running(expose: Option<bool>, address: &str) -> Instance {
        let mut i = Instance::invalid("A".into(), "/rt/A".into(), "");
        i.state = State::Running;
        i.problem = None;
        i.port = Some(1338);
        i.address = Some(address.into());
        i.expose_to_network = expose;
        i
    }

    const LOCAL: fn() -> Request = || Request::LocalOnly { dir: "/rt/A".into(), port: 1338 };
    const STOP_A: fn() -> Request = || Request::Stop { dir: "/rt/A".into(), port: Some(1338) };

    #[test]
    fn the_three_messages_are_named_and_filled_as_osaurus_reads_them() {
        assert_eq!(Message::Serve { port: 1338 }.name(), "com.dinoki.osaurus.control.serve");
        assert_eq!(Message::Serve { port: 1338 }.user_info(), [("port", 1338)]);
        assert_eq!(Message::Stop.name(), "com.dinoki.osaurus.control.stop");
        assert_eq!(Message::Ui.name(), "com.dinoki.osaurus.control.ui");
        assert!(Message::Stop.user_info().is_empty() && Message::Ui.user_info().is_empty());
        assert_eq!(LOCAL().message(), Message::Serve { port: 1338 });
        assert_eq!(STOP_A().message(), Message::Stop);
    }

    #[test]
    fn nothing_asks_for_exposure() {
        for m in [Message::Serve { port: 1 }, Message::Stop, Message::Ui] {
            assert!(!m.to_line().contains("expose"), "{}", m.to_line());
            assert!(m.user_info().iter().all(|(k, _)| *k != "expose"));
        }
    }

    #[test]
    fn a_line_reads_back_as_its_message_and_anything_else_is_ignored() {
        for m in [Message::Serve { port: 1338 }, Message::Stop, Message::Ui] {
            assert_eq!(Message::from_line(&m.to_line()), Some(m));
        }
        let serve = |info: &str| Message::from_line(&format!("{{\"name\":\"{SERVE}\",\"userInfo\":{info}}}"));
        assert_eq!(serve(r#"{"port":"1338"}"#), Some(Message::Serve { port: 1338 }), "a port as a string");
        assert_eq!(serve(r#"{"port":1338,"expose":false}"#), Some(Message::Serve { port: 1338 }));
        for bad in [r#"{"port":1338,"expose":true}"#, r#"{"port":0}"#, r#"{"port":70000}"#, r#"{}"#, r#"{"port":[]}"#] {
            assert_eq!(serve(bad), None, "{bad}");
        }
        for bad in ["", "null", "{\"name\":\"com.dinoki.osaurus.control.toolsReload\"}", "\u{0}"] {
            assert_eq!(Message::from_line(bad), None, "{bad:?}");
        }
        assert_eq!(read_line_from(&b"{\"name\":\"com.dinoki.osaurus.control.stop\"}\nrest"[..]), Some(Message::Stop));
    }

    #[test]
    fn local_only_is_confirmed_by_the_file_rewritten_local_or_the_folder_gone() {
        assert_eq!(verdict(&LOCAL(), Some(&running(Some(true), "127.0.0.1"))), None, "still exposed");
        assert_eq!(verdict(&LOCAL(), Some(&running(Some(false), "192.168.1.23"))), None, "a LAN address");
        assert_eq!(verdict(&LOCAL(), Some(&running(None, "127.0.0.1"))), None, "not rewritten: no flag");
        let mut restarting = running(Some(false), "127.0.0.1");
        restarting.state = State::Restarting;
        assert_eq!(verdict(&LOCAL(), Some(&restarting)), None, "not running yet");
        let done = verdict(&LOCAL(), Some(&running(Some(false), "127.0.0.1"))).unwrap();
        assert_eq!(done, "Osaurus on port 1338 is local only now: other machines cannot reach it.");
        assert!(verdict(&LOCAL(), Some(&running(Some(false), "::1"))).is_some());
        assert_eq!(verdict(&LOCAL(), None).unwrap(), "Osaurus on port 1338 stopped; it is no longer exposed.");
    }

    #[test]
    fn a_stop_is_confirmed_by_the_folder_gone_only() {
        assert_eq!(verdict(&STOP_A(), Some(&running(Some(false), "127.0.0.1"))), None);
        assert_eq!(verdict(&STOP_A(), None).unwrap(), "Osaurus on port 1338 stopped.");
    }

    #[test]
    fn nothing_changing_is_one_sentence_with_the_time_waited() {
        let s = timed_out(&LOCAL(), Duration::from_secs(15));
        assert_eq!(
            s,
            "Osaurus on port 1338 did not restart local only within 15 s: this Osaurus may be too old to take \
             control messages, or stuck; change it in Osaurus."
        );
        assert_eq!(s.matches(". ").count(), 0, "one sentence");
        let notice = unconfirmed_notice(&LOCAL(), Duration::from_secs(15));
        assert_eq!(notice, "Osaurus on port 1338 did not change within 15 s; use Open Osaurus");
        assert!(format!("⚠ {notice}").chars().count() <= crate::menu_model::MAX_LABEL);
        assert!(timed_out(&STOP_A(), Duration::from_millis(1500))
            .starts_with("Osaurus on port 1338 did not stop within 1.5 s:"));
    }

    #[test]
    #[cfg(unix)]
    fn only_a_named_folder_beside_a_demo_socket_routes_to_the_demo() {
        let root = tempfile::tempdir().unwrap();
        let runtime = root.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        let explicit = RuntimeDirs::explicit(runtime.clone());
        assert_eq!(route(&explicit), Route::Osaurus, "no socket");
        std::fs::write(root.path().join(DEMO_SOCKET), "").unwrap();
        assert_eq!(route(&explicit), Route::Osaurus, "a plain file is not a socket");
        std::fs::remove_file(root.path().join(DEMO_SOCKET)).unwrap();
        let listener = std::os::unix::net::UnixListener::bind(root.path().join(DEMO_SOCKET)).unwrap();
        assert_eq!(route(&explicit), Route::Demo(root.path().join(DEMO_SOCKET)));
        let home = RuntimeDirs::resolve(None, Some(root.path().parent().unwrap().to_path_buf()));
        assert_eq!(route(&home), Route::Osaurus, "the default folders are Osaurus's");
        send_to_demo(&root.path().join(DEMO_SOCKET), Message::Serve { port: 7 }).unwrap();
        let (conn, _) = listener.accept().unwrap();
        assert_eq!(read_line_from(conn), Some(Message::Serve { port: 7 }));
    }

    #[test]
    fn waiting_ends_with_the_change_or_with_the_sentence() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("A");
        std::fs::create_dir(&dir).unwrap();
        let request = Request::Stop { dir: dir.clone(), port: Some(1338) };
        let t = Instant::now();
        assert_eq!(wait(&request, Duration::from_millis(300)), Err(timed_out(&request, Duration::from_millis(300))));
        assert!(t.elapsed() >= Duration::from_millis(300));
        let remover = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            std::fs::remove_dir(&dir).unwrap();
        });
        assert_eq!(wait(&request, Duration::from_secs(10)).unwrap(), "Osaurus on port 1338 stopped.");
        remover.join().unwrap();
    }
}
