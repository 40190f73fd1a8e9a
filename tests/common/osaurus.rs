//! A test server that answers as Osaurus's does (read from its source,
//! 0.2 to 0.14): `Content-Length` and `Connection: close` on every answer,
//! paths with or without the `/v1` or `/api` prefix, `HEAD` answered 204,
//! `/health` without a key ever, and `/v1/models` behind the access-key rule
//! of the version it plays. It records every request it gets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// When `/v1/models` wants a key, by Osaurus version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRule {
    /// Before 0.12.5: never.
    Never,
    /// 0.12.5 to 0.13.5: always, even from loopback.
    Always,
    /// 0.13.6 to 0.14.16: except from loopback.
    NotFromLoopback,
    /// 0.14.17 on: except from loopback while the server is not exposed.
    LoopbackWhileNotExposed,
}

/// One request the server got.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The address the client connected from.
    pub peer: IpAddr,
    /// The address the client connected to.
    pub local: IpAddr,
    pub authorization: Option<String>,
}

/// The models the server lists (the second with a `/`, which it escapes).
pub const MODELS: [&str; 2] = ["llama-3.2-3b-instruct-4bit", "openai/gpt-4o-mini"];

/// The server. Stopped and joined on drop.
pub struct Osaurus {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Plays {
    pub rule: KeyRule,
    /// Started with "expose to network" (binds 0.0.0.0 when true).
    pub exposed: bool,
    /// The key it accepts.
    pub key: String,
}

impl Osaurus {
    /// A server as Osaurus binds it: 0.0.0.0 when exposed, else 127.0.0.1.
    pub fn start(plays: Plays) -> Osaurus {
        let host = if plays.exposed { "0.0.0.0" } else { "127.0.0.1" };
        let listener = TcpListener::bind((host, 0)).expect("bind");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, flag) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, peer)) => serve(stream, peer, &plays, &s),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Osaurus { port, seen, stop, thread: Some(thread) }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Osaurus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, peer: SocketAddr, plays: &Plays, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let local = stream.local_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            }
        }
    }
    let path = target.split('?').next().unwrap_or("").to_owned();
    seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        peer: peer.ip(),
        local,
        authorization: authorization.clone(),
    });
    let route = path.strip_prefix("/v1").or_else(|| path.strip_prefix("/api")).unwrap_or(&path);
    let (status, kind, body) = if method == "HEAD" {
        (204, "text/plain", String::new())
    } else {
        match (method.as_str(), route) {
            ("GET", "/health") => {
                let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
                (200, "application/json", format!(r#"{{"timestamp":"{now}","status":"healthy"}}"#))
            }
            ("GET", "/" | "") => (200, "text/plain", "Osaurus Server is running! 🦕".to_owned()),
            ("GET", "/models") => {
                let loopback = peer.ip().is_loopback();
                let wants_key = match plays.rule {
                    KeyRule::Never => false,
                    KeyRule::Always => true,
                    KeyRule::NotFromLoopback => !loopback,
                    KeyRule::LoopbackWhileNotExposed => plays.exposed || !loopback,
                };
                let given = authorization.as_deref() == Some(&format!("Bearer {}", plays.key));
                if wants_key && !given {
                    let msg = match authorization {
                        None => "Missing API key. Provide it as: Authorization: Bearer <key>",
                        Some(_) => "Invalid API key",
                    };
                    (
                        401,
                        "application/json",
                        format!(r#"{{"error":{{"message":"{msg}","type":"authentication_error"}}}}"#),
                    )
                } else {
                    let data: Vec<String> = MODELS
                        .iter()
                        .map(|id| {
                            let id = id.replace('/', "\\/");
                            format!(r#"{{"id":"{id}","object":"model","created":1757334912,"owned_by":"osaurus"}}"#)
                        })
                        .collect();
                    (200, "application/json", format!(r#"{{"object":"list","data":[{}]}}"#, data.join(",")))
                }
            }
            _ => {
                (404, "application/json", r#"{"error":{"message":"Not Found","type":"invalid_request_error"}}"#.into())
            }
        }
    };
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut rest = [0u8; 64];
    let _ = stream.read(&mut rest);
}

/// Another program's web server that took the port: 200 with HTML on
/// every path, `/health` included. Stopped on drop.
pub struct Impostor {
    pub port: u16,
    _server: Osaurus,
}

impl Impostor {
    pub fn start() -> Impostor {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let body = "<!doctype html><html><body>It works!</body></html>";
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Impostor { port, _server: Osaurus { port, seen, stop, thread: Some(thread) } }
    }
}
