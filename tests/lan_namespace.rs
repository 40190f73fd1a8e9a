//! The LAN check, the one request that does not go to 127.0.0.1, inside a
//! network namespace this test makes for itself (`unshare --net`, as root):
//! a dummy interface `en0` (a veth pair where the kernel has no dummy
//! driver) plays the machine's LAN address, and a default route through it
//! means any packet for another host would be counted on it. So nothing can leave the machine, and a request to any address but
//! this machine's own would show.
//!
//! Where namespaces are not allowed the test is skipped with a message,
//! unless `OSAURUS_TRAY_NETNS_REQUIRED=1` (as in CI), where it fails.

mod common;

use std::process::Command;
use std::time::Duration;

use common::osaurus::{KeyRule, Osaurus, Plays};
use common::*;

const INSIDE: &str = "OSAURUS_TRAY_NETNS_INSIDE";
const REQUIRED: &str = "OSAURUS_TRAY_NETNS_REQUIRED";
const TEST: &str = "the_lan_check_asks_only_this_machines_own_address";
const LAN: &str = "192.168.77.23";

#[test]
fn the_lan_check_asks_only_this_machines_own_address() {
    if std::env::var_os(INSIDE).is_some() {
        inside();
        return;
    }
    let allowed = Command::new("unshare")
        .args(["--net", "sh", "-c", "ip link add p0 type dummy || ip link add p0 type veth peer name p1"])
        .output();
    if !allowed.as_ref().is_ok_and(|o| o.status.success()) {
        let why = match &allowed {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        };
        let msg = format!("network namespaces with a dummy interface are not allowed here ({why})");
        assert!(std::env::var_os(REQUIRED).is_none_or(|v| v != "1"), "{msg}, and {REQUIRED}=1");
        eprintln!("SKIPPED: {msg}; run as root with iproute2, or set {REQUIRED}=1 to make this a failure");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut c = Command::new("unshare");
    c.arg("--net").arg("--").arg(exe).args(["--exact", TEST, "--nocapture", "--test-threads=1"]).env(INSIDE, "1");
    let out = run_with_deadline(c, Duration::from_secs(60));
    assert!(out.status.success(), "inside the namespace:\n{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2)");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Packets sent out through `en0`: anything for a host but this one.
fn sent_out() -> u64 {
    let out = Command::new("ip").args(["-j", "-s", "link", "show", "en0"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["stats64"]["tx"]["packets"].as_u64().unwrap()
}

fn exposed_at(rt: &std::path::Path, id: &str, server: &Osaurus, address: &str) {
    let mut cfg = running_config(id, server.port, &fresh(0), true);
    cfg["address"] = address.into();
    cfg["url"] = format!("http://{address}:{}", server.port).into();
    publish(rt, id, &cfg);
}

fn inside() {
    ip(&["link", "set", "lo", "up"]);
    let dummy = Command::new("ip").args(["link", "add", "en0", "type", "dummy"]).output().unwrap();
    if !dummy.status.success() {
        // No dummy driver: one end of a veth pair, its other end up and
        // without an address, swallows whatever is sent.
        ip(&["link", "add", "en0", "type", "veth", "peer", "name", "en0peer"]);
        ip(&["link", "set", "en0peer", "up"]);
    }
    // No IPv6 on it: its router solicitations would be counted as sent.
    for dev in ["en0", "en0peer"] {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{dev}/disable_ipv6"), "1");
    }
    ip(&["addr", "add", &format!("{LAN}/24"), "dev", "en0"]);
    ip(&["link", "set", "en0", "up"]);
    ip(&["route", "add", "default", "dev", "en0"]);

    let play = |rule| Plays { rule, exposed: true, key: "osk-unused".into() };
    let guarded = Osaurus::start(play(KeyRule::LoopbackWhileNotExposed));
    let open = Osaurus::start(play(KeyRule::Never));
    let moved = Osaurus::start(play(KeyRule::NotFromLoopback));
    let remote = Osaurus::start(play(KeyRule::Never));
    let rt = tempfile::tempdir().unwrap();
    exposed_at(rt.path(), "GUARDED", &guarded, LAN);
    exposed_at(rt.path(), "OPEN", &open, LAN);
    // An address on en0's network that this machine no longer has, and a
    // host elsewhere: a request to either would leave through en0.
    exposed_at(rt.path(), "MOVED", &moved, "192.168.77.99");
    exposed_at(rt.path(), "REMOTE", &remote, "10.9.8.7");
    let before = sent_out();

    let list = json(&run_in(rt.path(), &["list", "--json"]));
    let field = |id: &str, key: &str| list.iter().find(|i| i["instanceId"] == id).unwrap()[key].clone();
    assert_eq!(field("GUARDED", "lanAccess"), "guarded", "{list:#?}");
    assert_eq!(field("OPEN", "lanAccess"), "open");
    assert_eq!(field("MOVED", "lanAccess"), "guarded", "asked through {LAN}, the machine's own");
    assert_eq!(field("REMOTE", "lanAccess"), "open");
    assert_eq!(field("GUARDED", "addressOnThisMachine"), true);
    assert_eq!(field("MOVED", "addressOnThisMachine"), false);
    assert_eq!(field("REMOTE", "addressOnThisMachine"), false);
    let table = stdout(&run_in(rt.path(), &["list"]));
    assert!(table.contains("LAN, open to anyone") && table.contains("LAN, key required"), "{table}");

    // The watcher (the tray's view) finds the same.
    let mut watch = WatchProc::start(rt.path(), &[], &[]);
    watch.wait_for(Duration::from_secs(10), "guarded and open", |v| {
        v.iter().any(|i| i["lanAccess"] == "open") && v.iter().any(|i| i["lanAccess"] == "guarded")
    });
    drop(watch);

    // Every request reached this machine: 127.0.0.1 or en0's own address,
    // and the LAN check went to the LAN address, without a key.
    for server in [&guarded, &open, &moved, &remote] {
        let seen = server.seen();
        for s in &seen {
            assert!(s.local.is_loopback() || s.local.to_string() == LAN, "{s:?}");
            if !s.local.is_loopback() {
                assert_eq!((s.method.as_str(), s.path.as_str(), &s.authorization), ("GET", "/v1/models", &None));
            }
        }
        assert!(seen.iter().any(|s| s.local.to_string() == LAN), "no LAN check reached port {}", server.port);
    }
    assert_eq!(sent_out(), before, "a packet left for another host");
}
