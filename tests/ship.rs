//! What ships beside the app: help with examples, completions, the man page,
//! and a LaunchAgent that macOS can read.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

fn run(args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.args(args);
    run_with_deadline(c, Duration::from_secs(20))
}

#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs git in `dir` with a fixed identity; panics when it fails.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn git_works() -> bool {
    Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = run(&["--version"]);
    let version = env!("CARGO_PKG_VERSION");
    let built = build_script::built_from(root());
    // In a checkout git answers for, the commit must be named, and be HEAD.
    let head = Command::new("git").arg("-C").arg(root()).args(["rev-parse", "HEAD"]).output().ok();
    if let Some(head) = head.filter(|o| o.status.success() && root().join(".git").exists()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        let short = built.hash.as_deref().expect("a git checkout, but no commit named");
        assert!(head.starts_with(short), "{short} is not HEAD ({head})");
        assert_eq!(stdout(&out), format!("osaurus-tray {version} ({short})\n"));
    } else {
        assert_eq!(stdout(&out), format!("osaurus-tray {version}\n"));
    }
}

#[test]
fn the_version_falls_back_to_the_package_version_outside_git() {
    assert_eq!(build_script::version_line("1.2.3", None), "1.2.3");
    assert_eq!(build_script::version_line("1.2.3", Some("abc1234")), "1.2.3 (abc1234)");
    for not_a_hash in ["", "fatal: not a git repository", "abc", "HEAD", "abc123g"] {
        assert!(!build_script::is_commit_hash(not_a_hash), "{not_a_hash:?}");
    }

    // An unpacked crates.io package: no .git, nothing named, nothing watched.
    let plain = tempfile::tempdir().unwrap();
    let built = build_script::built_from(plain.path());
    assert!(built.hash.is_none() && built.watch.is_empty(), "{built:?}");

    // A .git that is not a repository: git refuses, nothing is named.
    let broken = tempfile::tempdir().unwrap();
    std::fs::create_dir(broken.path().join(".git")).unwrap();
    let built = build_script::built_from(broken.path());
    assert!(built.hash.is_none(), "{built:?}");
    assert!(built.watch.iter().all(|p| p.exists()), "a watched path that does not exist reruns every build");
}

#[test]
fn in_a_git_checkout_the_commit_is_named_and_its_files_watched() {
    if !git_works() {
        eprintln!("SKIPPED: git is not installed");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("f"), "x").unwrap();
    git(dir, &["add", "f"]);
    git(dir, &["commit", "-q", "-m", "one"]);

    let built = build_script::built_from(dir);
    assert_eq!(built.hash.as_deref(), Some(git(dir, &["rev-parse", "--short", "HEAD"]).as_str()));
    let head = std::fs::canonicalize(dir.join(".git/HEAD")).unwrap();
    let branch = std::fs::canonicalize(dir.join(".git/refs/heads/main")).unwrap();
    let watched: Vec<PathBuf> = built.watch.iter().map(|p| std::fs::canonicalize(p).unwrap()).collect();
    assert_eq!(watched, [head.clone(), branch], "HEAD and the branch it points to");

    // A packed branch has no file of its own: packed-refs changes instead.
    git(dir, &["pack-refs", "--all"]);
    let built = build_script::built_from(dir);
    let watched: Vec<PathBuf> = built.watch.iter().map(|p| std::fs::canonicalize(p).unwrap()).collect();
    assert_eq!(watched, [head, std::fs::canonicalize(dir.join(".git/packed-refs")).unwrap()]);

    // A package unpacked inside some other repository is not that one's.
    let nested = dir.join("vendor/osaurus-tray-0.1.0");
    std::fs::create_dir_all(&nested).unwrap();
    let built = build_script::built_from(&nested);
    assert!(built.hash.is_none() && built.watch.is_empty(), "{built:?}");
}

