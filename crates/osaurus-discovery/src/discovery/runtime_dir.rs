//! Where Osaurus publishes its instance folders.

use std::path::{Path, PathBuf};

/// The runtime folders to read, in order of precedence: when an instance id
/// appears in several, the first folder wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDirs {
    /// The folders, current first.
    pub bases: Vec<PathBuf>,
    /// True when the user named the folder (`--runtime-dir` or
    /// `OSAURUS_RUNTIME_DIR`); then it is the only one.
    pub explicit: bool,
}

impl RuntimeDirs {
    /// Only `dir`, as given by `--runtime-dir` or `OSAURUS_RUNTIME_DIR`.
    pub fn explicit(dir: PathBuf) -> RuntimeDirs {
        RuntimeDirs { bases: vec![dir], explicit: true }
    }

    /// The current folder and the legacy ones older Osaurus versions used,
    /// under `home`. The list is the same on every platform so that it can be
    /// tested anywhere; folders that do not exist are simply empty.
    pub fn defaults(home: &Path) -> RuntimeDirs {
        let dot = home.join(".osaurus");
        let app_support = home.join("Library/Application Support/com.dinoki.osaurus");
        RuntimeDirs {
            bases: vec![
                dot.join("runtime"),
                dot.join("SharedConfiguration"),
                app_support.join("runtime"),
                app_support.join("SharedConfiguration"),
            ],
            explicit: false,
        }
    }

    /// Chooses the folders: an explicit one if given (an empty string counts
    /// as not given), else the defaults under the home folder. A relative
    /// folder is taken from the current one, once: the watcher compares the
    /// paths of events with it, and anchors on its parent while it is gone.
    pub fn resolve(explicit: Option<PathBuf>, home: Option<PathBuf>) -> RuntimeDirs {
        match explicit.filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => RuntimeDirs::explicit(std::path::absolute(&dir).unwrap_or(dir)),
            None => RuntimeDirs::defaults(&home.unwrap_or_else(|| PathBuf::from("/nonexistent-home"))),
        }
    }

    /// The folders as one comma-separated phrase, for messages.
    pub fn describe(&self) -> String {
        // Escaped: a path may hold a line break or a terminal escape.
        self.bases.iter().map(|p| crate::text::escape(&p.display().to_string())).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_folder_is_the_only_one() {
        let d = RuntimeDirs::resolve(Some("/x".into()), Some("/home/u".into()));
        assert_eq!(d.bases, vec![PathBuf::from("/x")]);
        assert!(d.explicit);
    }

    #[test]
    fn empty_explicit_folder_means_the_defaults() {
        let d = RuntimeDirs::resolve(Some("".into()), Some("/home/u".into()));
        assert!(!d.explicit);
        assert_eq!(d.bases[0], Path::new("/home/u/.osaurus/runtime"));
    }

    #[test]
    fn defaults_list_current_then_legacy_folders() {
        let d = RuntimeDirs::defaults(Path::new("/h"));
        let names: Vec<String> = d.bases.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "/h/.osaurus/runtime",
                "/h/.osaurus/SharedConfiguration",
                "/h/Library/Application Support/com.dinoki.osaurus/runtime",
                "/h/Library/Application Support/com.dinoki.osaurus/SharedConfiguration",
            ]
        );
    }
}
