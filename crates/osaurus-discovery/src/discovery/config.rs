//! Turning the bytes of one `configuration.json` into an [`Instance`].
//!
//! Pure: no file system, no clock. The folder's mtime, which stands in for a
//! missing `updatedAt` (not for one that cannot be read: that entry is
//! undated), is asked for only when it is needed.

use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::instance::{Instance, State};
use crate::text::quote;

/// The largest `configuration.json` that is read; Osaurus writes about 250 bytes.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// Where a configuration came from: the folder it sits in.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The folder's name, which is the instance id.
    pub instance_id: String,
    /// The folder's path.
    pub dir: PathBuf,
}

/// Parses a configuration file's bytes. `dir_mtime` is called at most once,
/// only when `updatedAt` is missing.
pub fn parse(bytes: &[u8], origin: Origin, dir_mtime: impl FnOnce() -> Option<DateTime<Utc>>) -> Instance {
    let Origin { instance_id, dir } = origin;
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let msg = format!("configuration.json is not valid UTF-8 (at byte {})", e.valid_up_to());
            return Instance::invalid(instance_id, dir, msg);
        }
    };
    let object = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            let msg = format!("configuration.json holds {}, not a JSON object", json_kind(&other));
            return Instance::invalid(instance_id, dir, msg);
        }
        Err(e) => {
            let msg = format!("configuration.json is not valid JSON: {e}");
            return Instance::invalid(instance_id, dir, msg);
        }
    };
    match Fields::extract(&object) {
        Ok(fields) => judge(fields, instance_id, dir, dir_mtime),
        Err(msg) => Instance::invalid(instance_id, dir, msg),
    }
}

/// `t` when it can be written as RFC 3339 in UTC (years 0000 to 9999);
/// chrono writes other years as `-0001-…` or `+10000-…`, which no RFC 3339
/// reader takes.
pub fn rfc3339_time(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    (0..=9999).contains(&t.year()).then_some(t)
}

/// The keys Osaurus writes, with their JSON types checked.
struct Fields<'a> {
    instance_id: Option<&'a str>,
    updated_at: Option<&'a Value>,
    health: &'a str,
    port: Option<&'a Value>,
    address: Option<&'a str>,
    url: Option<&'a str>,
    expose_to_network: Option<bool>,
}

impl<'a> Fields<'a> {
    fn extract(map: &'a Map<String, Value>) -> Result<Fields<'a>, String> {
        let health = match map.get("health") {
            None | Some(Value::Null) => return Err("configuration.json has no \"health\"".into()),
            Some(Value::String(s)) => s.as_str(),
            Some(v) => return Err(wrong_type("health", "a string", v)),
        };
        let expose_to_network = match present(map, "exposeToNetwork") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => return Err(wrong_type("exposeToNetwork", "true or false", v)),
        };
        Ok(Fields {
            instance_id: string_field(map, "instanceId")?,
            updated_at: present(map, "updatedAt"),
            health,
            port: present(map, "port"),
            address: string_field(map, "address")?,
            url: string_field(map, "url")?,
            expose_to_network,
        })
    }
}

fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn string_field<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(wrong_type(key, "a string", v)),
    }
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> String {
    format!("\"{key}\" should be {expected}, found {}", json_kind(found))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn judge(
    f: Fields<'_>,
    instance_id: String,
    dir: PathBuf,
    dir_mtime: impl FnOnce() -> Option<DateTime<Utc>>,
) -> Instance {
    let mut problems: Vec<String> = Vec::new();
    if let Some(id) = f.instance_id {
        if id != instance_id {
            problems.push(format!("instanceId {} differs from its folder's name", quote(id)));
        }
    }

    // A time that cannot be read, or not written back as RFC 3339 in UTC,
    // makes the entry undated: the folder's mtime does not stand in for it
    // (a stale folder that was touched would rank as the newest).
    let updated_at = match f.updated_at {
        None => dir_mtime().and_then(rfc3339_time),
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s).map(|t| rfc3339_time(t.with_timezone(&Utc))) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                problems.push(format!(
                    "updatedAt {} lies outside the years 0000 to 9999 in UTC; ranked as undated",
                    quote(s)
                ));
                None
            }
            Err(_) => {
                problems.push(format!("updatedAt {} is not an RFC 3339 time; ranked as undated", quote(s)));
                None
            }
        },
        Some(v) => {
            problems.push(format!("updatedAt is {}, not a time; ranked as undated", json_kind(v)));
            None
        }
    };

    let port = match f.port {
        None => Ok(None),
        Some(v) if !v.is_number() => Err(wrong_type("port", "a number", v)),
        Some(v) => match v.as_u64() {
            Some(p) if (1..=65535).contains(&p) => Ok(Some(p as u16)),
            _ => Err(format!("port {v} is not a TCP port (1 to 65535)")),
        },
    };
    let address = f.address.map(str::to_owned);
    let exposed =
        f.expose_to_network == Some(true) || address.as_deref().is_some_and(|a| !a.is_empty() && !is_loopback(a));

    let mut instance = Instance {
        instance_id,
        state: State::Invalid,
        url: None,
        address,
        port: None,
        expose_to_network: f.expose_to_network,
        exposed,
        reachable: None,
        updated_at,
        dir,
        problem: None,
        not_osaurus: None,
        loopback_url: None,
        address_on_this_machine: None,
        lan_access: None,
        leftover: None,
    };

    let state = match f.health {
        "running" => State::Running,
        "starting" => State::Starting,
        "restarting" => State::Restarting,
        other => {
            problems.insert(0, format!("unknown health {}", quote(other)));
            State::Unknown
        }
    };

    match port {
        Ok(p) => instance.port = p,
        Err(msg) if state == State::Running => {
            problems.insert(0, msg);
            return finish(instance, State::Invalid, problems);
        }
        Err(msg) => problems.push(msg),
    }

    if state != State::Running {
        return finish(instance, state, problems);
    }

    let Some(port) = instance.port else {
        problems.insert(0, "running, but has no \"port\"".into());
        return finish(instance, State::Invalid, problems);
    };
    let address = match instance.address.as_deref() {
        Some(a) if !a.trim().is_empty() => a.trim().to_owned(),
        _ => {
            problems.insert(0, "running, but has no \"address\"".into());
            return finish(instance, State::Invalid, problems);
        }
    };

    match host_kind(&address) {
        // (What cannot be a host at all is refused below, with that reason.)
        HostKind::Name if build_url(&address, port).is_some() => {
            problems.insert(0, format!(
                "address {} is a host name, not this machine's address: only loopback, localhost and this machine's IP addresses are handed out",
                quote(&address)
            ));
            return finish(instance, State::Invalid, problems);
        }
        HostKind::Wildcard => {
            // Every interface: this machine reaches it on loopback.
            instance.url = Some(loopback_url(port));
            problems.push(format!("address {} means every interface; using 127.0.0.1", quote(&address)));
            return finish(instance, State::Running, problems);
        }
        HostKind::Loopback | HostKind::Ip | HostKind::Name => {}
    }

    let written = f.url.map(|u| check_url(u, &address, port));
    match written {
        Some(Ok((url, note))) => {
            instance.url = Some(url);
            problems.extend(note);
        }
        other => {
            if let Some(Err(why)) = other {
                problems.push(why);
            }
            match build_url(&address, port) {
                Some(url) => instance.url = Some(url),
                None => {
                    problems.insert(0, format!("address {} is not a host name or IP address", quote(&address)));
                    return finish(instance, State::Invalid, problems);
                }
            }
        }
    }
    finish(instance, State::Running, problems)
}

fn finish(mut instance: Instance, state: State, problems: Vec<String>) -> Instance {
    instance.state = state;
    if state == State::Invalid {
        instance.url = None;
    }
    if state == State::Running && instance.exposed {
        instance.loopback_url = instance.port.map(loopback_url);
    }
    instance.problem = (!problems.is_empty()).then(|| problems.join("; "));
    instance
}

