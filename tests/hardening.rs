//! Hostile environments for the command line: closed pipes, full disks, odd
//! environment variables, slow servers, other users, folders that move.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const T1: &str = "2025-09-08T12:00:00Z";

/// Runs the binary with `args`, its stdout going to `/dev/full`.
fn to_dev_full(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.arg("--runtime-dir").arg(dir).args(args);
    c.stdin(Stdio::null()).stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap()).stderr(Stdio::piped());
    let child = c.spawn().expect("spawn osaurus-tray");
    child.wait_with_output().expect("wait")
}

#[test]
fn an_empty_runtime_dir_variable_means_the_default_folders() {
    let home = tempfile::tempdir().unwrap();
    let rt = home.path().join(".osaurus/runtime");
    publish(&rt, "HOMEINSTANCE", &running_config("HOMEINSTANCE", 1337, T1, false));
    let mut c = bin();
    c.env("HOME", home.path()).env("OSAURUS_RUNTIME_DIR", "").args(["list", "--json", "--no-probe"]);
    let out = run_with_deadline(c, Duration::from_secs(20));
    assert!(out.status.success(), "exit {:?}: {}", out.status, stderr(&out));
    let v = json(&out);
    assert_eq!(v[0]["instanceId"], "HOMEINSTANCE", "{v:?}");
    let mut c = bin();
    c.env("HOME", home.path()).env("OSAURUS_RUNTIME_DIR", "").args(["url", "--no-probe"]);
    let out = run_with_deadline(c, Duration::from_secs(20));
    assert_eq!(stdout(&out), "http://127.0.0.1:1337\n", "{}", stderr(&out));
}

#[test]
fn a_full_disk_is_one_line_on_stderr_and_exit_1_never_a_panic() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    for args in [
        &["url", "--no-probe"][..],
        &["list", "--json", "--no-probe"],
        &["list", "--no-probe"],
        &["env", "--no-probe"],
        &["completions", "bash"],
        &["man"],
    ] {
        let out = to_dev_full(rt.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: exit {:?}, stderr {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.to_lowercase().contains("no space left on device"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let rt = tempfile::tempdir().unwrap();
    for n in 0..50 {
        let id = format!("I{n:03}");
        publish(rt.path(), &id, &running_config(&id, 2000 + n, T1, false));
    }
    let cases = [&["list", "--json", "--no-probe"][..], &["completions", "bash"], &["url", "--no-probe"]];
    // With SIGPIPE blocked (inherited from a parent), the write itself fails
    // with EPIPE instead of the signal ending the process.
    for (args, blocked) in cases.iter().flat_map(|a| [(a, false), (a, true)]) {
        let mut c = bin();
        c.arg("--runtime-dir").arg(rt.path()).args(*args);
        if blocked {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                c.pre_exec(|| {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGPIPE);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                    Ok(())
                });
            }
        }
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        let quiet = out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE);
        assert!(quiet, "{args:?} (SIGPIPE blocked: {blocked}): {:?}, stderr {err}", out.status);
        assert!(err.is_empty(), "{args:?} (SIGPIPE blocked: {blocked}): {err}");
    }
}

#[test]
fn watch_on_a_full_disk_says_so_and_exits_1() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(Stdio::null()).stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap()).stderr(Stdio::piped());
    let child = Reaped(c.spawn().unwrap());
    let out = wait_for_exit(child, Duration::from_secs(10));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{:?}: {err}", out.status);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.to_lowercase().contains("no space left on device"), "{err}");
}

/// Waits for `child` to exit, reading its stderr; panics after `limit`.
fn wait_for_exit(mut child: Reaped, limit: Duration) -> std::process::Output {
    use std::io::Read;
    let start = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            let mut stderr = Vec::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = e.read_to_end(&mut stderr);
            }
            return std::process::Output { status, stdout: Vec::new(), stderr };
        }
        assert!(start.elapsed() < limit, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn watch_ends_soon_after_its_reader_goes_away_though_nothing_changes() {
    use std::io::BufRead;
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Reaped(c.spawn().unwrap());
    let mut reader = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("\"instanceId\":\"A\""), "{line}");
    drop(reader); // `head -1` is done
    let closed = Instant::now();
    let out = wait_for_exit(child, Duration::from_secs(10));
    let took = closed.elapsed();
    assert!(took < Duration::from_secs(2), "watch ran on for {took:?} after its reader went away");
    assert!(out.status.success() || std::os::unix::process::ExitStatusExt::signal(&out.status).is_some());
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
