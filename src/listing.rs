//! What `list` and `watch` print for a person: the table of instances and
//! the warnings for what is exposed beyond the LAN.

use chrono::{DateTime, Utc};

use crate::discovery::{Instance, LanAccess};
use crate::exposure::Exposure;
use crate::text::{age, sanitize, table};
use crate::vocabulary::{address_gone, Reach, Status};

/// The aligned table `list` prints (and `watch`, with every entry). NOTE says what probes found that a
/// person must know (another program on the port, a LAN address that is
/// gone); with `all`, PROBLEM adds what the file got wrong.
pub fn human(instances: &[&Instance], all: bool, now: DateTime<Utc>) -> String {
    let mut header = vec!["URL", "LAN", "STATUS", "AGE", "ID", "NOTE"];
    if all {
        header.splice(0..0, ["STATE"]);
        header.push("PROBLEM");
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for i in instances {
        let mut row = vec![
            i.url.as_deref().map_or_else(|| "-".to_owned(), |u| sanitize(u, 80)),
            Reach::of(i).map_or_else(|| "-".into(), Reach::word),
            if i.is_running() { Status::of(i, None).word().into() } else { "-".into() },
            i.updated_at.map_or_else(|| "-".into(), |t| age(t, now)),
            sanitize(i.short_id(), 96),
            sanitize(&notes(i).join("; "), 160),
        ];
        if all {
            row.insert(0, i.state.as_str().into());
            row.push(i.problem.as_deref().map_or_else(String::new, |p| sanitize(p, 160)));
        }
        rows.push(row);
    }
    table(&rows)
}

/// What probes found that a person must know, one phrase each.
pub fn notes(i: &Instance) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = &i.leftover {
        out.push(why.clone());
    }
    if let Some(why) = &i.not_osaurus {
        out.push(why.clone());
    }
    out.extend(address_gone(i));
    if crate::discovery::select::is_from_the_future(i, Utc::now()) {
        out.push("updatedAt is in the future; ranked as undated".into());
    }
    if i.lan_access == Some(LanAccess::Open) {
        out.push("open to anyone on the local network: no access key needed".into());
    }
    if i.lan_access == Some(LanAccess::Blocked) {
        out.push(format!("LAN not checked: {}", crate::menu_model::LAN_BLOCKED));
    }
    out
}

/// The warning lines `list` and `watch` print for what is exposed beyond
/// the LAN, while it is in effect (a server runs).
pub fn exposure_lines(e: &Exposure) -> Vec<String> {
    if !e.active {
        return Vec::new();
    }
    let mut out: Vec<String> = e
        .tunnels
        .iter()
        .map(|t| match (&t.url, &t.problem) {
            (Some(url), _) => format!("warning: Internet: {} at {url} (relay tunnel)", sanitize(&t.label(), 64)),
            (None, why) => format!(
                "warning: Internet: {}: relay tunnel on; {}",
                sanitize(&t.label(), 64),
                sanitize(why.as_deref().unwrap_or("no public address"), 160)
            ),
        })
        .collect();
    if e.any_website {
        out.push(
            "warning: Any website you open can use this server (allowedOrigins \"*\" in Osaurus's server settings)"
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(id: &str, exposed: bool, reachable: Option<bool>) -> Instance {
        crate::test_support::running(id, 1, exposed, reachable)
    }

    /// The LAN and STATUS cells of each row, in order.
    fn cells(table: &str) -> Vec<(String, String)> {
        let lines: Vec<&str> = table.lines().collect();
        let at = |name: &str| lines[0].find(name).unwrap();
        let (lan, status, age) = (at("LAN"), at("STATUS"), at("AGE"));
        lines[1..].iter().map(|l| (l[lan..status].trim().to_owned(), l[status..age].trim().to_owned())).collect()
    }

    #[test]
    fn the_table_uses_the_menus_words() {
        let mut guarded = inst("GUARDED", true, Some(true));
        guarded.lan_access = Some(LanAccess::Guarded);
        let mut open = inst("OPEN", true, Some(true));
        open.lan_access = Some(LanAccess::Open);
        let mut blocked = inst("BLOCKED", true, None);
        blocked.lan_access = Some(LanAccess::Blocked);
        let mut other = inst("OTHER", false, Some(false));
        other.not_osaurus = Some("port 1 answers, but not as Osaurus".into());
        let mut left = inst("LEFT", false, Some(true));
        left.leftover = Some("its file is older than the process on port 1".into());
        let dead = inst("DEAD", false, Some(false));
        let all = [&guarded, &open, &blocked, &other, &left, &dead];
        let table = human(&all, false, Utc::now());
        let want = [
            ("LAN, key required", "responding"),
            ("LAN, open to anyone", "responding"),
            ("LAN, not checked", "not checked"),
            ("local only", "not Osaurus"),
            ("local only", "left over"),
            ("local only", "not responding"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(cells(&table), want, "{table}");
        assert!(!table.contains("guarded") && !table.contains(" NO "), "{table}");
    }
}
