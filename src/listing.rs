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
