//! The rows about one server: its row and submenu (copy, open, act, its
//! models, what is known about it), and the warning row's action.

use chrono::{DateTime, FixedOffset};

use super::{Action, Context, Item, HOW_TO_GIVE_ROW, LAN_BLOCKED};
use crate::control::Request;
use crate::discovery::Instance;
use crate::inspect::{Details, Models};
use crate::interfaces::Interface;
use crate::snapshot::Snapshot;
use crate::text::{export_line, sanitize};
use crate::vocabulary::{address_gone, Reach, Status};

/// `address:port` for the warning row, with an IPv6 address in brackets.
pub(super) fn endpoint(i: &Instance) -> String {
    let address = i.address.as_deref().unwrap_or("?");
    let port = i.port.map_or_else(|| "?".to_owned(), |p| p.to_string());
    if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// "Make Local Only" for instance `i`, where the menu can ask Osaurus and
/// `i` is an exposed Osaurus of its own (not a crash's leftover, not
/// another program on its port).
pub(super) fn make_local(i: &Instance, details: Option<&Details>, ctx: &Context) -> Option<Request> {
    let own = !details.is_some_and(|d| d.leftover) && i.leftover.is_none() && i.not_osaurus.is_none();
    (ctx.can_start_osaurus && own && i.exposed && i.is_running()).then(|| Request::local_only(i)).flatten()
}

/// The rows that tell Osaurus to change `i`: Make Local Only (exposed),
/// Stop Server. Osaurus's messages reach every Osaurus app of the user, so
/// with more than one `running` the labels say all of them change.
pub(super) fn control_rows(i: &Instance, details: Option<&Details>, ctx: &Context, running: usize) -> Vec<Item> {
    let own = !details.is_some_and(|d| d.leftover) && i.leftover.is_none() && i.not_osaurus.is_none();
    if !ctx.can_start_osaurus || !own {
        return Vec::new();
    }
    let mut rows = Vec::new();
    if let Some(request) = make_local(i, details, ctx) {
        let port = i.port.map_or_else(String::new, |p| format!(" on port {p}"));
        let label = match running {
            0 | 1 => "Make Local Only".to_owned(),
            n => format!("Make Local Only ({} restart{port})", every(n)),
        };
        rows.push(Item::action(label, Action::Control(request)).keyed(instance_key("make-local", i)));
    }
    let label = match running {
        0 | 1 => "Stop Server".to_owned(),
        n => format!("Stop Server (stops {})", every(n)),
    };
    rows.push(Item::action(label, Action::Control(Request::stop(i))).keyed(instance_key("stop", i)));
    rows
}

/// The text naming instance `i` in its row and in its warning: its URL.
pub(super) fn name(i: &Instance) -> String {
    i.url.clone().unwrap_or_else(|| endpoint(i))
}

/// The URL another machine on the local network would use for exposed
/// `i`: this machine's LAN address (the file's while this machine still
/// has it, as the LAN check asks) and its port; `None` when not exposed or
/// this machine has no LAN address.
pub fn lan_url(i: &Instance, interfaces: &[Interface]) -> Option<String> {
    if !i.exposed {
        return None;
    }
    let port = i.port?;
    let ip = crate::interfaces::lan_address(i.address.as_deref(), interfaces)?;
    Some(format!("http://{ip}:{port}"))
}

/// What a click on `i`'s LAN warning does: Make Local Only where the menu
/// can ask Osaurus; for a leftover, remove the leftovers; otherwise what
/// its submenu does first, copy its URL. Nothing for another program.
pub(super) fn warning_action(i: &Instance, snap: &Snapshot, ctx: &Context) -> Option<Action> {
    if let Some(request) = make_local(i, snap.details(i), ctx) {
        return Some(Action::Control(request));
    }
    match Status::of(i, snap.details(i)) {
        Status::NotOsaurus => None,
        Status::LeftOver => snap.leftovers().any(|l| l.dir == i.dir).then_some(Action::RemoveLeftovers),
        _ => i.usable_url().map(|u| Action::Copy(u.to_owned())),
    }
}

/// The row saying whether `i` answers, and why not.
pub(super) fn status_row(i: &Instance, details: Option<&Details>) -> String {
    let port = i.port.map_or_else(String::new, |p| format!(" on port {p}"));
    match Status::of(i, details) {
        Status::Responding => "Responding".into(),
        Status::NotChecked => "Not checked yet".into(),
        Status::NotOsaurus => capitalised(i.not_osaurus.as_deref().unwrap_or("not Osaurus")),
        Status::LeftOver => match (&i.leftover, &i.not_osaurus) {
            (Some(why), _) | (None, Some(why)) => format!("Left over from a crash: {}", sanitize(why, 200)),
            (None, None) => format!("Left over from a crash: nothing listens{port}"),
        },
        Status::NotResponding if details.is_some_and(|d| d.not_responding) => {
            "Not responding: still listens, but missed two checks".into()
        }
        Status::NotResponding => format!("Not responding: nothing listens{port}"),
    }
}

/// The one row of details: the short id, since when it runs, and the
/// process listening on its port.
pub(super) fn details_row(i: &Instance, details: Option<&Details>, local: FixedOffset) -> String {
    let mut parts = vec![format!("ID {}", i.short_id())];
    if let Some(t) = i.updated_at {
        parts.push(format!("since {}", local_time(t, local)));
    }
    if let Some(owner) = details.and_then(|d| d.owner.as_ref()) {
        parts.push(format!("{}, pid {}", sanitize(&owner.name, 24), owner.pid));
    }
    parts.join(" · ")
}

pub(super) fn instance_row(i: &Instance, details: Option<&Details>, ctx: &Context, running: usize) -> Item {
    let status = Status::of(i, details);
    let duplicate = details.is_some_and(|d| d.duplicate);
    let url = i.usable_url().unwrap_or_default().to_owned();
    let mut label = name(i);
    if i.exposed {
        label.push_str("  [LAN]");
    }
    if matches!(status, Status::LeftOver | Status::NotOsaurus | Status::NotResponding) {
        label.push_str(&format!("  ({})", status.word()));
    }
    if duplicate {
        label.push_str("  (duplicate)");
    }
    let base = i.openai_base_url().unwrap_or_default();
    // What answers on the port is not Osaurus: nothing of it is handed out.
    let hand_out = |label: &str, action: Action| match i.not_osaurus {
        None => Item::action(label, action),
        Some(_) => Item::info(label),
    };
    let mut items = vec![
        hand_out("Copy URL", Action::Copy(url.clone())),
        hand_out("Copy OpenAI Base URL", Action::Copy(base.clone())),
        hand_out("Copy export OPENAI_BASE_URL=…", Action::Copy(export_line("OPENAI_BASE_URL", &base))),
        hand_out("Open in Browser", Action::OpenUrl(url.clone())),
    ];
    // Another machine's URL, only when this machine has a LAN address; and
    // this machine's own, when Copy URL gives another.
    if let Some(lan) = lan_url(i, &ctx.interfaces) {
        items.push(hand_out("Copy LAN URL", Action::Copy(lan)));
    }
    if let Some(lo) = i.loopback_url.as_ref().filter(|lo| i.exposed && **lo != url) {
        items.push(hand_out("Copy Local URL (127.0.0.1)", Action::Copy(lo.clone())));
    }
    items.extend(control_rows(i, details, ctx, running));
    items.extend([models_menu(details.map(|d| &d.models)), Item::Separator, Item::info(status_row(i, details))]);
    if let Some(reach) = Reach::of(i).filter(|_| i.exposed) {
        items.push(Item::info(match reach {
            Reach::LanOpen => "Exposed to the local network: open to anyone, no key needed".to_owned(),
            Reach::LanKeyRequired => "Exposed to the local network: key required".to_owned(),
            Reach::LanNotChecked => "Exposed to the local network: not checked".to_owned(),
            _ => "Exposed to the local network".to_owned(),
        }));
        if reach == Reach::LanNotChecked {
            items.push(Item::info(format!("Not checked: {LAN_BLOCKED}")));
        }
    }
    items.extend(address_gone(i).map(Item::info));
    if duplicate {
        items.push(Item::info("Duplicate: another process of the same app serves Osaurus too"));
    }
    items.push(Item::info(details_row(i, details, ctx.local)));
    Item::submenu(label, items).keyed(instance_key("instance", i))
}

/// The key of a row about instance `i`: its folder, which is unique even
/// where two ids read alike.
pub(super) fn instance_key(what: &str, i: &Instance) -> String {
    format!("{what}:{:?}", i.dir)
}

/// The "Models" submenu: ids to copy, or why there are none.
pub(super) fn models_menu(models: Option<&Models>) -> Item {
    let items = match models {
        Some(Models::Listed(ids)) if ids.is_empty() => vec![Item::info("No models")],
        // Only an id that reads as what it is can be copied (the look-up
        // leaves others out; a label is always shown sanitised).
        Some(Models::Listed(ids)) => ids
            .iter()
            .map(|id| {
                if crate::text::reads_as_written(id) {
                    Item::action(id, Action::Copy(id.clone()))
                } else {
                    Item::info(id)
                }
            })
            .collect(),
        Some(Models::NeedsKey) => {
            vec![Item::info("Models need an access key (the server answered 401)"), Item::info(HOW_TO_GIVE_ROW)]
        }
        Some(Models::Unavailable(why)) => vec![Item::info(format!("Models unavailable: {why}"))],
        Some(Models::Unknown) | None => vec![Item::info("Models unknown until the server responds")],
    };
    Item::submenu("Models", items)
}

/// `text` with its first letter in upper case, to stand as a row.
pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub(super) fn local_time(t: DateTime<chrono::Utc>, local: FixedOffset) -> String {
    t.with_timezone(&local).format("%Y-%m-%d %H:%M").to_string()
}

/// "both servers", "all 3 servers": what a control message reaches.
fn every(n: usize) -> String {
    match n {
        2 => "both servers".to_owned(),
        n => format!("all {n} servers"),
    }
}
