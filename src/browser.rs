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
    open::that_detached(&url).map_err(|e| format!("Could not open {url} in a browser: {e}"))
}

#[cfg(test)]
mod tests {
    use super::browser_url;

    #[test]
    fn only_http_and_https_pass() {
        assert!(browser_url("http://127.0.0.1:1337").is_ok());
        assert!(browser_url("https://localhost").is_ok());
        for bad in ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "ftp://h/", "/etc", "", "http:"] {
            assert!(browser_url(bad).is_err(), "{bad}");
        }
    }
}
