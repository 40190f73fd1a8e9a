//! `prune` asks every entry in one bounded round, as `list` does, and reads
//! the socket table once per round, not once per entry.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// `count` running entries written at `updated`, named `prefix` and a
/// number, on `port`.
fn publish_entries(rt: &std::path::Path, prefix: &str, count: usize, port: u16, updated: &str) {
    for n in 0..count {
        let id = format!("{prefix}{n:04}");
        publish(rt, &id, &running_config(&id, port, updated, false));
    }
}

/// `prune --dry-run` over `rt`, and how long it took.
fn dry_run(rt: &std::path::Path) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let out = run_in(rt, &["prune", "--dry-run"]);
    (out, start.elapsed())
}

#[test]
fn fifty_entries_on_a_port_that_never_answers_take_one_round_and_are_kept() {
    let rt = tempfile::tempdir().unwrap();
    // A listening socket never accepted: the kernel completes every
    // connection, nobody ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    // Written after the listener started: it is theirs, however silent.
    publish_entries(rt.path(), "S", 50, port, &fresh(0));
    let (out, took) = dry_run(rt.path());
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
    publish_entries(rt.path(), "D", 1000, dead, "2025-01-01T00:00:00Z");
    let (out, took) = dry_run(rt.path());
    assert_eq!(stdout(&out).matches("would remove").count(), 1000, "{}", stderr(&out));
    // Two rounds 10 s apart; reading the table for each entry took 32 s.
    assert!(took < Duration::from_secs(16), "prune --dry-run took {took:?} over 1,000 refused leftovers");
}

#[test]
fn nothing_to_prune_says_why_in_plain_words() {
    let rt = tempfile::tempdir().unwrap();
    let out = run_in(rt.path(), &["prune"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("No leftovers: no entry says it is running."), "{}", stderr(&out));
}
