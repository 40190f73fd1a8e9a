//! Names the commit `osaurus-tray --version` was built from, when it is
//! built from a git checkout: `osaurus-tray 0.1.0 (5f54ca8)`. Built from a
//! crates.io package (no `.git`), without git, or from anything git does not
//! answer for, the version is the package's alone, silently.
//!
//! tests/ship.rs runs these functions too (`#[path = "../build.rs"]`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let commit = built_from(&dir);
    // Once any rerun-if-changed is given, cargo reruns this script only for
    // those: a commit or a checkout moves HEAD or the branch it points to.
    println!("cargo:rerun-if-changed=build.rs");
    for path in &commit.watch {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=OSAURUS_TRAY_VERSION={}", version_line(&version, commit.hash.as_deref()));
}

/// The commit a checkout is at, and the files that change when it moves.
#[derive(Debug, Default)]
pub struct BuiltFrom {
    /// `git rev-parse --short HEAD`, when that is a commit id.
    pub hash: Option<String>,
    /// HEAD, and the branch file it points to (or packed-refs when the branch
    /// has no file of its own).
    pub watch: Vec<PathBuf>,
}

/// What `--version` prints after the program's name.
pub fn version_line(version: &str, hash: Option<&str>) -> String {
    match hash {
        Some(hash) => format!("{version} ({hash})"),
        None => version.to_owned(),
    }
}

/// A short or full commit id, as `git rev-parse` prints one.
pub fn is_commit_hash(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit `dir` is checked out at. Only a `.git` in `dir` itself counts:
/// a package unpacked inside some other repository is not that repository's.
pub fn built_from(dir: &Path) -> BuiltFrom {
    if !dir.join(".git").exists() {
        return BuiltFrom::default();
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        out.status.success().then(|| text.trim().to_owned()).filter(|t| !t.is_empty())
    };
    // `--git-path` answers for a linked worktree too, whose .git is a file.
    let git_path = |name: &str| git(&["rev-parse", "--git-path", name]).map(|p| dir.join(p));

    let hash = git(&["rev-parse", "--short", "HEAD"]).filter(|h| is_commit_hash(h));
    let mut watch: Vec<PathBuf> = git_path("HEAD").into_iter().collect();
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        match git_path(&branch) {
            Some(file) if file.is_file() => watch.push(file),
            _ => watch.extend(git_path("packed-refs").filter(|p| p.is_file())),
        }
    }
    // A path that does not exist would make cargo rerun the script every time.
    watch.retain(|p| p.exists());
    BuiltFrom { hash, watch }
}
