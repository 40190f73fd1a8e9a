//! The desktop bundles: `scripts/bundle-macos.sh` assembles a well-formed
//! "Osaurus Tray.app" (run here around the binary under test, on any Unix),
//! the Linux desktop entry names the binary and the icon, and the committed
//! icons are exactly what `examples/make_app_icons.rs` draws.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)]
#[path = "../examples/make_app_icons.rs"]
mod make_app_icons;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Decodes an 8-bit RGBA PNG into (width, height, pixels).
fn decode_png(bytes: &[u8], what: &str) -> (u32, u32, Vec<u8>) {
    let mut reader =
        png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap_or_else(|e| panic!("{what}: not a PNG: {e}"));
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(info.color_type, png::ColorType::Rgba, "{what}");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{what}");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Splits an ICNS file into its entries, checking the container framing.
fn icns_entries(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    assert!(bytes.len() >= 8, "icns shorter than its header");
    assert_eq!(&bytes[..4], b"icns", "icns magic");
    let total = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(total, bytes.len(), "icns length field vs file size");
    let mut entries = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        assert!(at + 8 <= bytes.len(), "truncated entry header at {at}");
        let ty: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        let len = u32::from_be_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        assert!(
            len >= 8 && at + len <= bytes.len(),
            "bad length {len} of entry {} at {at}",
            String::from_utf8_lossy(&ty)
        );
        entries.push((ty, &bytes[at + 8..at + len]));
        at += len;
    }
    entries
}

/// Parses a property list as macOS does (XML or binary), into its
/// top-level dictionary.
fn read_plist(path: &Path) -> plist::Dictionary {
    let value =
        plist::Value::from_file(path).unwrap_or_else(|e| panic!("{} is not a property list: {e}", path.display()));
    value.into_dictionary().unwrap_or_else(|| panic!("{} is not a dictionary at the top", path.display()))
}

