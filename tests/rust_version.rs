//! The Rust version the project declares (`rust-version` in both
//! Cargo.toml files, and the README) is at least what every locked
//! dependency declares, for every platform: `cargo metadata` without
//! `--filter-platform` lists the macOS and Linux dependencies alike.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `1.91` or `1.91.0` as numbers; a missing part is 0.
fn version(text: &str) -> Vec<u64> {
    let mut parts: Vec<u64> =
        text.split('.').map(|p| p.parse().unwrap_or_else(|_| panic!("not a Rust version: {text}"))).collect();
    parts.resize(3, 0);
    parts
}

/// The packages of `metadata` that need a newer Rust than `declared`, as
/// "name version (needs Rust X)".
fn needing_more_than(metadata: &Value, declared: &str) -> Vec<String> {
    let declared = version(declared);
    let mut over: Vec<String> = metadata["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > declared).then(|| format!("{} {} (needs Rust {needs})", p["name"], p["version"]))
        })
        .collect();
    over.sort();
    over
}

fn metadata() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn the_declared_rust_version_covers_every_locked_dependency_on_every_platform() {
    let metadata = metadata();
    let declared = env!("CARGO_PKG_RUST_VERSION");
    let over = needing_more_than(&metadata, declared);
    assert!(over.is_empty(), "rust-version {declared} is too old for: {}", over.join(", "));

    // The check sees the dependencies of both platforms, and can fail:
    // tray-icon and muda (both) and the macOS-only objc2 crates are listed.
    let names: Vec<&str> = metadata["packages"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["tray-icon", "muda", "gtk", "objc2", "objc2-user-notifications", "notify-types"] {
        assert!(names.contains(&name), "cargo metadata does not list {name}");
    }
    assert!(!needing_more_than(&metadata, "1.85").is_empty(), "nothing locked needs more than Rust 1.85");

    // Every workspace member and the README say the same.
    for member in metadata["workspace_members"].as_array().unwrap() {
        let p = metadata["packages"].as_array().unwrap().iter().find(|p| &p["id"] == member).unwrap();
        assert_eq!(p["rust_version"].as_str(), Some(declared), "{}'s rust-version", p["name"]);
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(&format!("with Rust {declared} or newer")), "the README names another Rust version");
}
