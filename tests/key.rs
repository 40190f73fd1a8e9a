//! `osaurus-tray key`: the access key kept where people keep secrets, and
//! found however the program was started. The real binaries, a temporary
//! HOME and config folder, and no session bus (so no keychain: the private
//! file is the store); the Secret Service is tried where one can be run.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

const KEY: &str = "osk-kept-4f2a";

/// A user of their own: HOME, config and runtime folders in a temporary
/// directory, no key in the environment, no session bus.
struct User {
    home: tempfile::TempDir,
}

impl User {
    fn new() -> User {
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(home.path().join("run")).unwrap();
        User { home }
    }

    fn config(&self) -> PathBuf {
        self.home.path().join("config")
    }

    fn key_file(&self) -> PathBuf {
        self.config().join("osaurus-tray/access-key")
    }

    fn command(&self, exe: &str, args: &[&str]) -> Command {
        let mut c = Command::new(exe);
        c.env_remove("OSAURUS_RUNTIME_DIR")
            .env_remove("OSAURUS_API_KEY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.config())
            .env("XDG_RUNTIME_DIR", self.home.path().join("run"))
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        run_with_deadline(self.command(env!("CARGO_BIN_EXE_osaurus-tray"), args), Duration::from_secs(20))
    }

    /// `key set` (or `args`) with `input` on standard input.
    fn feed(&self, args: &[&str], input: &str) -> Output {
        let mut c = self.command(env!("CARGO_BIN_EXE_osaurus-tray"), args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

fn said(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

#[test]
fn without_a_keychain_the_key_is_kept_in_a_private_file_and_found_there() {
    let user = User::new();
    let file = user.key_file();
    let none = user.run(&["key", "status"]);
    assert_eq!(none.status.code(), Some(0), "{}", said(&none));
    let text = stdout(&none);
    assert!(text.starts_with("No access key is configured"), "{text}");
    assert!(
        text.contains("osaurus-tray key set") && text.contains(file.to_str().unwrap()),
        "names the command and the file: {text}"
    );

    let set = user.feed(&["key", "set"], &format!("{KEY}\n"));
    assert_eq!(set.status.code(), Some(0), "{}", said(&set));
    assert!(stdout(&set).contains(file.to_str().unwrap()) && !said(&set).contains(KEY), "{}", said(&set));
    assert_eq!(fs::read_to_string(&file).unwrap(), format!("{KEY}\n"));
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "readable by its owner only");

    let status = user.run(&["key", "status"]);
    assert!(
        stdout(&status).starts_with(&format!("The access key comes from the file {}.", file.display())),
        "{}",
        said(&status)
    );
    assert!(!said(&status).contains(KEY), "status printed the key: {}", said(&status));

    // `env --with-key` finds it, with no OSAURUS_API_KEY and no settings file.
    let rt = user.home.path().join("rt");
    publish(&rt, "A", &running_config("A", 1337, "2025-09-08T12:00:00Z", false));
    let env = user.run(&["env", "--no-probe", "--with-key", "--runtime-dir", rt.to_str().unwrap()]);
    assert_eq!(env.status.code(), Some(0), "{}", said(&env));
    assert!(stdout(&env).contains(&format!("export OPENAI_API_KEY={KEY}\n")), "{}", stdout(&env));

    let clear = user.run(&["key", "clear"]);
    assert_eq!(clear.status.code(), Some(0), "{}", said(&clear));
    assert!(!file.exists(), "the key file is still there");
    assert!(stdout(&user.run(&["key", "status"])).starts_with("No access key is configured"));
    let env = user.run(&["env", "--no-probe", "--with-key", "--runtime-dir", rt.to_str().unwrap()]);
    assert_eq!(env.status.code(), Some(3), "{}", said(&env));
    assert!(stderr(&env).contains("osaurus-tray key set"), "{}", stderr(&env));
}

#[test]
fn status_says_where_the_key_comes_from_and_never_prints_it() {
    let user = User::new();
    assert_eq!(user.feed(&["key", "set"], KEY).status.code(), Some(0));
    let mut c = user.command(env!("CARGO_BIN_EXE_osaurus-tray"), &["key", "status"]);
    c.env("OSAURUS_API_KEY", "osk-from-env");
    let out = run_with_deadline(c, Duration::from_secs(20));
    assert!(stdout(&out).starts_with("The access key comes from the environment (OSAURUS_API_KEY)."), "{}", said(&out));
    assert!(!said(&out).contains("osk-from-env") && !said(&out).contains(KEY), "{}", said(&out));
    // A key file named in the settings comes before the kept one.
    let named = user.home.path().join("named.key");
    fs::write(&named, "osk-named\n").unwrap();
    fs::set_permissions(&named, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(user.config().join("osaurus-tray/settings.json"), serde_json::json!({"apiKeyFile": named}).to_string())
        .unwrap();
    let out = user.run(&["key", "status"]);
    assert!(stdout(&out).contains(&format!("the key file {} (apiKeyFile", named.display())), "{}", said(&out));
    // ... and is said when a key is kept that it shadows.
    let set = user.feed(&["key", "set"], KEY);
    assert!(stdout(&set).contains("which comes first"), "{}", said(&set));
    // A named key file others can read is refused, with the reason, exit 3.
    fs::set_permissions(&named, fs::Permissions::from_mode(0o644)).unwrap();
    let out = user.run(&["key", "status"]);
    assert_eq!(out.status.code(), Some(3), "{}", said(&out));
    assert!(said(&out).contains("chmod 600") && !said(&out).contains("osk-named"), "{}", said(&out));
}

#[test]
fn a_key_that_cannot_be_used_is_not_kept() {
    let user = User::new();
    for bad in ["", "\n", "two words\n", "osk-\u{7}bell\n"] {
        let out = user.feed(&["key", "set"], bad);
        assert_eq!(out.status.code(), Some(3), "{bad:?}: {}", said(&out));
        assert!(stderr(&out).contains("The key was not kept"), "{bad:?}: {}", said(&out));
        assert!(!user.key_file().exists(), "{bad:?} was kept");
    }
    // The app's way to read the keychain is not a command of the command line.
    assert_eq!(user.run(&["key", "reveal"]).status.code(), Some(2));
    // The key takes no --runtime-dir: it reads no runtime folder.
    assert_eq!(user.run(&["key", "status", "--runtime-dir", "/tmp"]).status.code(), Some(2));
    assert_eq!(user.run(&["--runtime-dir", "/tmp", "key", "status"]).status.code(), Some(2));
}

#[test]
fn the_command_line_alone_keeps_the_key_in_the_file_and_says_why() {
    // A copy of the command line with no app beside it: no keychain to reach.
    let user = User::new();
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("osaurus-tray");
    fs::copy(env!("CARGO_BIN_EXE_osaurus-tray"), &cli).unwrap();
    let mut c = user.command(cli.to_str().unwrap(), &["key", "set"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(KEY.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(stdout(&out).contains("osaurus-tray-app is missing"), "says why there is no keychain: {}", said(&out));
    assert_eq!(fs::read_to_string(user.key_file()).unwrap().trim(), KEY);
}

/// Where gnome-keyring can be run on a private session bus, `key set` keeps
/// the key in the Secret Service, no file is written, and the key is found
/// there by `env --with-key`.
#[test]
fn with_a_secret_service_the_key_is_kept_there() {
    let tools = ["dbus-run-session", "dbus-send", "gnome-keyring-daemon"];
    let missing: Vec<&str> = tools
        .into_iter()
        .filter(|t| {
            !Command::new("sh").arg("-c").arg(format!("command -v {t}")).output().is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: the Secret Service test needs {} (the file fallback is tested above)", missing.join(", "));
        return;
    }
    let user = User::new();
    let rt = user.home.path().join("rt");
    publish(&rt, "A", &running_config("A", 1337, "2025-09-08T12:00:00Z", false));
    // The daemon in the foreground, so that it is stopped and reaped here;
    // its login keyring made with a password read from standard input.
    let script = format!(
        "printf pw | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &\n\
         daemon=$!\n\
         for _ in $(seq 100); do\n\
           dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
             string:org.freedesktop.secrets 2>/dev/null | grep -q true && break\n\
           sleep 0.05\n\
         done\n\
         run() {{ printf '%s\\n' '{KEY}' | '{cli}' \"$@\"; }}\n\
         run key set && run key status && run env --no-probe --with-key --runtime-dir '{rt}' && \
           run key clear && run key status\n\
         rc=$?\n\
         kill $daemon; wait $daemon\n\
         exit $rc\n",
        cli = env!("CARGO_BIN_EXE_osaurus-tray"),
        rt = rt.display(),
    );
    let c = user.command("dbus-run-session", &["--", "sh", "-c", &script]);
    let out = run_with_deadline(c, Duration::from_secs(60));
    let text = stdout(&out);
    assert!(out.status.success(), "{}", said(&out));
    assert!(text.contains("The access key is kept in the Secret Service."), "{}", said(&out));
    assert!(text.contains("The access key comes from the Secret Service."), "{}", said(&out));
    assert!(text.contains(&format!("export OPENAI_API_KEY={KEY}\n")), "{}", said(&out));
    assert!(text.contains("Removed the access key from the Secret Service."), "{}", said(&out));
    assert!(text.trim_end().lines().rev().any(|l| l.contains("the Secret Service: no key kept")), "{text}");
    assert!(!user.key_file().exists(), "a file was written though the Secret Service kept the key");
}

#[test]
fn on_a_terminal_the_key_is_asked_for_and_not_shown_as_it_is_typed() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let user = User::new();
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two descriptors, which are owned below.
    let made = unsafe {
        libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut())
    };
    assert_eq!(made, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both are open descriptors no one else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut c = user.command(env!("CARGO_BIN_EXE_osaurus-tray"), &["key", "set"]);
    c.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = c.spawn().unwrap();
    // The terminal's other end is the child's alone: once it ends, reading
    // this end fails instead of waiting.
    drop(c);
    let mut terminal = fs::File::from(master);
    // What the terminal shows until the prompt, then the key typed.
    let mut shown = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&shown).contains("not shown as you type") {
        let n = terminal.read(&mut buf).unwrap_or(0);
        if n == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no prompt: {:?}", String::from_utf8_lossy(&shown));
        }
        shown.extend_from_slice(&buf[..n]);
    }
    terminal.write_all(format!("{KEY}\n").as_bytes()).unwrap();
    let status = child.wait().unwrap();
    // The rest of what the terminal shows (EIO once the child is gone).
    while let Ok(n @ 1..) = terminal.read(&mut buf) {
        shown.extend_from_slice(&buf[..n]);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(status.success(), "{shown}");
    assert!(!shown.contains(KEY), "the key was shown as it was typed: {shown:?}");
    assert!(shown.contains("The access key is kept in"), "{shown:?}");
    assert_eq!(fs::read_to_string(user.key_file()).unwrap(), format!("{KEY}\n"));
}
