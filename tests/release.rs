//! The release, dry-run: the steps `.github/workflows/release.yml` runs after
//! its build (bundle, archive, sums, Homebrew), run here on stand-ins for the
//! Apple-silicon build, and what a user unpacks checked: its layout, its
//! modes, its sums; and the cask and formula brought in step from the sums.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const APP: &str = "Osaurus Tray.app";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn write_executable(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// One entry of a zip's central directory.
#[derive(Debug)]
struct ZipEntry {
    name: String,
    /// The Unix mode (type and permissions), when made on Unix.
    unix_mode: Option<u32>,
}

/// Reads a zip's central directory, as unzip and Finder's Archive Utility
/// do: the modes a user gets are the ones recorded there.
fn zip_entries(bytes: &[u8]) -> Vec<ZipEntry> {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let end = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&at| bytes[at..at + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("no end of central directory: not a zip");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(bytes[at..at + 4], [0x50, 0x4b, 0x01, 0x02], "central directory entry at {at}");
        let made_on = bytes[at + 5];
        let (name_len, extra_len, comment_len) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        let attrs = u32_at(at + 38) as u32;
        let name = String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).expect("a UTF-8 name");
        entries.push(ZipEntry { name, unix_mode: (made_on == 3).then_some(attrs >> 16) });
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}

/// `tar -tvzf`: each entry's path and its mode string (`-rwxr-xr-x`).
fn tar_listing(archive: &Path) -> BTreeMap<String, String> {
    let out = ok(Command::new("tar").arg("-tvzf").arg(archive).output().unwrap(), "tar -tvzf");
    out.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let path = fields.last().unwrap().trim_end_matches('/').to_owned();
            (path, fields[0].to_owned())
        })
        .collect()
}

fn sha256_of(path: &Path) -> String {
    let out = if Command::new("sha256sum").arg("--version").output().is_ok() {
        Command::new("sha256sum").arg(path).output().unwrap()
    } else {
        Command::new("shasum").args(["-a", "256"]).arg(path).output().unwrap()
    };
    ok(out, "sha256").split_whitespace().next().unwrap().to_owned()
}

/// What the release workflow has after its build: the Apple-silicon build's
/// two executables under a target folder (stand-ins: the command line runs
/// the one under test, so its completions and man page are real), and a
/// `lipo` that must not be needed, as only Apple silicon is built.
struct Built {
    target: tempfile::TempDir,
    tools: tempfile::TempDir,
}

impl Built {
    fn new() -> Built {
        let target = tempfile::tempdir().unwrap();
        let tools = tempfile::tempdir().unwrap();
        let release = target.path().join("aarch64-apple-darwin/release");
        let real = env!("CARGO_BIN_EXE_osaurus-tray");
        write_executable(&release.join("osaurus-tray"), &format!("#!/bin/sh\nexec '{real}' \"$@\"\n"));
        write_executable(&release.join("osaurus-tray-app"), "#!/bin/sh\necho app\n");
        let called = tools.path().join("lipo-called");
        write_executable(&tools.path().join("lipo"), &format!("#!/bin/sh\ntouch '{}'\nexit 1\n", called.display()));
        Built { target, tools }
    }

    fn release(&self) -> PathBuf {
        self.target.path().join("aarch64-apple-darwin/release")
    }

