//! The command line's contract with scripts: one exit status per outcome
//! (0 success, 1 no instance qualifies, 2 usage, 3 something failed), and
//! options offered only to the commands that use them. The real binary,
//! real folders in temporary directories.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::*;

const T1: &str = "2025-09-08T12:00:00Z";

fn run(args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.args(args);
    run_with_deadline(c, Duration::from_secs(20))
}

#[test]
fn exit_0_when_an_instance_qualifies() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    for args in [&["url", "--no-probe"][..], &["env", "--no-probe"], &["list", "--no-probe"]] {
        let out = run_in(rt.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn exit_1_when_no_instance_qualifies() {
    let rt = tempfile::tempdir().unwrap();
    for args in [
        &["url", "--no-probe"][..],
        &["env", "--no-probe"],
        &["open", "--no-probe"],
        &["list", "--no-probe"],
        &["list", "--all", "--no-probe"],
        &["models"],
        &["models", "--id", "zzzz"],
    ] {
        let out = run_in(rt.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn exit_2_for_a_command_line_not_understood() {
    for args in [&["list", "--bogus"][..], &["watch", "--probe-interval", "0"], &["completions", "tcsh"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn exit_3_when_something_failed() {
    let outer = tempfile::tempdir().unwrap();
    // A runtime folder named that does not exist, or that cannot be read.
    let missing = outer.path().join("no-such-folder");
    let file = outer.path().join("a-file");
    fs::write(&file, "not a folder").unwrap();
    for dir in [&missing, &file] {
        for args in [&["url", "--no-probe"][..], &["list", "--all", "--no-probe"], &["models"], &["prune"]] {
            let out = run_in(dir, args);
            assert_eq!(out.status.code(), Some(3), "{args:?} in {}: {}", dir.display(), stderr(&out));
        }
    }
    // Output that cannot be written.
    let rt = outer.path().join("rt");
    publish(&rt, "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(&rt).args(["url", "--no-probe"]);
    c.stdin(std::process::Stdio::null())
        .stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .stderr(std::process::Stdio::piped());
    let out = c.spawn().unwrap().wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // Entries that are no instance (a file, a folder without its
    // configuration) are "none qualifies", not a failure.
    assert_eq!(run_in(outer.path(), &["url", "--no-probe"]).status.code(), Some(1));
}

/// A folder on PATH holding one `xdg-open` that exits with `code`, and
/// nothing else that opens pages.
fn opener(code: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("xdg-open");
    fs::write(&fake, format!("#!/bin/sh\nexit {code}\n")).unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn open_with(path: &Path, rt: &Path) -> std::process::Output {
    let mut c = bin();
    c.env("PATH", path).arg("--runtime-dir").arg(rt).args(["open", "--no-probe"]);
    run_with_deadline(c, Duration::from_secs(20))
}

#[test]
fn a_failed_open_says_one_plain_sentence_and_exits_3() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "O", &running_config("O", 1337, T1, false));
    let failing = opener(2);
    let empty = tempfile::tempdir().unwrap();
    for (path, needle) in [(failing.path(), "reported a failure"), (empty.path(), "no program that opens web pages")] {
        let out = open_with(path, rt.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("Could not open http://127.0.0.1:1337/ in a browser") && err.contains(needle), "{err}");
        for debug in ["ExitStatus", "unix_wait_status", "Launcher", "Os {", "kind:"] {
            assert!(!err.contains(debug), "a Rust debug form: {err}");
        }
    }
    let out = open_with(opener(0).path(), rt.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The commands that read runtime folders, with arguments that make them
/// end at once.
const READERS: [&[&str]; 8] = [
    &["list", "--no-probe"],
    &["url", "--no-probe"],
    &["env", "--no-probe"],
    &["models", "--id", "zzzz"],
    &["open", "--help"],
    &["watch", "--help"],
    &["prune", "--help"],
    &["tray", "--help"],
];

#[test]
fn runtime_dir_is_taken_before_or_after_the_commands_that_read_folders() {
    let empty = tempfile::tempdir().unwrap();
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let dir = rt.path().to_str().unwrap();
    for args in READERS {
        let (name, rest) = args.split_first().unwrap();
        let after: Vec<&str> = [*name, "--runtime-dir", dir].into_iter().chain(rest.iter().copied()).collect();
        let before: Vec<&str> = ["--runtime-dir", dir].into_iter().chain(args.iter().copied()).collect();
        for line in [after, before] {
            let out = run(&line);
            assert_ne!(out.status.code(), Some(2), "{line:?} refused: {}", stderr(&out));
        }
    }
    // Read, not ignored, in either place; after the command wins.
    let url = |args: &[&str]| stdout(&run(args));
    assert_eq!(url(&["url", "--runtime-dir", dir, "--no-probe"]), "http://127.0.0.1:1337\n");
    assert_eq!(url(&["--runtime-dir", dir, "url", "--no-probe"]), "http://127.0.0.1:1337\n");
    let empty = empty.path().to_str().unwrap();
    assert_eq!(url(&["--runtime-dir", empty, "url", "--runtime-dir", dir, "--no-probe"]), "http://127.0.0.1:1337\n");
    let mut c = bin();
    c.env("OSAURUS_RUNTIME_DIR", empty).args(["url", "--runtime-dir", dir, "--no-probe"]);
    assert_eq!(stdout(&run_with_deadline(c, Duration::from_secs(20))), "http://127.0.0.1:1337\n");
    let mut c = bin();
    c.env("OSAURUS_RUNTIME_DIR", dir).args(["url", "--no-probe"]);
    assert_eq!(stdout(&run_with_deadline(c, Duration::from_secs(20))), "http://127.0.0.1:1337\n");
}

#[test]
fn runtime_dir_is_not_offered_to_commands_that_read_no_folder() {
    let rt = tempfile::tempdir().unwrap();
    let dir = rt.path().to_str().unwrap();
    for args in [&["demo", "--no-tray"][..], &["man"], &["completions", "bash"]] {
        let (name, rest) = args.split_first().unwrap();
        let after: Vec<&str> = [*name, "--runtime-dir", dir].into_iter().chain(rest.iter().copied()).collect();
        let before: Vec<&str> = ["--runtime-dir", dir].into_iter().chain(args.iter().copied()).collect();
        for line in [after, before] {
            let out = run(&line);
            assert_eq!(out.status.code(), Some(2), "{line:?}: {}", stderr(&out));
            assert!(stdout(&out).is_empty() && stderr(&out).contains("--runtime-dir"), "{line:?}: {}", stderr(&out));
        }
        // The environment is not the command line: it stays harmless.
        if *name != "demo" {
            let mut c = bin();
            c.env("OSAURUS_RUNTIME_DIR", dir).args(args);
            let out = run_with_deadline(c, Duration::from_secs(20));
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        }
        let help = stdout(&run(&[name, "--help"]));
        assert!(!help.contains("--runtime-dir"), "{name} --help offers it:\n{help}");
    }
}