/// What kind of host a file's `address` is, for the rule on which hosts
/// may be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// A loopback IP or `localhost`.
    Loopback,
    /// `0.0.0.0` or `::`: every interface, reached on loopback.
    Wildcard,
    /// Another IP address: handed out only while it is this machine's.
    Ip,
    /// A host name other than `localhost` (or not a host at all): never
    /// handed out, since no name can be checked to be this machine.
    Name,
}

/// Classifies a file's `address` (IPv6 with or without brackets).
pub fn host_kind(address: &str) -> HostKind {
    let a = address.trim();
    let a = a.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(a);
    match a.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => HostKind::Loopback,
        Ok(ip) if ip.is_unspecified() => HostKind::Wildcard,
        Ok(_) => HostKind::Ip,
        Err(_) if a.eq_ignore_ascii_case("localhost") => HostKind::Loopback,
        Err(_) => HostKind::Name,
    }
}

/// True when `address` names only this machine: a loopback IP or `localhost`.
/// `0.0.0.0`, LAN addresses and other host names are not loopback.
pub fn is_loopback(address: &str) -> bool {
    let a = address.trim();
    let a = a.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(a);
    if a.eq_ignore_ascii_case("localhost") {
        return true;
    }
    a.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Accepts a written `url` only if it is http(s), has no user info, and its
/// port agrees with `port`, in its normal form with a note when that differs
/// from `raw`. Returns the reason otherwise.
fn check_url(raw: &str, address: &str, port: u16) -> Result<(String, Option<String>), String> {
    let shown = quote(&raw.chars().take(80).collect::<String>());
    let url = url::Url::parse(raw)
        .map_err(|e| format!("url {shown} is not a valid URL ({e}); built one from address and port"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("url {shown} is not http(s); built one from address and port"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url carries user info; built one from address and port".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("url {shown} has no host; built one from address and port"));
    }
    if url.port_or_known_default() != Some(port) {
        return Err(format!("url {shown} does not use port {port}; built one from address and port"));
    }
    // The URL must name the host the file calls its address: otherwise the
    // menu would open or copy somewhere else than what exposure is judged on.
    let bare = address.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(address);
    let host = match bare.parse::<Ipv6Addr>() {
        Ok(v6) => Some(url::Host::Ipv6(v6)),
        Err(_) => url::Host::parse(bare).ok(),
    };
    if url.host().map(|h| h.to_owned()) != host {
        return Err(format!(
            "url {shown} does not point at address {}; built one from address and port",
            quote(address)
        ));
    }
    // The parser's normal form, never the raw text: parsing drops tabs, newlines
    // and leading control characters and accepts `HTTP:`, `https:/*/h` and the
    // like, so the raw text may not be what was checked.
    let mut normal = url.to_string();
    if url.path() == "/" && url.query().is_none() && url.fragment().is_none() && !raw.ends_with('/') {
        normal.pop();
    }
    if normal == raw {
        return Ok((normal, None));
    }
    let note = format!("url {shown} is not in normal form; using {}", quote(&normal));
    Ok((normal, Some(note)))
}

/// `http://127.0.0.1:{port}`: where a server on this machine answers.
pub fn loopback_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// `http://{address}:{port}`, with an IPv6 address in brackets. `None` when the
/// address cannot be a URL's host.
pub fn build_url(address: &str, port: u16) -> Option<String> {
    // The URL parser would silently drop tabs and newlines, and keep them in `candidate`.
    if address.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let bare = address.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(address);
    let host = match bare.parse::<Ipv6Addr>() {
        Ok(v6) => format!("[{v6}]"),
        Err(_) => address.to_owned(),
    };
    let candidate = format!("http://{host}:{port}");
    let url = url::Url::parse(&candidate).ok()?;
    // Reject anything that smuggled a path, query, user info or another port.
    let clean = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && url.port_or_known_default() == Some(port);
    clean.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn origin(id: &str) -> Origin {
        Origin { instance_id: id.into(), dir: PathBuf::from(format!("/rt/{id}")) }
    }

    fn mtime() -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2020, 1, 2, 3, 4, 5).unwrap())
    }

    fn parse_str(s: &str) -> Instance {
        parse(s.as_bytes(), origin("A"), mtime)
    }

    /// Exactly the bytes Osaurus's Foundation writer produces.
    const OSAURUS_RUNNING: &str = "{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \"instanceId\" : \"A\",\n  \"port\" : 1337,\n  \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:1337\"\n}";

    #[test]
    fn reads_a_running_file_as_osaurus_writes_it() {
        let i = parse_str(OSAURUS_RUNNING);
        assert_eq!(i.state, State::Running);
        assert_eq!(i.url.as_deref(), Some("http://127.0.0.1:1337"));
        assert_eq!(i.port, Some(1337));
        assert_eq!(i.address.as_deref(), Some("127.0.0.1"));
        assert_eq!(i.expose_to_network, Some(false));
        assert!(!i.exposed);
        assert_eq!(i.updated_at, Some(Utc.with_ymd_and_hms(2025, 9, 8, 12, 35, 12).unwrap()));
        assert_eq!(i.problem, None);
    }

    #[test]
    fn starting_and_restarting_need_no_port() {
        let s = parse_str(r#"{"instanceId":"A","updatedAt":"2025-09-08T12:34:56Z","health":"starting"}"#);
        assert_eq!((s.state, s.url.clone(), s.problem.clone()), (State::Starting, None, None));
        let r = parse_str(r#"{"instanceId":"A","health":"restarting"}"#);
        assert_eq!(r.state, State::Restarting);
    }

    #[test]
    fn unknown_health_keeps_the_raw_value() {
        let i = parse_str(r#"{"health":"sleeping"}"#);
        assert_eq!(i.state, State::Unknown);
        assert!(i.problem.unwrap().contains("\"sleeping\""));
    }

    #[test]
    fn running_without_port_or_address_is_invalid() {
        let no_port = parse_str(r#"{"health":"running","address":"127.0.0.1"}"#);
        assert_eq!(no_port.state, State::Invalid);
        assert!(no_port.problem.unwrap().contains("port"));
        let no_addr = parse_str(r#"{"health":"running","port":1337,"address":"  "}"#);
        assert_eq!(no_addr.state, State::Invalid);
        assert!(no_addr.problem.unwrap().contains("address"));
    }

    #[test]
    fn port_out_of_range_is_invalid() {
        for p in ["0", "65536", "-1", "1.5", "1e3", "99999999999999999999"] {
            let i = parse_str(&format!(r#"{{"health":"running","address":"127.0.0.1","port":{p}}}"#));
            assert_eq!(i.state, State::Invalid, "port {p}");
            assert_eq!(i.url, None);
        }
        let ok = parse_str(r#"{"health":"running","address":"127.0.0.1","port":65535}"#);
        assert_eq!(ok.url.as_deref(), Some("http://127.0.0.1:65535"));
    }

    #[test]
    fn wrong_types_are_invalid_with_a_reason() {
        for (json, key) in [
            (r#"{"health":1}"#, "health"),
            (r#"{"health":"running","port":"1337","address":"127.0.0.1"}"#, "port"),
            (r#"{"health":"running","port":1337,"address":1}"#, "address"),
            (r#"{"health":"running","port":1337,"address":"127.0.0.1","exposeToNetwork":"no"}"#, "exposeToNetwork"),
            (r#"{"health":"running","port":1337,"address":"127.0.0.1","url":["x"]}"#, "url"),
            (r#"{"health":"running","instanceId":7}"#, "instanceId"),
        ] {
            let i = parse_str(json);
            assert_eq!(i.state, State::Invalid, "{json}");
            assert!(i.problem.as_deref().unwrap().contains(key), "{json}: {:?}", i.problem);
        }
    }

    #[test]
    fn not_json_not_object_not_utf8() {
        assert!(parse_str("{").problem.unwrap().contains("not valid JSON"));
        assert!(parse_str("[1]").problem.unwrap().contains("an array"));
        assert!(parse_str("").problem.unwrap().contains("not valid JSON"));
        let bad = parse(b"{\"health\":\"\xff\"}", origin("A"), mtime);
        assert!(bad.problem.unwrap().contains("UTF-8"));
    }

    #[test]
    fn bad_urls_are_replaced_by_a_built_one() {
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,hi",
            "http://user:pw@127.0.0.1:1337",
            "http://127.0.0.1:9999",
            "http://127.0.0.1",
            "not a url",
        ] {
            let json = serde_json::json!({"health":"running","port":1337,"address":"127.0.0.1","url":url});
            let i = parse_str(&json.to_string());
            assert_eq!(i.state, State::Running, "{url}");
            assert_eq!(i.url.as_deref(), Some("http://127.0.0.1:1337"), "{url}");
            assert!(i.problem.is_some(), "{url}");
        }
    }

    #[test]
    fn a_written_url_is_served_in_its_normal_form() {
        for (raw, normal) in [
            ("HTTP://127.0.0.1:1337", "http://127.0.0.1:1337"),
            ("\u{1}http://127.0.0.1:1337", "http://127.0.0.1:1337"),
            ("ht\ttp://127.0.0.1:1337/\u{202E}x\n", "http://127.0.0.1:1337/%E2%80%AEx"),
            ("http:127.0.0.1:1337", "http://127.0.0.1:1337"),
        ] {
            let json = serde_json::json!({"health":"running","port":1337,"address":"127.0.0.1","url":raw});
            let i = parse_str(&json.to_string());
            assert_eq!(i.url.as_deref(), Some(normal), "{raw:?}");
            assert!(i.problem.unwrap().contains("not in normal form"), "{raw:?}");
        }
        let slash =
            parse_str(r#"{"health":"running","port":1337,"address":"127.0.0.1","url":"http://127.0.0.1:1337/"}"#);
        assert_eq!((slash.url.as_deref(), slash.problem), (Some("http://127.0.0.1:1337/"), None));
    }

    #[test]
    fn an_address_with_control_characters_is_invalid() {
        for a in ["127.0.\n0.1", "exam\tple.com", "127.0.0.1\u{0}"] {
            let json = serde_json::json!({"health":"running","port":1337,"address":a});
            let i = parse_str(&json.to_string());
            assert_eq!((i.state, i.url), (State::Invalid, None), "{a:?}");
        }
    }

    #[test]
    fn a_url_to_another_host_than_the_address_is_replaced() {
        for (address, url) in [
            ("127.0.0.1", "http://192.168.1.5:1337"),
            ("127.0.0.1", "http://example.com:1337"),
            ("192.168.1.23", "http://127.0.0.1:1337"),
        ] {
            let json = serde_json::json!({"health":"running","port":1337,"address":address,"url":url});
            let i = parse_str(&json.to_string());
            assert_eq!(i.url, Some(format!("http://{address}:1337")), "{url}");
            assert!(i.problem.unwrap().contains("does not point at address"), "{url}");
        }
        for (address, url) in
            [("::1", "http://[::1]:1337"), ("[::1]", "http://[::1]:1337"), ("LocalHost", "http://localhost:1337")]
        {
            let json = serde_json::json!({"health":"running","port":1337,"address":address,"url":url});
            let i = parse_str(&json.to_string());
            assert_eq!(i.url.as_deref(), Some(url), "{address}");
            assert_eq!(i.problem, None, "{address}");
        }
    }

    #[test]
    fn https_url_on_its_default_port_is_kept() {
        let i = parse_str(r#"{"health":"running","port":443,"address":"127.0.0.1","url":"https://127.0.0.1"}"#);
        assert_eq!(i.url.as_deref(), Some("https://127.0.0.1"));
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let i = parse_str(r#"{"health":"running","port":1337,"address":"::1"}"#);
        assert_eq!(i.url.as_deref(), Some("http://[::1]:1337"));
        assert!(!i.exposed);
        let j = parse_str(r#"{"health":"running","port":1337,"address":"fe80::1"}"#);
        assert_eq!(j.url.as_deref(), Some("http://[fe80::1]:1337"));
        assert!(j.exposed);
    }

    #[test]
    fn an_address_that_smuggles_a_path_is_invalid() {
        let i = parse_str(r#"{"health":"running","port":1337,"address":"evil.example/x?"}"#);
        assert_eq!(i.state, State::Invalid);
        assert_eq!(i.url, None);
        let pw = parse_str(r#"{"health":"running","port":1337,"address":":pw@evil.example"}"#);
        assert_eq!((pw.state, pw.url), (State::Invalid, None));
    }

    #[test]
    fn exposure_follows_the_flag_or_a_non_loopback_address() {
        let flag = parse_str(r#"{"health":"running","port":1,"address":"127.0.0.1","exposeToNetwork":true}"#);
        assert!(flag.exposed);
        for a in ["0.0.0.0", "192.168.1.23", "example.com"] {
            let i = parse_str(&format!(r#"{{"health":"running","port":1,"address":"{a}"}}"#));
            assert!(i.exposed, "{a}");
            assert_eq!(i.expose_to_network, None);
        }
        for a in ["127.0.0.1", "127.5.5.5", "localhost", "::1", "[::1]"] {
            assert!(is_loopback(a), "{a}");
        }
    }

    #[test]
    fn updated_at_accepts_rfc3339_and_falls_back_to_mtime() {
        let frac = parse_str(r#"{"health":"starting","updatedAt":"2025-09-08T14:35:12.250+02:00"}"#);
        assert_eq!(frac.updated_at.unwrap().to_rfc3339(), "2025-09-08T12:35:12.250+00:00");
        let missing = parse_str(r#"{"health":"starting"}"#);
        assert_eq!(missing.updated_at, mtime());
        assert_eq!(missing.problem, None);
    }

    #[test]
    fn an_updated_at_that_cannot_be_read_is_undated_not_the_folders_mtime() {
        for (raw, says) in [
            (r#""yesterday""#, "not an RFC 3339 time"),
            ("42", "not a time"),
            (r#""0000-01-01T00:00:00+01:00""#, "outside the years"),
            (r#""9999-12-31T23:00:00-02:00""#, "outside the years"),
        ] {
            let i = parse(format!(r#"{{"health":"starting","updatedAt":{raw}}}"#).as_bytes(), origin("A"), || {
                panic!("mtime asked for {raw}")
            });
            assert_eq!(i.updated_at, None, "{raw}");
            let problem = i.problem.unwrap();
            assert!(problem.contains(says) && problem.contains("undated"), "{raw}: {problem}");
        }
        let edge = parse_str(r#"{"health":"starting","updatedAt":"0000-01-01T00:00:00Z"}"#);
        assert_eq!(
            edge.updated_at.map(|t| crate::discovery::instance::format_time(&t)).as_deref(),
            Some("0000-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_folder_mtime_outside_rfc_3339_years_is_no_time() {
        let far = DateTime::from_timestamp(300_000_000_000, 0);
        let i = parse(br#"{"health":"starting"}"#, origin("A"), || far);
        assert!(far.is_some() && i.updated_at.is_none());
    }

    #[test]
    fn mtime_is_not_asked_for_when_updated_at_is_good() {
        let i = parse(OSAURUS_RUNNING.as_bytes(), origin("A"), || panic!("mtime asked for"));
        assert_eq!(i.state, State::Running);
    }

    #[test]
    fn a_mismatched_instance_id_is_noted_but_the_folder_name_wins() {
        let i = parse(OSAURUS_RUNNING.as_bytes(), origin("B"), mtime);
        assert_eq!(i.instance_id, "B");
        assert!(i.problem.unwrap().contains("differs"));
    }
}