    /// A script of the repository, run as the workflow runs it, with the
    /// target folder and the stand-in `lipo`.
    fn run(&self, script: &str, args: &[&Path]) -> Output {
        let path = std::env::join_paths(
            std::iter::once(self.tools.path().to_path_buf())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        Command::new(root().join(script))
            .args(args)
            .env("CARGO_TARGET_DIR", self.target.path())
            .env("PATH", path)
            .current_dir(root())
            .output()
            .unwrap()
    }
}

/// The workflow runs these very commands; a test that ran others would
/// check a release nobody makes.
#[test]
fn the_workflow_runs_the_steps_this_test_runs() {
    let workflow = fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    for step in [
        "cargo build --locked --release --target aarch64-apple-darwin",
        "scripts/bundle-macos.sh",
        "scripts/release-archive.sh app \"$APP\" dist",
        "scripts/release-archive.sh cli target/aarch64-apple-darwin/release aarch64-apple-darwin dist",
        "scripts/release-archive.sh cli target/release x86_64-unknown-linux-gnu dist",
        "scripts/release-archive.sh sums dist",
        "scripts/update-homebrew.py \"$VERSION\" dist/SHA256SUMS",
    ] {
        assert!(workflow.contains(step), "release.yml does not run `{step}`");
    }
}

#[test]
fn the_dry_run_makes_the_zip_a_mac_user_unpacks() {
    let built = Built::new();
    let dist = tempfile::tempdir().unwrap();

    let app = PathBuf::from(ok(built.run("scripts/bundle-macos.sh", &[]), "bundle-macos.sh").trim());
    assert!(!built.tools.path().join("lipo-called").exists(), "lipo ran for an Apple-silicon-only build");
    let zip = ok(built.run("scripts/release-archive.sh", &[Path::new("app"), &app, dist.path()]), "archive app");
    let zip = PathBuf::from(zip.trim());
    assert_eq!(zip, dist.path().join(format!("osaurus-tray-{VERSION}-macos.zip")));

    let entries = zip_entries(&fs::read(&zip).unwrap());
    let modes: BTreeMap<&str, u32> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.unix_mode.unwrap_or_else(|| panic!("{} has no Unix mode", e.name))))
        .collect();
    let want = [
        ("Contents/Info.plist", 0o100644),
        ("Contents/PkgInfo", 0o100644),
        ("Contents/MacOS/osaurus-tray", 0o100755),
        ("Contents/MacOS/osaurus-tray-app", 0o100755),
        ("Contents/Resources/AppIcon.icns", 0o100644),
    ];
    for (file, mode) in want {
        let name = format!("{APP}/{file}");
        let got = modes.get(name.as_str()).unwrap_or_else(|| panic!("the zip lacks {name}: {modes:?}"));
        assert_eq!(format!("{got:o}"), format!("{mode:o}"), "{name}'s mode");
    }
    for (name, mode) in &modes {
        // --keepParent: one folder, the app, and nothing beside it.
        assert!(name.starts_with(&format!("{APP}/")), "{name} is outside the app");
        assert!(!name.contains("__MACOSX") && !name.contains(".DS_Store"), "{name}");
        if name.ends_with('/') {
            assert_eq!(mode & 0o170777, 0o040755, "{name} is not a 0755 folder");
        }
    }
    if !cfg!(target_os = "macos") {
        // On macOS the ad hoc signature adds Contents/_CodeSignature.
        let dirs = ["", "Contents/", "Contents/MacOS/", "Contents/Resources/"];
        let expected: Vec<String> =
            dirs.iter().map(|d| format!("{APP}/{d}")).chain(want.iter().map(|(f, _)| format!("{APP}/{f}"))).collect();
        let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(modes.keys().copied().collect::<Vec<_>>(), expected, "the zip holds exactly the app");
    }

    // Unpacked, it is the app: the same bytes, a plist that names the
    // executable it holds.
    let unpacked = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])"])
        .arg(&zip)
        .arg(unpacked.path())
        .output()
        .expect("python3");
    ok(out, "unzip");
    for (file, _) in want {
        assert_eq!(
            fs::read(unpacked.path().join(APP).join(file)).unwrap(),
            fs::read(app.join(file)).unwrap(),
            "{file} unpacked"
        );
    }
    let plist = plist::Value::from_file(unpacked.path().join(APP).join("Contents/Info.plist")).unwrap();
    let plist = plist.as_dictionary().unwrap();
    let exe = plist.get("CFBundleExecutable").and_then(|v| v.as_string()).unwrap();
    assert!(unpacked.path().join(APP).join("Contents/MacOS").join(exe).is_file(), "{exe}");
    assert_eq!(plist.get("CFBundleShortVersionString").and_then(|v| v.as_string()), Some(VERSION));
}