fn run_bundle_script(args: &[&Path]) -> std::process::Output {
    Command::new(root().join("scripts/bundle-macos.sh"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run scripts/bundle-macos.sh")
}

#[test]
fn bundle_script_assembles_a_well_formed_app() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_osaurus-tray"));
    let out_dir = tempfile::tempdir().unwrap();
    let out = run_bundle_script(&[&binary, out_dir.path()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bundle-macos.sh failed: {stderr}");

    let app = out_dir.path().join("Osaurus Tray.app");
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        fs::canonicalize(printed.trim()).unwrap(),
        fs::canonicalize(&app).unwrap(),
        "the script prints the app's path"
    );
    let contents = app.join("Contents");

    let app_binary = PathBuf::from(env!("CARGO_BIN_EXE_osaurus-tray-app"));
    for (name, built) in [("osaurus-tray", &binary), ("osaurus-tray-app", &app_binary)] {
        let exe = contents.join("MacOS").join(name);
        let meta = fs::metadata(&exe).unwrap_or_else(|e| panic!("Contents/MacOS/{name}: {e}"));
        assert!(meta.is_file());
        assert_eq!(format!("{:o}", meta.permissions().mode() & 0o777), "755", "{name}'s mode");
        if cfg!(target_os = "macos") {
            // There the script signs the executables, which rewrites them.
            continue;
        }
        assert_eq!(meta.len(), fs::metadata(built).unwrap().len(), "{name} copied whole");
    }
    if cfg!(target_os = "macos") {
        let out = Command::new("codesign").args(["--verify", "--strict", "--verbose=2"]).arg(&app).output().unwrap();
        assert!(out.status.success(), "the signature does not verify: {}", String::from_utf8_lossy(&out.stderr));
    }

    assert_eq!(fs::read(contents.join("PkgInfo")).unwrap(), b"APPL????");

    let icns = fs::read(contents.join("Resources/AppIcon.icns")).expect("AppIcon.icns");
    let entries = icns_entries(&icns);
    assert!(
        entries.iter().any(|(ty, _)| ty == b"ic10" || ty == b"ic09"),
        "AppIcon.icns lacks a 512 px or 1024 px entry"
    );
    assert_eq!(icns, fs::read(root().join("bundle/macos/AppIcon.icns")).unwrap());

    let plist_path = contents.join("Info.plist");
    let text = fs::read_to_string(&plist_path).unwrap();
    assert!(!text.contains("@VERSION@"), "placeholder left in Info.plist");
    check_info_plist(&read_plist(&plist_path), &contents);
}

/// Every key a menu-bar-only app needs, with the values this bundle must
/// have; files the plist names must exist in `contents`.
fn check_info_plist(plist: &plist::Dictionary, contents: &Path) {
    let key = |k: &str| plist.get(k).unwrap_or_else(|| panic!("Info.plist lacks {k}"));
    let string = |k: &str| key(k).as_string().unwrap_or_else(|| panic!("{k} is not a string: {:?}", key(k)));
    let boolean = |k: &str| key(k).as_boolean().unwrap_or_else(|| panic!("{k} is not a boolean: {:?}", key(k)));

    assert!(boolean("LSUIElement"), "LSUIElement: the app lives in the menu bar, without a Dock icon");
    let id = string("CFBundleIdentifier");
    assert!(!id.starts_with("com.dinoki"), "identifier {id} is Osaurus's");
    assert_eq!(id, osaurus_tray::autostart::AGENT_LABEL, "the bundle id is the login item's and notifications' id");
    assert_eq!(string("CFBundleExecutable"), "osaurus-tray-app", "the bundle starts the app directly");
    assert!(contents.join("MacOS").join(string("CFBundleExecutable")).is_file(), "CFBundleExecutable is missing");
    assert_eq!(string("CFBundlePackageType"), "APPL");
    assert_eq!(string("CFBundleInfoDictionaryVersion"), "6.0");
    assert_eq!(string("CFBundleName"), "Osaurus Tray");
    assert_eq!(string("CFBundleDisplayName"), "Osaurus Tray");
    assert!(!string("CFBundleDevelopmentRegion").is_empty());

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(string("CFBundleShortVersionString"), version, "the version is Cargo.toml's");
    assert_eq!(string("CFBundleVersion"), version, "the build version is Cargo.toml's");

    let minimum = string("LSMinimumSystemVersion");
    let parts: Vec<u32> =
        minimum.split('.').map(|p| p.parse().unwrap_or_else(|_| panic!("LSMinimumSystemVersion {minimum}"))).collect();
    assert!((2..=3).contains(&parts.len()) && parts[0] >= 11, "LSMinimumSystemVersion {minimum}");

    let icon = string("CFBundleIconFile");
    assert_eq!(icon, "AppIcon");
    assert!(contents.join("Resources").join(format!("{icon}.icns")).is_file(), "the icon file is missing");
    assert!(boolean("NSHighResolutionCapable"), "NSHighResolutionCapable: sharp on Retina screens");
    // macOS 15 asks the user before the LAN check reaches this Mac's own
    // network address, showing this text; without it the check is refused.
    let why = string("NSLocalNetworkUsageDescription");
    assert!(why.contains("Osaurus") && why.contains("local network"), "NSLocalNetworkUsageDescription: {why}");
    let copyright = string("NSHumanReadableCopyright");
    assert!(copyright.contains("Copyright") && copyright.contains("MIT"), "NSHumanReadableCopyright: {copyright}");
}

#[test]
fn info_plist_check_rejects_a_plist_missing_what_a_menu_bar_app_needs() {
    let out_dir = tempfile::tempdir().unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_osaurus-tray"));
    let out = run_bundle_script(&[&binary, out_dir.path()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let contents = out_dir.path().join("Osaurus Tray.app/Contents");
    let good = read_plist(&contents.join("Info.plist"));
    for (k, bad) in [
        ("LSUIElement", None),
        ("LSUIElement", Some(plist::Value::Boolean(false))),
        ("CFBundleExecutable", Some(plist::Value::String("osaurus-tray".into()))),
        ("CFBundleIdentifier", None),
        ("CFBundleVersion", Some(plist::Value::String("0.0.0".into()))),
        ("NSHighResolutionCapable", None),
        ("NSLocalNetworkUsageDescription", None),
        ("NSLocalNetworkUsageDescription", Some(plist::Value::String(String::new()))),
    ] {
        let mut plist = good.clone();
        match bad {
            Some(v) => plist.insert(k.into(), v),
            None => plist.remove(k),
        };
        let caught = std::panic::catch_unwind(|| check_info_plist(&plist, &contents)).is_err();
        assert!(caught, "a plist with {k} changed passed the check");
    }
    // A binary plist (what Xcode writes) is read the same way.
    let binary_plist = out_dir.path().join("Info.binary.plist");
    plist::Value::Dictionary(good.clone()).to_file_binary(&binary_plist).unwrap();
    check_info_plist(&read_plist(&binary_plist), &contents);
}

#[test]
fn bundle_script_rebuilds_over_an_old_app_and_refuses_a_missing_binary() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_osaurus-tray"));
    let out_dir = tempfile::tempdir().unwrap();
    let stale = out_dir.path().join("Osaurus Tray.app/Contents/MacOS/stale");
    fs::create_dir_all(stale.parent().unwrap()).unwrap();
    fs::write(&stale, b"old").unwrap();
    let out = run_bundle_script(&[&binary, out_dir.path()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stale.exists(), "a previous app's files are left behind");

    let missing = out_dir.path().join("no-such-binary");
    let out = run_bundle_script(&[&missing, out_dir.path()]);
    assert!(!out.status.success(), "succeeded without a binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no binary at"), "unclear message: {stderr}");
    assert!(
        out_dir.path().join("Osaurus Tray.app/Contents/MacOS/osaurus-tray").exists(),
        "a failed run removed the previous app"
    );
}

/// Writes an executable file.
#[cfg(not(target_os = "macos"))]
fn write_executable(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Not on macOS, where the script would sign these stand-in builds and where
/// the workflow bundles two real builds with the real `lipo`.
#[cfg(not(target_os = "macos"))]
#[test]
fn with_both_architectures_built_the_script_joins_them_with_lipo() {
    // Builds for both Mac targets under CARGO_TARGET_DIR, and a `lipo` that
    // writes what it was asked to join: on Linux there is no real one.
    let target = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let builds = ["aarch64-apple-darwin", "x86_64-apple-darwin"].map(|t| target.path().join(t).join("release"));
    for dir in &builds {
        for exe in ["osaurus-tray", "osaurus-tray-app"] {
            write_executable(&dir.join(exe), "build");
        }
    }
    write_executable(
        &tools.path().join("lipo"),
        "#!/bin/sh\n[ \"$1\" = -create ] && [ \"$2\" = -output ] || exit 2\nout=$3; shift 3\nprintf fat > \"$out\"\nfor f; do printf ' %s' \"$f\" >> \"$out\"; done\n",
    );
    let bundle = |path: &std::ffi::OsStr| {
        Command::new(root().join("scripts/bundle-macos.sh"))
            .env("CARGO_TARGET_DIR", target.path())
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let path = std::env::join_paths([tools.path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    let out = bundle(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("universal"), "{}", String::from_utf8_lossy(&out.stderr));
    let contents = target.path().join("bundle/Osaurus Tray.app/Contents");
    for exe in ["osaurus-tray", "osaurus-tray-app"] {
        let joined = fs::read_to_string(contents.join("MacOS").join(exe)).unwrap();
        let want = format!("fat {} {}", builds[0].join(exe).display(), builds[1].join(exe).display());
        assert_eq!(joined, want, "{exe}: both architectures joined");
        let mode = fs::metadata(contents.join("MacOS").join(exe)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{exe}'s mode");
    }

    // Without lipo, a half-universal app is refused, in a sentence.
    let out = bundle(std::ffi::OsStr::new("/usr/bin:/bin"));
    assert!(!out.status.success(), "bundled both architectures without lipo");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lipo is missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn desktop_entry_names_the_binary_and_icon_and_the_icons_exist() {
    let path = root().join("bundle/linux/osaurus-tray.desktop");
    let text = fs::read_to_string(&path).expect("osaurus-tray.desktop");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    assert_eq!(lines.next(), Some("[Desktop Entry]"));
    let entry: BTreeMap<&str, &str> =
        lines.map(|l| l.split_once('=').unwrap_or_else(|| panic!("not key=value: {l}"))).collect();
    for (k, v) in [
        ("Type", "Application"),
        ("Name", "Osaurus Tray"),
        ("Exec", "osaurus-tray-app"),
        ("Icon", "osaurus-tray"),
        ("Terminal", "false"),
    ] {
        assert_eq!(entry.get(k), Some(&v), "{k}");
    }

    for (file, size) in [("osaurus-tray.png", 256), ("osaurus-tray-128.png", 128)] {
        let path = root().join("bundle/linux").join(file);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (w, h, _) = decode_png(&bytes, file);
        assert_eq!((w, h), (size, size), "{file}");
    }
}

#[test]
fn committed_icons_are_what_make_app_icons_draws() {
    use make_app_icons::{app_icon, ICNS_ENTRIES};

    let icns = fs::read(root().join("bundle/macos/AppIcon.icns")).unwrap();
    let entries = icns_entries(&icns);
    let types: Vec<[u8; 4]> = entries.iter().map(|(ty, _)| *ty).collect();
    let expected: Vec<[u8; 4]> = ICNS_ENTRIES.iter().map(|(ty, _)| **ty).collect();
    assert_eq!(types, expected, "AppIcon.icns entries");

    let mut drawn: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for ((ty, data), (_, size)) in entries.iter().zip(ICNS_ENTRIES) {
        let what = format!("AppIcon.icns {}", String::from_utf8_lossy(ty));
        let (w, h, pixels) = decode_png(data, &what);
        assert_eq!((w, h), (size, size), "{what}");
        let want = drawn.entry(size).or_insert_with(|| app_icon(size));
        assert!(&pixels == want, "{what} differs from make_app_icons (run: cargo run --example make_app_icons)");
    }
    for (file, size) in [("osaurus-tray.png", 256), ("osaurus-tray-128.png", 128)] {
        let (_, _, pixels) = decode_png(&fs::read(root().join("bundle/linux").join(file)).unwrap(), file);
        assert!(pixels == drawn[&size], "bundle/linux/{file} differs from make_app_icons");
    }
}

#[test]
fn the_app_icon_is_a_light_disc_on_a_dark_rounded_square() {
    let size = 128;
    let px = make_app_icons::app_icon(size);
    let at = |x: u32, y: u32| -> [u8; 4] {
        let i = ((y * size + x) * 4) as usize;
        px[i..i + 4].try_into().unwrap()
    };
    assert_eq!(at(0, 0)[3], 0, "corners are transparent");
    assert_eq!(at(size - 1, size - 1)[3], 0, "corners are transparent");
    assert_eq!(at(size / 2, size / 2), [0xE8, 0xE8, 0xE8, 255], "the disc");
    let bg = at(size / 2, 20);
    assert_eq!(bg[3], 255, "the square is opaque");
    assert!(bg[..3].iter().all(|&c| c < 0x60), "the square is dark: {bg:?}");
    // The rounded corner: the square's bounding-box corner pixel is clear.
    assert_eq!(at(13, 13)[3], 0, "the square's corners are rounded");
}

/// Runs scripts/smoke-app.sh for 1 s on an app whose menu-bar executable
/// writes `stderr_line` and stays up; the command line is the real one.
fn smoke_with_app_saying(stderr_line: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let macos = dir.path().join("Osaurus Tray.app/Contents/MacOS");
    fs::create_dir_all(&macos).unwrap();
    fs::copy(env!("CARGO_BIN_EXE_osaurus-tray"), macos.join("osaurus-tray")).unwrap();
    let app = macos.join("osaurus-tray-app");
    fs::write(&app, format!("#!/bin/sh\nprintf '%s\\n' '{stderr_line}' >&2\nexec sleep 30\n")).unwrap();
    fs::set_permissions(&app, fs::Permissions::from_mode(0o755)).unwrap();
    Command::new("bash")
        .arg(root().join("scripts/smoke-app.sh"))
        .arg(dir.path().join("Osaurus Tray.app"))
        .arg("1")
        .output()
        .unwrap()
}

#[test]
fn the_smoke_test_fails_on_the_apps_own_errors_and_panics_only() {
    let appkit = "2026-01-01 12:00:00.000 osaurus-tray-app[42:4242] +[IMKClient subclass]: chose IMKClient_Modern";
    let out = smoke_with_app_saying(appkit);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a system log line failed the smoke test: {stderr}");
    assert!(stderr.contains("IMKClient"), "the system's line is shown: {stderr}");
    for ours in ["osaurus-tray: cannot create the tray icon: no", "thread 'main' panicked at src/app/tray/mod.rs:1:1:"]
    {
        let out = smoke_with_app_saying(ours);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the smoke test passed an app that said {ours:?}: {stderr}");
        assert!(stderr.contains("reported an error"), "{stderr}");
    }
}
