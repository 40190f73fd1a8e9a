//! The one gate between a URL and the browser, shared by `open` and the
//! menu-bar app: only http(s) URLs are opened.

/// Checks that `url` is http(s) and returns it normalised; the only gate
/// between a URL and the browser.
pub fn browser_url(url: &str) -> Result<String, String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u.to_string()),
        _ => Err(format!(
            "Refusing to open {}: only http and https URLs are opened.",
            crate::text::quote(&crate::text::sanitize(url, 80))
        )),
    }
}

/// Opens `url` in the default browser if it passes [`browser_url`].
pub fn open_in_browser(url: &str) -> Result<(), String> {
    let url = browser_url(url)?;
    open::that_detached(&url).map_err(|e| format!("Could not open {url} in a browser: {}.", launch_failure(&e)))
}

/// Why the system's opener did not open a page, in plain words: the open
/// crate's own error text is a Rust debug form (`Launcher "xdg-open" …
/// failed with ExitStatus(unix_wait_status(512))`).
pub fn launch_failure(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound if cfg!(target_os = "macos") => "the `open` program was not found",
        std::io::ErrorKind::NotFound => "no program that opens web pages was found (xdg-open, gio or kde-open)",
        std::io::ErrorKind::PermissionDenied => "the program that opens web pages may not be run",
        _ if cfg!(target_os = "macos") => "`open` reported a failure",
        _ => "the program that opens web pages (xdg-open or the like) reported a failure",
    }
}

#[cfg(test)]
mod tests {
    use super::{browser_url, launch_failure};

    #[test]
    fn only_http_and_https_pass() {
        assert!(browser_url("http://127.0.0.1:1337").is_ok());
        assert!(browser_url("https://localhost").is_ok());
        for bad in ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "ftp://h/", "/etc", "", "http:"] {
            assert!(browser_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_failed_launch_reads_as_words_not_a_debug_form() {
        use std::io::{Error, ErrorKind};
        let exited = Error::other("Launcher \"xdg-open\" \"http://x\" failed with ExitStatus(unix_wait_status(512))");
        let missing = Error::from(ErrorKind::NotFound);
        for e in [&exited, &missing] {
            let said = launch_failure(e);
            assert!(!said.contains("ExitStatus") && !said.contains("Launcher"), "{said}");
        }
        assert_ne!(launch_failure(&exited), launch_failure(&missing), "a missing opener is told from a failed one");
    }
}