/// Without a Developer ID (no secrets: forks, or before the project has
/// one) the signing step keeps the ad hoc app as it is and says `adhoc`,
/// which the release notes turn into the Gatekeeper instructions.
#[test]
fn without_a_developer_id_the_signing_step_leaves_the_app_ad_hoc() {
    let built = Built::new();
    let app = PathBuf::from(ok(built.run("scripts/bundle-macos.sh", &[]), "bundle-macos.sh").trim());
    let exe = app.join("Contents/MacOS/osaurus-tray");
    let before = fs::read(&exe).unwrap();
    let out = Command::new(root().join("scripts/sign-macos.sh"))
        .arg(&app)
        .arg(built.release().join("osaurus-tray"))
        .env("MACOS_SIGNING_IDENTITY", "")
        .output()
        .unwrap();
    assert_eq!(ok(out, "sign-macos.sh"), "adhoc\n");
    assert_eq!(fs::read(&exe).unwrap(), before, "the executable changed");
    let workflow = fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(workflow.contains("if [[ $SIGNATURE == notarized ]]"), "the notes key on the script's answer");

    // Off a Mac a Developer ID cannot be used: refused in a sentence.
    if !cfg!(target_os = "macos") {
        let out = Command::new(root().join("scripts/sign-macos.sh"))
            .arg(&app)
            .env("MACOS_SIGNING_IDENTITY", "Developer ID Application: Nobody (0000000000)")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs macOS"));
    }
}

/// Checks a command-line tarball: one folder named like the archive, the
/// executables 0755, everything else 0644 (folders 0755), completions and
/// the man page made by the command line itself, and it runs unpacked.
fn check_cli_tarball(archive: &Path, target: &str, extra: &[&str]) {
    let top = format!("osaurus-tray-{VERSION}-{target}");
    assert_eq!(archive.file_name().unwrap().to_str().unwrap(), format!("{top}.tar.gz"));
    let listing = tar_listing(archive);
    let mut want: BTreeMap<String, &str> = BTreeMap::new();
    for exe in ["osaurus-tray", "osaurus-tray-app"] {
        want.insert(format!("{top}/{exe}"), "-rwxr-xr-x");
    }
    for file in ["README.md", "LICENSE", "completions/osaurus-tray.bash", "completions/_osaurus-tray"]
        .iter()
        .chain(&["completions/osaurus-tray.fish", "man/osaurus-tray.1"])
        .chain(extra)
    {
        want.insert(format!("{top}/{file}"), "-rw-r--r--");
    }
    for (path, mode) in &want {
        assert_eq!(listing.get(path).map(String::as_str), Some(*mode), "{path} in {listing:?}");
    }
    for (path, mode) in &listing {
        assert!(path == &top || path.starts_with(&format!("{top}/")), "{path} is outside {top}/");
        if !want.contains_key(path) {
            assert_eq!(mode, "drwxr-xr-x", "{path} is neither a file we ship nor a 0755 folder");
        }
    }

    let unpacked = tempfile::tempdir().unwrap();
    ok(Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(unpacked.path()).output().unwrap(), "tar -xzf");
    let dir = unpacked.path().join(&top);
    assert_eq!(mode(&dir.join("osaurus-tray")), 0o755);
    let version = ok(Command::new(dir.join("osaurus-tray")).arg("--version").output().unwrap(), "--version");
    assert!(version.starts_with(&format!("osaurus-tray {VERSION}")), "{version}");
    let man = fs::read_to_string(dir.join("man/osaurus-tray.1")).unwrap();
    assert!(man.contains(".TH osaurus-tray 1"), "{man}");
    let bash = fs::read_to_string(dir.join("completions/osaurus-tray.bash")).unwrap();
    assert!(bash.contains("complete") && bash.contains("prune"), "bash completions");
    assert_eq!(fs::read(dir.join("LICENSE")).unwrap(), fs::read(root().join("LICENSE")).unwrap());
}

