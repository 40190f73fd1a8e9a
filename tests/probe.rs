//! Probes go to 127.0.0.1 only: they follow no redirect and use no proxy,
//! whatever the server answers or the environment says.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use osaurus_tray::probe::{Prober, Reply};

/// A server on 127.0.0.1 that counts requests and answers each with
/// `status` and, if given, a `Location` header. Stopped on drop.
struct Counting {
    port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Counting {
    fn start(status: u16, location: Option<String>) -> Counting {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(20)) {
                    h.fetch_add(1, Ordering::SeqCst);
                    let mut resp = tiny_http::Response::from_string("{}").with_status_code(status);
                    if let Some(l) = &location {
                        resp = resp.with_header(tiny_http::Header::from_bytes("Location", l.as_bytes()).unwrap());
                    }
                    let _ = req.respond(resp);
                }
            }
        });
        Counting { port, hits, stop, thread: Some(thread) }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_redirect_is_not_followed() {
    let target = Counting::start(200, None);
    let redirecting = Counting::start(302, Some(format!("http://127.0.0.1:{}/health", target.port)));
    let outcome = Prober::default().health(redirecting.port);
    assert_eq!(outcome, Reply::Status(302));
    assert_eq!(redirecting.hits(), 1);
    assert_eq!(target.hits(), 0, "the probe followed a redirect");
}

#[test]
fn proxy_settings_in_the_environment_are_ignored() {
    let proxy = Counting::start(200, None);
    let server = HealthServer::start();
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", server.port, &fresh(0), false));
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let mut cmd = bin();
    cmd.args(["--runtime-dir", rt.path().to_str().unwrap(), "list", "--json"]);
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env(var, &proxy_url);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = run_with_deadline(cmd, Duration::from_secs(20));
    let v = json(&out);
    assert_eq!(v[0]["reachable"], true);
    assert_eq!(proxy.hits(), 0, "a probe went through the proxy");
}

#[test]
fn a_probe_only_ever_asks_loopback() {
    // The file names another address (127.0.0.2: still this machine, so a
    // regression sends nothing out); the probe asks 127.0.0.1, where our
    // server answers, and nothing listens on 127.0.0.2.
    let server = HealthServer::start();
    let rt = tempfile::tempdir().unwrap();
    let cfg = serde_json::json!({"health":"running","port":server.port,"address":"127.0.0.2","url":format!("http://127.0.0.2:{}", server.port)});
    publish(rt.path(), "R", &cfg);
    let v = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(v[0]["url"], format!("http://127.0.0.2:{}", server.port));
    assert_eq!(v[0]["reachable"], true, "the probe did not go to 127.0.0.1");
}
