//! `prune` asks every entry in one bounded round, as `list` does, and reads
//! the socket table once per round, not once per entry.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn leftover(port: u16) -> serde_json::Value {
    running_config("X", port, "2025-01-01T00:00:00Z", false)
}

#[test]
fn fifty_entries_on_a_port_that_never_answers_take_one_round_and_are_kept() {
    let rt = tempfile::tempdir().unwrap();
    // A listening socket never accepted: the kernel completes every
    // connection, nobody ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    for n in 0..50 {
        let id = format!("S{n:02}");
        let mut cfg = leftover(port);
        cfg["instanceId"] = id.clone().into();
        publish(rt.path(), &id, &cfg);
    }
    let start = Instant::now();
    let out = run_in(rt.path(), &["prune", "--dry-run"]);
    let took = start.elapsed();
    // One round ends within 1 s however many entries; one by one at 300 ms
    // each, 50 entries took 15 s.
    assert!(took < Duration::from_secs(5), "prune --dry-run took {took:?} over 50 silent entries");
    assert!(
        !stdout(&out).contains("would remove"),
        "a server that does not answer in time is never removed: {}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_dir(rt.path()).unwrap().count(), 50);
}

#[test]
fn a_thousand_refused_leftovers_read_the_socket_table_once_per_round() {
    let rt = tempfile::tempdir().unwrap();
    let dead = closed_port();
    for n in 0..1000 {
        let id = format!("D{n:04}");
        let mut cfg = leftover(dead);
        cfg["instanceId"] = id.clone().into();
        publish(rt.path(), &id, &cfg);
    }
    let start = Instant::now();
    let out = run_in(rt.path(), &["prune", "--dry-run"]);
    let took = start.elapsed();
    assert_eq!(stdout(&out).matches("would remove").count(), 1000, "{}", stderr(&out));
    // Two rounds 10 s apart; reading the table for each entry took 32 s.
    assert!(took < Duration::from_secs(16), "prune --dry-run took {took:?} over 1,000 refused leftovers");
}