#[test]
fn the_dry_run_makes_the_command_line_tarballs_and_their_sums() {
    let built = Built::new();
    let dist = tempfile::tempdir().unwrap();
    let archive = |bindir: &Path, target: &str| {
        let out = built.run("scripts/release-archive.sh", &[Path::new("cli"), bindir, Path::new(target), dist.path()]);
        PathBuf::from(ok(out, "archive cli").trim())
    };
    let mac = archive(&built.release(), "aarch64-apple-darwin");
    check_cli_tarball(&mac, "aarch64-apple-darwin", &[]);
    // The Linux build's own executables, the desktop entry and icons beside.
    let linux = archive(&built.release(), "x86_64-unknown-linux-gnu");
    check_cli_tarball(
        &linux,
        "x86_64-unknown-linux-gnu",
        &[
            "share/applications/osaurus-tray.desktop",
            "share/icons/hicolor/256x256/apps/osaurus-tray.png",
            "share/icons/hicolor/128x128/apps/osaurus-tray.png",
        ],
    );
    assert!(!tar_listing(&mac).keys().any(|p| p.contains("/share/")), "the Mac tarball has Linux desktop files");

    let sums =
        PathBuf::from(ok(built.run("scripts/release-archive.sh", &[Path::new("sums"), dist.path()]), "sums").trim());
    assert_eq!(sums, dist.path().join("SHA256SUMS"));
    let text = fs::read_to_string(&sums).unwrap();
    let listed: BTreeMap<&str, &str> = text.lines().map(|l| l.split_once("  ").map(|(h, n)| (n, h)).unwrap()).collect();
    assert_eq!(listed.len(), 2, "{text}");
    for file in [&mac, &linux] {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert_eq!(listed.get(name).copied(), Some(sha256_of(file).as_str()), "{name}'s sum");
    }

    // Bad input is refused in a sentence, leaving nothing half-written.
    let out = built
        .run("scripts/release-archive.sh", &[Path::new("cli"), Path::new("/nonexistent"), Path::new("x"), dist.path()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no executable"), "{}", String::from_utf8_lossy(&out.stderr));
    let empty = tempfile::tempdir().unwrap();
    let out = built.run("scripts/release-archive.sh", &[Path::new("sums"), empty.path()]);
    assert!(!out.status.success() && !empty.path().join("SHA256SUMS").exists(), "sums of nothing");
}

// --- Homebrew ---------------------------------------------------------

const CASK: &str = "Casks/osaurus-tray.rb";
const FORMULA: &str = "Formula/osaurus-tray.rb";

/// Copies of the cask and formula in a temporary tap, and a sums file.
struct Tap {
    dir: tempfile::TempDir,
}

impl Tap {
    fn new(sums: &str) -> Tap {
        let dir = tempfile::tempdir().unwrap();
        for file in [CASK, FORMULA] {
            fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
            fs::copy(root().join(file), dir.path().join(file)).unwrap();
        }
        fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
        Tap { dir }
    }

    fn update(&self, version: &str) -> Output {
        Command::new(root().join("scripts/update-homebrew.py"))
            .arg(version)
            .arg(self.dir.path().join("SHA256SUMS"))
            .arg(self.dir.path().join(CASK))
            .arg(self.dir.path().join(FORMULA))
            .output()
            .expect("python3")
    }

    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.dir.path().join(file)).unwrap()
    }
}

fn fake_sums(version: &str) -> (String, [String; 3]) {
    let sums = ["a".repeat(64), "b".repeat(64), "c".repeat(64)];
    let text = format!(
        "{}  osaurus-tray-{version}-macos.zip\n{}  osaurus-tray-{version}-aarch64-apple-darwin.tar.gz\n{} *osaurus-tray-{version}-x86_64-unknown-linux-gnu.tar.gz\n",
        sums[0],
        sums[1],
        sums[2].to_uppercase()
    );
    (text, sums)
}

/// The lines of `after` that differ from `before` (same line count).
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    assert_eq!(before.lines().count(), after.lines().count(), "lines were added or removed");
    before.lines().zip(after.lines()).filter(|(b, a)| b != a).map(|(_, a)| a.trim().to_owned()).collect()
}