#[test]
fn every_command_has_help_with_examples() {
    for cmd in [
        "list",
        "url",
        "env",
        "open",
        "watch",
        "demo",
        "tray",
        "models",
        "prune",
        "local-only",
        "stop",
        "completions",
        "man",
        "key",
    ] {
        let out = run(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        assert!(stdout(&out).contains("Examples:"), "{cmd} --help has no examples:\n{}", stdout(&out));
    }
    assert!(stdout(&run(&["--help"])).contains("eval \"$(osaurus-tray env)\""));
}

#[test]
fn completions_load_in_their_shells() {
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = format!("{}\ncomplete -p osaurus-tray", stdout(&bash));
    let check = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(String::from_utf8_lossy(&check.stdout).contains("osaurus-tray"), "bash did not register the completion");
    for shell in ["zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success() && stdout(&out).contains("prune"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

/// What bash's completion offers for the command line `words` (the last
/// word being the one completed), by the generated script's own function,
/// called as bash's programmable completion calls it.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = stdout(&run(&["completions", "bash"]));
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len() - 1;
    let prev = if n > 0 { words[n - 1] } else { "" };
    let driver = format!(
        "{script}\nCOMP_WORDS=({words})\nCOMP_CWORD={n}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         func=$(complete -p osaurus-tray | sed -E 's/.*-F ([^ ]+).*/\\1/')\n\
         \"$func\" osaurus-tray '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        line = words.join(" "),
        cur = words[n],
    );
    let out = Command::new("bash").arg("-c").arg(driver).output().unwrap();
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

#[test]
fn bash_completes_subcommands_their_flags_and_their_values() {
    let top = bash_completes(&["osaurus-tray", ""]);
    assert!(top.contains(&"list".to_owned()) && top.contains(&"watch".to_owned()), "{top:?}");
    let list = bash_completes(&["osaurus-tray", "list", "--"]);
    for flag in ["--json", "--all", "--no-probe"] {
        assert!(list.contains(&flag.to_owned()), "list --<TAB> offers {list:?}");
    }
    assert!(list.contains(&"--runtime-dir".to_owned()), "list --<TAB> offers {list:?}");
    let demo = bash_completes(&["osaurus-tray", "demo", "--"]);
    assert!(demo.contains(&"--no-tray".to_owned()), "demo --<TAB> offers {demo:?}");
    assert!(!demo.contains(&"--runtime-dir".to_owned()), "demo reads no runtime folder: {demo:?}");
    let watch = bash_completes(&["osaurus-tray", "watch", "--pr"]);
    assert_eq!(watch, ["--probe-interval"], "watch --pr<TAB>");
    let shells = bash_completes(&["osaurus-tray", "completions", ""]);
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&shell.to_owned()), "completions <TAB> offers {shells:?}");
    }
}

/// What fish offers for `line`, or None where fish is not installed (CI
/// installs it and sets OSAURUS_TRAY_SHELLS_REQUIRED=1).
fn fish_completes(line: &str) -> Option<Vec<String>> {
    let script = stdout(&run(&["completions", "fish"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("osaurus-tray.fish");
    std::fs::write(&path, script).unwrap();
    let out =
        match Command::new("fish").arg("-c").arg(format!("source {}; complete -C '{line}'", path.display())).output() {
            Ok(out) => out,
            Err(e) if std::env::var_os("OSAURUS_TRAY_SHELLS_REQUIRED").is_none() => {
                eprintln!("fish cannot run here ({e}): its completion is not checked");
                return None;
            }
            Err(e) => panic!("fish: {e}"),
        };
    assert!(out.status.success(), "fish: {}", String::from_utf8_lossy(&out.stderr));
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect(),
    )
}

#[test]
fn fish_completes_subcommands_their_flags_and_their_values() {
    let Some(list) = fish_completes("osaurus-tray list --") else { return };
    for flag in ["--json", "--all", "--no-probe"] {
        assert!(list.contains(&flag.to_owned()), "list --<TAB> offers {list:?}");
    }
    let watch = fish_completes("osaurus-tray watch --pr").unwrap();
    assert_eq!(watch, ["--probe-interval"], "watch --pr<TAB>");
    let shells = fish_completes("osaurus-tray completions ").unwrap();
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&shell.to_owned()), "completions <TAB> offers {shells:?}");
    }
}

/// What zsh offers for `line`, by its own completion system run as Tab
/// runs it (tests/shells/zsh_complete.zsh), or None where zsh is not
/// installed (CI installs it and sets OSAURUS_TRAY_SHELLS_REQUIRED=1).
fn zsh_completes(line: &str) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_osaurus-tray"), stdout(&run(&["completions", "zsh"]))).unwrap();
    let driver = format!("{}/tests/shells/zsh_complete.zsh", env!("CARGO_MANIFEST_DIR"));
    match Command::new("zsh").args(["-fc", "zmodload zsh/zpty"]).output() {
        Ok(o) if o.status.success() => {}
        why if std::env::var_os("OSAURUS_TRAY_SHELLS_REQUIRED").is_none() => {
            eprintln!("zsh (with zsh/zpty) cannot run here ({why:?}): its completion is not checked");
            return None;
        }
        why => panic!("zsh (with zsh/zpty): {why:?}"),
    }
    let mut c = Command::new("zsh");
    c.arg("-f").arg(driver).arg(dir.path()).arg(line);
    let out = run_with_deadline(c, Duration::from_secs(30));
    assert!(out.status.success(), "zsh: {}", String::from_utf8_lossy(&out.stderr));
    Some(stdout(&out).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

#[test]
fn zsh_completes_subcommands_their_flags_and_their_values() {
    let Some(top) = zsh_completes("osaurus-tray ") else { return };
    assert!(top.contains(&"list".to_owned()) && top.contains(&"watch".to_owned()), "{top:?}");
    let list = zsh_completes("osaurus-tray list --").unwrap();
    for flag in ["--json", "--all", "--no-probe", "--runtime-dir"] {
        assert!(list.contains(&flag.to_owned()), "list --<TAB> offers {list:?}");
    }
    let watch = zsh_completes("osaurus-tray watch --probe-int").unwrap();
    assert_eq!(watch, ["--probe-interval"], "watch --probe-int<TAB>");
    let shells = zsh_completes("osaurus-tray completions ").unwrap();
    for shell in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&shell.to_owned()), "completions <TAB> offers {shells:?}");
    }
    // The key's actions, and not the app's own way to read the keychain.
    let mut key = zsh_completes("osaurus-tray key ").unwrap();
    key.sort();
    assert_eq!(key, ["clear", "help", "set", "status"], "key <TAB>");
    // A command that reads no runtime folder is not offered one.
    let man = zsh_completes("osaurus-tray man --").unwrap();
    assert!(!man.contains(&"--runtime-dir".to_owned()), "man --<TAB> offers {man:?}");
}

