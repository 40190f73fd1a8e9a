//! Reading every instance folder of every runtime folder.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::instance::Instance;
use super::read::{io_reason, read_listed_folder};
use super::runtime_dir::RuntimeDirs;

/// Everything found in the runtime folders, not yet ordered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// One entry per instance id; the first runtime folder wins.
    pub instances: Vec<Instance>,
    /// Problems with the runtime folders themselves (not a folder, unreadable).
    pub warnings: Vec<String>,
}

/// Reads all instance folders under `dirs`, each once.
pub fn scan(dirs: &RuntimeDirs) -> Scan {
    let mut out = Scan::default();
    // Identity is the folder's name as raw bytes: two names that differ only
    // in bytes that are not UTF-8 are two entries.
    let mut seen: HashSet<OsString> = HashSet::new();
    let mut todo = Vec::new();
    for base in &dirs.bases {
        match instance_folders(base) {
            Ok(entries) => todo.extend(
                entries.into_iter().filter(|f| f.path.file_name().is_some_and(|name| seen.insert(name.to_os_string()))),
            ),
            Err(Some(warning)) => out.warnings.push(warning),
            Err(None) => {}
        }
    }
    out.instances = todo.into_iter().map(|f| read_listed_folder(&f.path, f.id, f.plain)).collect();
    out
}

/// One entry of a runtime folder, as its listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its instance id ([`folder_id`]: the name, escaped where it is not UTF-8).
    pub id: String,
    /// Its path.
    pub path: PathBuf,
    /// It is a plain folder, as the listing itself says (no extra system
    /// call); false when unknown.
    pub plain: bool,
}

/// The entries directly under `base`, sorted by id.
/// Names starting with `.` are skipped: atomic writers use them for temporary
/// files. `Err(None)` means the folder does not exist, which is normal.
pub fn instance_folders(base: &Path) -> Result<Vec<Listed>, Option<String>> {
    let entries = match fs::read_dir(base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => {
            let why = if base.is_file() { "it is a file, not a folder".to_owned() } else { io_reason(&e) };
            return Err(Some(format!(
                "cannot read runtime folder {}: {why}",
                crate::text::escape(&base.display().to_string())
            )));
        }
    };
    let mut out: Vec<Listed> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = folder_id(&entry.file_name());
            let plain = entry.file_type().is_ok_and(|t| t.is_dir());
            (!is_ignored(&name)).then(|| Listed { id: name, path: entry.path(), plain })
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// The instance id shown for a folder name: the name itself when it is
/// UTF-8 and holds nothing that reads as an escape, else the name with each
/// byte that is not UTF-8, and each backslash, written `\xNN`. Two names
/// never get the same id: a name written as it is has no `\xNN` in it, and
/// an escaped one reads back one way only (the folder itself is always found
/// by its raw name, through the entry's path).
pub fn folder_id(name: &OsStr) -> String {
    let bytes = name.as_bytes();
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !has_escape(s) {
            return s.to_owned();
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\x5C"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// Whether `s` holds a `\xNN` escape (either case of hex digits).
fn has_escape(s: &str) -> bool {
    s.as_bytes()
        .windows(4)
        .any(|w| w[0] == b'\\' && w[1] == b'x' && w[2].is_ascii_hexdigit() && w[3].is_ascii_hexdigit())
}

/// The folder under `base` that the id `id` (from [`folder_id`]) stands
/// for: `base/id`, with any `\xNN` escapes turned back into bytes.
pub fn folder_path(base: &Path, id: &str) -> PathBuf {
    if !has_escape(id) {
        return base.join(id);
    }
    let mut bytes = Vec::with_capacity(id.len());
    let mut rest = id.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail.strip_prefix(b"x").and_then(|t| t.get(..2)).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'\\', Some(byte)) => {
                bytes.push(byte);
                rest = &tail[3..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    base.join(OsStr::from_bytes(&bytes))
}

/// True for names the scan never looks at (hidden and temporary entries).
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_ids_escape_what_is_not_utf8_and_keep_the_rest() {
        assert_eq!(folder_id(OsStr::new("AbC-1")), "AbC-1");
        assert_eq!(folder_id(OsStr::from_bytes(b"N\xff\xfe")), "N\\xFF\\xFE");
        assert_ne!(folder_id(OsStr::from_bytes(b"N\xff")), folder_id(OsStr::from_bytes(b"N\xfe")));
        assert_eq!(folder_id(OsStr::from_bytes(b"\xc3\xa9\xc3")), "\u{e9}\\xC3");
        assert_eq!(folder_id(OsStr::new("a\\b\\xZZ")), "a\\b\\xZZ", "a backslash alone is itself");
    }

    #[test]
    fn a_name_that_reads_as_an_escape_never_shares_an_id() {
        let literal = OsStr::new("N\\xFF");
        let raw = OsStr::from_bytes(b"N\xff");
        let both = OsStr::from_bytes(b"N\\xFF\xff");
        let ids = [folder_id(literal), folder_id(raw), folder_id(both), folder_id(OsStr::new("N\\xff"))];
        assert_eq!(ids[0], "N\\x5CxFF");
        assert_eq!(ids[1], "N\\xFF");
        for (n, a) in ids.iter().enumerate() {
            assert!(ids[n + 1..].iter().all(|b| a != b), "{ids:?}");
        }
        let base = Path::new("/rt");
        for name in [literal, raw, both, OsStr::new("plain"), OsStr::new("a\\b")] {
            assert_eq!(folder_path(base, &folder_id(name)), base.join(name), "{name:?}");
        }
    }

    #[test]
    fn every_short_name_has_its_own_id_and_its_id_leads_back_to_it() {
        // Every byte string up to 5 long over what builds escapes, near
        // escapes, valid and invalid UTF-8: 177,155 names.
        let alphabet: &[u8] = &[b'\\', b'x', b'F', b'f', b'5', b'C', b'+', 0xff, 0xc3, 0xa9, 0x80];
        let base = Path::new("/rt");
        let mut seen = std::collections::HashMap::new();
        let mut names: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..5 {
            names = names.iter().flat_map(|n| alphabet.iter().map(move |&b| [n.as_slice(), &[b]].concat())).collect();
            for name in &names {
                let os = OsStr::from_bytes(name);
                let id = folder_id(os);
                assert_eq!(folder_path(base, &id), base.join(os), "{name:?} -> {id:?}");
                if let Some(other) = seen.insert(id.clone(), name.clone()) {
                    panic!("{other:?} and {name:?} share the id {id:?}");
                }
            }
        }
        assert_eq!(seen.len(), (1..=5).map(|n| alphabet.len().pow(n)).sum::<usize>());
    }

    #[test]
    fn an_escaped_id_leads_back_to_its_folder() {
        let rt = tempfile::tempdir().unwrap();
        let raw = OsStr::from_bytes(b"W\xff-\xfe");
        fs::create_dir(rt.path().join(raw)).unwrap();
        fs::create_dir(rt.path().join("plain\\xZZ")).unwrap();
        let id = folder_id(raw);
        assert_eq!(folder_path(rt.path(), &id), rt.path().join(raw));
        assert_eq!(folder_path(rt.path(), "plain\\xZZ"), rt.path().join("plain\\xZZ"));
        assert_eq!(folder_path(rt.path(), "none"), rt.path().join("none"));
    }
}