#[test]
fn the_homebrew_files_follow_a_release_from_its_sums() {
    let (sums, [zip, mac, linux]) = fake_sums("1.2.3");
    let tap = Tap::new(&sums);
    let out = tap.update("v1.2.3");
    ok(out, "update-homebrew.py");

    let releases = "https://github.com/osaurus-tray/osaurus-tray/releases/download";
    assert_eq!(
        changed_lines(&fs::read_to_string(root().join(CASK)).unwrap(), &tap.read(CASK)),
        [r#"version "1.2.3""#.to_owned(), format!(r#"sha256 "{zip}""#)],
        "the cask: its version and its zip's sum, nothing else"
    );
    assert!(tap.read(CASK).contains(&format!(r#"url "{releases}/v#{{version}}/osaurus-tray-#{{version}}-macos.zip""#)));
    assert_eq!(
        changed_lines(&fs::read_to_string(root().join(FORMULA)).unwrap(), &tap.read(FORMULA)),
        [
            format!(r#"url "{releases}/v1.2.3/osaurus-tray-1.2.3-aarch64-apple-darwin.tar.gz""#),
            format!(r#"sha256 "{mac}""#),
            format!(r#"url "{releases}/v1.2.3/osaurus-tray-1.2.3-x86_64-unknown-linux-gnu.tar.gz""#),
            format!(r#"sha256 "{linux}""#),
        ],
        "the formula: each url's version and its own sum, nothing else"
    );

    // Again with the same release: nothing changes.
    let (cask, formula) = (tap.read(CASK), tap.read(FORMULA));
    ok(tap.update("1.2.3"), "update-homebrew.py again");
    assert_eq!((tap.read(CASK), tap.read(FORMULA)), (cask, formula));
    ruby_syntax_ok(&tap.dir.path().join(CASK));
    ruby_syntax_ok(&tap.dir.path().join(FORMULA));
}

#[test]
fn the_homebrew_update_refuses_sums_that_do_not_fit_and_writes_nothing() {
    let (sums, _) = fake_sums("1.2.3");
    let missing_linux: String = sums.lines().take(2).map(|l| format!("{l}\n")).collect();
    for (sums, version, says) in [
        (
            missing_linux.as_str(),
            "1.2.3",
            "osaurus-tray-1.2.3-x86_64-unknown-linux-gnu.tar.gz, which the sums do not list",
        ),
        (sums.as_str(), "1.2.4", "osaurus-tray-1.2.4-macos.zip, which the sums do not list"),
        ("not a sum\n", "1.2.3", "line 1 of the sums"),
        ("", "1.2.3", "the sums file is empty"),
        (sums.as_str(), "latest", "is not a version"),
    ] {
        let tap = Tap::new(sums);
        let out = tap.update(version);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{version} with {sums:?}: {err}");
        assert!(err.contains(says), "{version} with {sums:?}: {err}");
        // The cask is fine in the first case; it is still not written alone.
        assert_eq!(tap.read(CASK), fs::read_to_string(root().join(CASK)).unwrap(), "{says}: the cask was written");
        assert_eq!(tap.read(FORMULA), fs::read_to_string(root().join(FORMULA)).unwrap(), "{says}");
    }

    // A url that is not this project's release download is refused.
    let tap = Tap::new(&sums);
    let cask = tap.read(CASK).replace("https://github.com/osaurus-tray/", "https://example.com/");
    fs::write(tap.dir.path().join(CASK), cask).unwrap();
    let out = tap.update("1.2.3");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a download of this project's release"));
}

#[test]
fn the_committed_cask_and_formula_download_this_projects_releases() {
    let releases = "https://github.com/osaurus-tray/osaurus-tray/releases/download/v";
    for file in [CASK, FORMULA] {
        let text = fs::read_to_string(root().join(file)).unwrap();
        let urls: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("url \"")).collect();
        assert!(!urls.is_empty(), "{file} has no url");
        for url in urls {
            assert!(url.starts_with(releases), "{file}: {url}");
        }
        assert!(text.contains("homepage \"https://github.com/osaurus-tray/osaurus-tray\""), "{file}");
        ruby_syntax_ok(&root().join(file));
    }
    let cask = fs::read_to_string(root().join(CASK)).unwrap();
    assert!(cask.contains(&format!("app \"{APP}\"")), "the cask installs the app the bundle script names");
    assert!(cask.contains("depends_on arch: :arm64"), "the release is built for Apple silicon only");
}

/// `ruby -c`: the file parses. CI installs ruby (OSAURUS_TRAY_RUBY_REQUIRED=1);
/// elsewhere its absence skips the check with a message.
fn ruby_syntax_ok(file: &Path) {
    match Command::new("ruby").arg("-c").arg(file).output() {
        Ok(out) => assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr)),
        Err(e) if std::env::var_os("OSAURUS_TRAY_RUBY_REQUIRED").is_some() => panic!("ruby is required: {e}"),
        Err(_) => eprintln!("SKIPPED: ruby -c {} (ruby is not installed)", file.display()),
    }
}