#[test]
fn the_man_page_documents_the_commands() {
    let out = run(&["man"]);
    let page = stdout(&out);
    assert!(page.contains(".TH osaurus-tray 1"), "{page}");
    for cmd in ["list", "watch", "prune", "models"] {
        assert!(page.contains(cmd), "the man page does not mention {cmd}");
    }
    for section in [".SH COMMANDS", ".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES"] {
        assert!(page.contains(section), "the man page has no {section}");
    }
    for name in ["OSAURUS_RUNTIME_DIR", "OSAURUS_API_KEY", "configuration.json", "settings.json"] {
        assert!(page.contains(&name.replace('-', "\\-")), "the man page does not name {name}");
    }
    // Each command's options are on this page; there are no pages per command to refer to.
    assert!(
        page.contains(
            "osaurus\\-tray watch [\\-\\-runtime\\-dir DIR] [\\-\\-json] [\\-\\-no\\-probe] [\\-\\-probe\\-interval S]"
        ),
        "{page}"
    );
    // Only the commands that read runtime folders are shown taking one.
    assert!(page.contains(".SS \"osaurus\\-tray demo [\\-\\-no\\-tray]\"\n"), "{page}");
    assert!(page.contains(".SS \"osaurus\\-tray man\"\n"), "{page}");
    assert!(page.contains(".SS \"osaurus\\-tray key {set|clear|status}\"\n"), "{page}");
    // Every exit status a script may see, 3 (something failed) apart from 1.
    let exits = &page[page.find(".SH \"EXIT STATUS\"").unwrap()..page.find(".SH ENVIRONMENT").unwrap()];
    for code in ["0", "1", "2", "3"] {
        assert!(exits.contains(&format!(".TP\n\\fB{code}\\fR\n")), "no exit status {code}: {exits}");
    }
    assert!(!page.contains("osaurus\\-tray\\-list(1)"), "the page refers to a page that does not exist");
    // man itself reads it without a warning, where man is installed.
    if let Ok(check) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        let mut check = check;
        check.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
        let out = check.wait_with_output().unwrap();
        assert!(out.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn the_launch_agent_is_a_valid_plist() {
    let home = tempfile::tempdir().unwrap();
    let agent = osaurus_tray::autostart::Autostart::launch_agent(home.path());
    agent.set(true, std::path::Path::new("/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray")).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))"])
        .arg(agent.file())
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Label"], "io.github.osaurus-tray");
    assert_eq!(v["ProgramArguments"][0], "/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray");
    assert_eq!(v["RunAtLoad"], true);
}

#[test]
#[cfg(target_os = "linux")]
fn without_a_desktop_the_tray_says_so_and_leaves_nothing() {
    let runtime = tempfile::tempdir().unwrap();
    for args in [&["tray"][..], &["demo"][..]] {
        let mut c = bin();
        c.args(args).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env("XDG_RUNTIME_DIR", runtime.path());
        let out = run_with_deadline(c, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("No graphical session") && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_process_serial_number_is_ignored_on_macos_only() {
    // LaunchServices may start the app from Finder with `-psn_0_<n>`.
    let out = run(&["-psn_0_4242", "--version"]);
    if cfg!(target_os = "macos") {
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("osaurus-tray {}\n", env!("CARGO_PKG_VERSION")));
    } else {
        assert!(!out.status.success(), "-psn_ is only dropped on macOS: {}", stdout(&out));
        assert!(stderr(&out).contains("unexpected argument"), "{}", stderr(&out));
    }
}
