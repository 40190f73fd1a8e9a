//! A few configuration files from fuzz bytes, ranked into a snapshot, built
//! into a menu: every label must be short and printable, and every URL the
//! menu opens must be http(s).
//!
//! Input layout: a 16-byte header (fallback mtime, time zone, context flags),
//! then up to 8 entries separated by two NUL bytes. Each entry is one flag
//! byte (reachable: none / yes / no), then `id \x01 configuration bytes`
//! (without `\x01` the whole rest is the configuration). What the watcher
//! would know beyond the file (models, owner, duplicate and leftover marks)
//! is made from the same bytes.
#![no_main]

use arbitrary::Unstructured;
use chrono::{DateTime, FixedOffset};
use libfuzzer_sys::fuzz_target;
use osaurus_tray::discovery::config::{self, Origin};
use osaurus_tray::discovery::select::rank;
use osaurus_tray::discovery::LanAccess;
use osaurus_tray::exposure::{self, Loaded};
use osaurus_tray::inspect::{Details, Models};
use osaurus_tray::menu_model::{self, Action, Context, Item, MAX_LABEL};
use osaurus_tray::process::Owner;
use osaurus_tray::settings::Settings;
use osaurus_tray::snapshot::Snapshot;

const HEADER: usize = 16;
const MAX_ENTRIES: usize = 8;

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn printable(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || is_bidi(c))
}

fn walk(items: &[Item]) {
    for item in items {
        let label = item.label();
        assert!(label.chars().count() <= MAX_LABEL, "label too long: {label:?}");
        assert!(printable(label), "label {label:?}");
        let action = match item {
            Item::Row { action, .. } => action.as_ref(),
            Item::Check { action, .. } => Some(action),
            Item::Submenu { items, .. } => {
                walk(items);
                None
            }
            _ => None,
        };
        match action {
            Some(Action::OpenUrl(url)) => {
                assert!(url.starts_with("http://") || url.starts_with("https://"), "opens {url:?}");
                assert!(printable(url), "opens {url:?}");
                assert!(osaurus_tray::browser::browser_url(url).is_ok(), "browser refuses {url:?}");
            }
            Some(Action::Copy(text)) => assert!(printable(text), "copies {text:?}"),
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (header, rest) = data.split_at(data.len().min(HEADER));
    let mut u = Unstructured::new(header);
    let mtime_secs: i64 = u.arbitrary().unwrap_or(0);
    let offset_secs: i32 = u.arbitrary().unwrap_or(0);
    let flags: u8 = u.arbitrary().unwrap_or(0);
    let probe_interval_secs: u32 = u.arbitrary().unwrap_or(10);
    let mtime = DateTime::from_timestamp(mtime_secs, 0);

    let mut instances = Vec::new();
    let mut details = std::collections::BTreeMap::new();
    let mut first_entry = None;
    for (n, chunk) in split(rest).take(MAX_ENTRIES).enumerate() {
        let Some((&bits, body)) = chunk.split_first() else { continue };
        let (id, bytes) = match body.iter().position(|&b| b == 1) {
            Some(p) => (String::from_utf8_lossy(&body[..p]).into_owned(), &body[p + 1..]),
            None => (format!("I{n}"), body),
        };
        first_entry.get_or_insert(chunk);
        let origin = Origin { dir: format!("/rt/{id}").into(), instance_id: id };
        let mut i = config::parse(bytes, origin, || mtime);
        i.reachable = match bits % 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        };
        // What probes add: another program on the port, a moved address,
        // guarded or open.
        if bits & 4 != 0 {
            i.not_osaurus = i.port.map(|p| format!("port {p} answers, but not as Osaurus"));
        }
        i.address_on_this_machine = [None, Some(true), Some(false)][usize::from(bits >> 3) % 3];
        i.lan_access = [None, Some(LanAccess::Guarded), Some(LanAccess::Open), Some(LanAccess::Unknown)]
            [usize::from(bits >> 5) % 4];
        let text = String::from_utf8_lossy(bytes);
        let d = Details {
            models: match bytes.len() % 4 {
                0 => Models::Unknown,
                1 => Models::Listed(text.split(',').take(40).map(str::to_owned).collect()),
                2 => Models::NeedsKey,
                _ => Models::Unavailable(text.chars().rev().take(200).collect()),
            },
            owner: (bits & 1 == 1).then(|| Owner { pid: n as u32 + 1, name: i.instance_id.chars().rev().collect() }),
            duplicate: bits & 2 != 0,
            leftover: bits & 16 != 0,
        };
        details.insert(i.instance_id.clone(), d);
        instances.push(i);
    }
    rank(&mut instances, chrono::Utc::now());
    let snap = Snapshot { details: std::sync::Arc::new(details), ..Snapshot::of(instances) };

    let ctx = Context {
        local: FixedOffset::east_opt(offset_secs % 86_400).expect("within a day"),
        runtime_folder: (flags & 1 != 0).then(|| "/rt".into()),
        can_start_osaurus: flags & 2 != 0,
        has_title: flags & 4 != 0,
        launch_at_login: match (flags >> 3) % 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        },
        settings: Settings {
            notifications: flags & 32 != 0,
            lan_title: flags & 64 != 0,
            probe_interval_secs,
            api_key_file: None,
        },
        notice: (flags & 128 != 0).then(|| String::from_utf8_lossy(first_entry.unwrap_or_default()).into_owned()),
        // The same bytes as Osaurus's settings and every agent's file.
        exposure: {
            let file = Loaded::Bytes(first_entry.unwrap_or_default().to_vec());
            exposure::decide(&file, &file, |_| file.clone())
        },
    };
    let model = menu_model::build(&snap, &ctx);
    walk(&model.items);
    assert!(printable(&model.tooltip), "tooltip {:?}", model.tooltip);
    let running = snap.running().count();
    let shown = model.items.iter().filter(|i| matches!(i, Item::Submenu { label, .. } if label != "Settings")).count();
    assert_eq!(shown, running, "one submenu per running instance");
    for item in &model.items {
        if let Item::Row { label, action: Some(Action::Copy(url)), .. } = item {
            if label.starts_with("⚠ Internet:") {
                assert!(url.starts_with("https://0x") && url.ends_with(".agent.osaurus.ai"), "{url:?}");
            }
        }
    }
});

/// Splits on two NUL bytes in a row.
fn split(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.windows(2).position(|w| w == [0, 0]) {
            Some(p) => {
                let chunk = &rest[..p];
                rest = &rest[p + 2..];
                Some(chunk)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}
