//! The pure and near-pure rules of the watches: where a recursive stream
//! may watch ([`watch_ceiling`]), how a resolved path reads from the base
//! ([`spellings`]), what the stat poll looks at ([`look`]), the links on the
//! way to a base, and which refusals are no reason to poll.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

/// What the stat poll looks at for one base: its deepest existing ancestor
/// (or itself), where that resolves to, and which file it is with which mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Look {
    pub(super) at: Option<PathBuf>,
    pub(super) real: Option<PathBuf>,
    pub(super) file: Option<(u64, u64, u32)>,
}

/// Whether a watch was refused for want of permission (a folder that
/// cannot be read for a while): no reason to poll.
pub(super) fn denied(e: &notify::Error) -> bool {
    matches!(&e.kind, notify::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied)
}

/// The stat poll's look at `base`.
pub(super) fn look(base: &Path) -> Look {
    use std::os::unix::fs::MetadataExt;
    let found = base.ancestors().find_map(|p| fs::metadata(p).ok().map(|m| (p, m)));
    match found {
        Some((at, m)) => Look {
            at: Some(at.to_path_buf()),
            real: fs::canonicalize(at).ok(),
            file: Some((m.dev(), m.ino(), m.mode())),
        },
        None => Look { at: None, real: None, file: None },
    }
}

/// The symbolic links among `base` and its ancestors, as spelled from it.
/// Repointing one moves the base without an event inside what is watched.
pub(super) fn links_on_the_way(base: &Path) -> Vec<PathBuf> {
    base.ancestors()
        .filter(|p| p.parent().is_some() && fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()))
        .map(Path::to_path_buf)
        .collect()
}

/// The highest folder a recursive (FSEvents) stream may watch for `base`:
/// never above the first folder Osaurus itself creates. Under the home
/// folder, `~/Library/Application Support` or `~/Library`, that is the
/// first folder below them (`~/.osaurus`, `…/com.dinoki.osaurus`); a base
/// that is one of them is its own ceiling; elsewhere (a folder named with
/// `--runtime-dir`), the base's parent.
pub(crate) fn watch_ceiling(base: &Path, home: Option<&Path>) -> PathBuf {
    if let Some(home) = home {
        let roots = [home.join("Library/Application Support"), home.join("Library"), home.to_path_buf()];
        for root in &roots {
            if let Ok(rest) = base.strip_prefix(root) {
                return match rest.components().next() {
                    Some(first) => root.join(first),
                    None => base.to_path_buf(),
                };
            }
        }
    }
    base.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(base).to_path_buf()
}

/// `path` as reported, then as spelled from the base for each watched
/// folder it lies under in its resolved form (`spelled`: resolved, spelled
/// pairs). FSEvents reports resolved paths (`/private/var/…` for
/// `/var/…`, a linked `~/.osaurus` resolved); the base is compared with all.
pub(crate) fn spellings<'a>(path: &'a Path, spelled: &'a [(PathBuf, PathBuf)]) -> impl Iterator<Item = Cow<'a, Path>> {
    let mapped = spelled.iter().filter_map(move |(resolved, given)| {
        let rest = path.strip_prefix(resolved).ok()?;
        Some(Cow::Owned(if rest.as_os_str().is_empty() { given.clone() } else { given.join(rest) }))
    });
    std::iter::once(Cow::Borrowed(path)).chain(mapped)
}

/// The closest ancestor of `path` that exists (not `path` itself).
pub(super) fn nearest_existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|p| p.is_dir()).map(Path::to_path_buf)
}
