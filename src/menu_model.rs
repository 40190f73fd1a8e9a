//! What the menu says for a snapshot: a plain description, built by a plain
//! function and applied to the real menu by [`crate::tray`].

use std::path::PathBuf;

use chrono::FixedOffset;

use crate::control::Request;
use crate::discovery::{Instance, LanAccess, State};
use crate::exposure::{short_address, Exposure, RELAY_DOMAIN};
use crate::icon::{Glyph, IconKind};
use crate::interfaces::Interface;
use crate::settings::{Settings, PROBE_CHOICES};
use crate::snapshot::Snapshot;
use crate::text::sanitize;
use crate::vocabulary::Reach;

mod instance;
use instance::*;

/// How to give an access key, as a menu row.
pub const HOW_TO_GIVE_ROW: &str = "Give one: osaurus-tray key set, or OSAURUS_API_KEY";

/// Longest label shown, in characters.
pub const MAX_LABEL: usize = 72;

/// Why the LAN check could not ask ([`LanAccess::Blocked`]): on macOS 15,
/// Local Network privacy; elsewhere a local firewall.
pub const LAN_BLOCKED: &str = if cfg!(target_os = "macos") {
    "macOS has not allowed local network access"
} else {
    "the system refused the connection to the LAN address"
};

/// What clicking an item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Put this text on the clipboard.
    Copy(String),
    /// Open this http(s) URL in the browser.
    OpenUrl(String),
    /// Open this folder in the file manager.
    OpenFolder(PathBuf),
    /// Show Osaurus's window: `…control.ui` while it runs, else launch it.
    OpenOsaurus,
    /// Ask Osaurus to change one instance (local only, or stopped), then
    /// watch its folder for the effect.
    Control(Request),
    /// Remove the crash leftovers in the current snapshot.
    RemoveLeftovers,
    /// Turn launch at login on or off.
    ToggleLaunchAtLogin,
    /// Turn desktop notifications on or off.
    ToggleNotifications,
    /// Turn the `LAN` title beside the icon on or off.
    ToggleLanTitle,
    /// Probe running instances every this many seconds.
    SetProbeInterval(u32),
    /// Quit the tray.
    Quit,
}

/// One row of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A row; disabled when `action` is `None`.
    Row {
        /// The text shown (already sanitised).
        label: String,
        /// What a click does.
        action: Option<Action>,
        /// What the row stands for, when its label can change (see [`Item::key`]).
        key: Option<String>,
        /// Its key equivalent, in muda's accelerator syntax
        /// (`CmdOrCtrl+C`), where the platform shows one (macOS).
        accel: Option<&'static str>,
    },
    /// A row that opens a submenu.
    Submenu {
        /// The text shown (already sanitised).
        label: String,
        /// The submenu's rows.
        items: Vec<Item>,
        /// What the submenu stands for, when its label can change (see [`Item::key`]).
        key: Option<String>,
    },
    /// A row with a check mark.
    Check {
        /// The text shown.
        label: String,
        /// Whether the mark is shown.
        checked: bool,
        /// What a click does.
        action: Action,
    },
    /// A separator line.
    Separator,
}

impl Item {
    fn info(label: impl AsRef<str>) -> Item {
        Item::Row { label: sanitize(label.as_ref(), MAX_LABEL), action: None, key: None, accel: None }
    }

    fn check(label: &str, checked: bool, action: Action) -> Item {
        Item::Check { label: label.to_owned(), checked, action }
    }

    fn action(label: impl AsRef<str>, action: Action) -> Item {
        Item::Row { label: sanitize(label.as_ref(), MAX_LABEL), action: Some(action), key: None, accel: None }
    }

    fn submenu(label: impl AsRef<str>, items: Vec<Item>) -> Item {
        Item::Submenu { label: sanitize(label.as_ref(), MAX_LABEL), items, key: None }
    }

    /// The same item, standing for `key`.
    fn keyed(mut self, key: String) -> Item {
        if let Item::Row { key: k, .. } | Item::Submenu { key: k, .. } = &mut self {
            *k = Some(key);
        }
        self
    }

    /// The same row, with the key equivalent `accel`.
    fn with_accel(mut self, accel: &'static str) -> Item {
        if let Item::Row { accel: a, .. } = &mut self {
            *a = Some(accel);
        }
        self
    }

    /// The row's key equivalent, if it has one (muda's syntax).
    pub fn accelerator(&self) -> Option<&'static str> {
        match self {
            Item::Row { accel, .. } => *accel,
            _ => None,
        }
    }

    /// What the item stands for across two menus. Rows about one instance
    /// (its row, its warning, its "Starting…" row) and rows whose text counts
    /// something carry a key; every other item is what its label says, so two
    /// items with different labels are different items.
    pub fn key(&self) -> Option<&str> {
        match self {
            Item::Row { key, .. } | Item::Submenu { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// The text shown for this item (empty for a separator).
    pub fn label(&self) -> &str {
        match self {
            Item::Row { label, .. } | Item::Submenu { label, .. } | Item::Check { label, .. } => label,
            Item::Separator => "",
        }
    }
}

/// Everything the tray shows for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuModel {
    /// The icon to show.
    pub icon: IconKind,
    /// The status item's title beside the icon (macOS): `LAN` while exposed.
    pub title: Option<String>,
    /// A one-line summary (tooltip where the platform has one).
    pub tooltip: String,
    /// The menu's rows, top to bottom.
    pub items: Vec<Item>,
}

/// What the menu depends on besides the snapshot.
#[derive(Debug, Clone)]
pub struct Context {
    /// The local time zone, for "running since" rows.
    pub local: FixedOffset,
    /// The folder "Show Server Files" opens, if it exists.
    pub runtime_folder: Option<PathBuf>,
    /// Osaurus can be opened and told what to do from the menu: on macOS,
    /// and in the demo on every platform (its fake Osaurus).
    pub can_start_osaurus: bool,
    /// The platform shows a title beside the icon (macOS).
    pub has_title: bool,
    /// Launch at login as read back from the system; `None` where unsupported.
    pub launch_at_login: Option<bool>,
    /// The user's settings.
    pub settings: Settings,
    /// A message about the last failed action, shown until the next one.
    pub notice: Option<String>,
    /// What the system said about the app's own permissions, one sentence
    /// each (notifications refused and shown another way; launch at login
    /// waiting for approval, or impossible from where the app runs): shown
    /// above Launch at Login for as long as it holds.
    pub system_notes: Vec<String>,
    /// What Osaurus's settings expose beyond the LAN (relay tunnels, CORS),
    /// as read; shown while an instance runs, when it is in effect.
    pub exposure: Exposure,
    /// This machine's network interfaces, for the URL another machine
    /// would use ([`lan_url`]).
    pub interfaces: Vec<Interface>,
}

/// The longest agent name in an "Internet:" row, so that the row keeps its URL.
const AGENT_NAME_CHARS: usize = 16;

/// The version the About row names: the package's, and the commit it was
/// built from when built from git (as `osaurus-tray --version`).
pub const VERSION: &str = env!("OSAURUS_TRAY_VERSION");

/// Where About leads: the project's page.
pub const PROJECT_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// Builds the menu for `snap`.
pub fn build(snap: &Snapshot, ctx: &Context) -> MenuModel {
    let running: Vec<&Instance> = snap.running().collect();
    let exposed: Vec<&Instance> = snap.exposed().collect();
    let mut items = Vec::new();

    if let Some(notice) = &ctx.notice {
        items.push(Item::info(format!("⚠ {notice}")).keyed("notice".into()));
    }
    items.push(Item::info(header(snap, &running)).keyed("header".into()));
    // A runtime folder that cannot be read hides whatever runs there: say
    // so, or "not running" would be believed.
    for (n, warning) in snap.warnings.iter().enumerate() {
        let text = format!("⚠ {}", sanitize(&capitalized(warning), 400));
        for (line, text) in wrap(&text, MAX_LABEL).into_iter().enumerate() {
            items.push(Item::info(text).keyed(format!("folder-warning:{n}:{line}")));
        }
    }
    for i in &exposed {
        let access = Reach::of(i).and_then(Reach::qualifier).map(|q| format!(" — {q}")).unwrap_or_default();
        // Named as its row names it; a click leads to the fix, or to it.
        let label = format!("⚠ Exposed to the local network: {}{access}", name(i));
        let row = match warning_action(i, snap, ctx) {
            Some(action) => Item::action(label, action),
            None => Item::info(label),
        };
        items.push(row.keyed(instance_key("exposed", i)));
    }
    // Tunnels and CORS are in effect only while a server runs.
    let none = Exposure::default();
    let web = if running.is_empty() { &none } else { &ctx.exposure };
    items.extend(exposure_rows(web, ctx.can_start_osaurus));

    if !running.is_empty() {
        items.push(Item::Separator);
        items.extend(running.iter().map(|i| instance_row(i, snap.details(i), ctx, running.len())));
    }
    let pending: Vec<&Instance> =
        snap.all().filter(|i| matches!(i.state, State::Starting | State::Restarting)).collect();
    if !pending.is_empty() {
        if running.is_empty() {
            items.push(Item::Separator);
        }
        for i in pending {
            let what = if i.state == State::Starting { "Starting" } else { "Restarting" };
            items.push(Item::info(format!("{what}… ({})", i.short_id())).keyed(instance_key("pending", i)));
        }
    }

    items.push(Item::Separator);
    match snap.best().and_then(|b| b.usable_url().map(str::to_owned)) {
        Some(url) => {
            items.push(Item::action("Copy URL", Action::Copy(url.clone())).with_accel("CmdOrCtrl+C"));
            items.push(Item::action("Open in Browser", Action::OpenUrl(url)));
        }
        None => {
            items.push(Item::info("Copy URL").with_accel("CmdOrCtrl+C"));
            items.push(Item::info("Open in Browser"));
        }
    }
    let leftovers = snap.leftovers().count();
    if leftovers > 0 {
        let servers = if leftovers == 1 { "Server" } else { "Servers" };
        let row = Item::action(format!("Remove {leftovers} Left-Over {servers}"), Action::RemoveLeftovers);
        items.push(row.keyed("remove-leftovers".into()));
    }
    items.push(Item::Separator);
    if ctx.can_start_osaurus {
        items.push(Item::action("Open Osaurus", Action::OpenOsaurus));
    }
    for (n, note) in ctx.system_notes.iter().enumerate() {
        for (line, text) in wrap(&format!("ⓘ {note}"), MAX_LABEL).into_iter().enumerate() {
            items.push(Item::info(text).keyed(format!("system-note:{n}:{line}")));
        }
    }
    if let Some(on) = ctx.launch_at_login {
        items.push(Item::check("Launch at Login", on, Action::ToggleLaunchAtLogin));
    }
    items.push(settings_menu(ctx));
    items.push(match &ctx.runtime_folder {
        Some(dir) => Item::action("Show Server Files", Action::OpenFolder(dir.clone())),
        None => Item::info("Show Server Files"),
    });
    items.push(Item::Separator);
    items.push(Item::action(format!("About Osaurus Tray {VERSION}"), Action::OpenUrl(PROJECT_URL.into())));
    items.push(Item::action("Quit Osaurus Tray", Action::Quit).with_accel("CmdOrCtrl+Q"));

    let any_dead = running.iter().any(|i| i.reachable == Some(false));
    let glyph = match (running.is_empty(), any_dead) {
        (true, _) => Glyph::NotRunning,
        (false, false) => Glyph::Running,
        (false, true) => Glyph::NotResponding,
    };
    // One badge for any exposure; the title and the rows say which.
    let icon = IconKind { glyph, lan_badge: !exposed.is_empty() || web.any() };
    let open = exposed.iter().any(|i| i.lan_access == Some(LanAccess::Open));
    let marks: Vec<&str> =
        [(!exposed.is_empty()).then_some(if open { "LAN OPEN" } else { "LAN" }), web.any().then_some("WEB")]
            .into_iter()
            .flatten()
            .collect();
    let title = (ctx.has_title && ctx.settings.lan_title && !marks.is_empty()).then(|| marks.join(" "));
    let mut tooltip =
        items.iter().find(|i| !i.label().starts_with('⚠')).map(|i| i.label().to_owned()).unwrap_or_default();
    if open {
        tooltip.push_str(" — open to anyone on the local network");
    } else if !exposed.is_empty() {
        tooltip.push_str(" — exposed to the local network");
    }
    if !web.tunnels.is_empty() {
        tooltip.push_str(" — reachable from the internet");
    }
    if web.any_website {
        tooltip.push_str(" — any website can use it");
    }
    MenuModel { icon, title, tooltip, items }
}

/// `text` in lines of at most `width` characters, broken at spaces (a word
/// longer than a line is cut); later lines are indented under the first's
/// text.
/// `text` with its first letter in upper case, as a row begins.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(width - 2).collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "  ".into()));
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// The warning rows for what Osaurus exposes beyond the LAN: one per
/// tunnelled agent (a click copies its public URL), one for CORS open to any
/// website, one per settings file that could not be used.
fn exposure_rows(web: &Exposure, can_open: bool) -> Vec<Item> {
    let mut rows = Vec::new();
    for t in &web.tunnels {
        let name = sanitize(&t.label(), AGENT_NAME_CHARS);
        let row = match (&t.url, &t.problem) {
            (Some(url), _) => Item::action(
                format!("⚠ Internet: {name} at https://{}.{RELAY_DOMAIN}", short_address(url)),
                Action::Copy(url.clone()),
            ),
            (None, Some(why)) => Item::info(format!("⚠ Internet: {name} (tunnel on; {why})")),
            (None, None) => Item::info(format!("⚠ Internet: {name} (tunnel on)")),
        };
        rows.push(row.keyed(format!("tunnel:{}", t.agent_id)));
    }
    // No control message turns a tunnel or CORS off: the way is Osaurus's
    // settings. A tunnel's row copies its URL, so a row of its own leads there.
    if can_open && !web.tunnels.is_empty() {
        let tunnels = if web.tunnels.len() == 1 { "the Tunnel" } else { "the Tunnels" };
        rows.push(
            Item::action(format!("   Turn {tunnels} Off in Osaurus…"), Action::OpenOsaurus).keyed("tunnels-off".into()),
        );
    }
    if web.any_website {
        let label = "⚠ Any website you open can use this server";
        let row = if can_open { Item::action(label, Action::OpenOsaurus) } else { Item::info(label) };
        rows.push(row.keyed("any-website".into()));
    }
    for (n, p) in web.problems.iter().enumerate() {
        rows.push(Item::info(format!("⚠ {p}")).keyed(format!("exposure-problem:{n}")));
    }
    rows
}

/// The menu as a desktop reads it (over D-Bus on Linux): for each item its
/// label, whether it can be clicked, its check mark (1 or 0; `null` where it
/// has none) and its children. Separators read as enabled empty rows.
pub fn tree(items: &[Item]) -> serde_json::Value {
    let node = |item: &Item| {
        let (enabled, toggle, children) = match item {
            Item::Row { action, .. } => (action.is_some(), None, vec![]),
            Item::Submenu { items, .. } => (true, None, items.clone()),
            Item::Check { checked, .. } => (true, Some(u8::from(*checked)), vec![]),
            Item::Separator => (true, None, vec![]),
        };
        serde_json::json!({
            "label": item.label(),
            "enabled": enabled,
            "toggle-state": toggle,
            "children": tree(&children),
        })
    };
    serde_json::Value::Array(items.iter().map(node).collect())
}

/// The first row: how many servers are alive, and how many entries that
/// say running do not answer or are left over.
fn header(snap: &Snapshot, running: &[&Instance]) -> String {
    let leftover = |i: &Instance| i.leftover.is_some() || snap.details(i).is_some_and(|d| d.leftover);
    let left = running.iter().filter(|i| leftover(i)).count();
    let other = running.iter().filter(|i| !leftover(i) && i.not_osaurus.is_some()).count();
    let silent =
        running.iter().filter(|i| !leftover(i) && i.not_osaurus.is_none() && i.reachable == Some(false)).count();
    let alive = running.len() - left - other - silent;
    let mut text = match alive {
        0 => "Osaurus is not running".to_owned(),
        1 => "Osaurus: 1 server running".to_owned(),
        n => format!("Osaurus: {n} servers running"),
    };
    let others: Vec<String> = [(silent, "not responding"), (left, "left over"), (other, "not Osaurus")]
        .into_iter()
        .filter(|&(n, _)| n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    // Beside the running ones, not among them: "3 servers running, 1 not
    // responding" is four rows.
    match (alive, others.is_empty()) {
        (_, true) => {}
        (0, false) => text.push_str(&format!(" ({})", others.join(", "))),
        (_, false) => text.push_str(&format!(", {}", others.join(", "))),
    }
    text
}

/// "30 s", "5 min".
fn every_label(secs: u32) -> String {
    match secs {
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn settings_menu(ctx: &Context) -> Item {
    let s = &ctx.settings;
    let mut items = vec![Item::check("Notifications", s.notifications, Action::ToggleNotifications)];
    if ctx.has_title {
        items.push(Item::check("Show “LAN” in the Menu Bar", s.lan_title, Action::ToggleLanTitle));
    }
    let every = PROBE_CHOICES
        .iter()
        .map(|&secs| Item::check(&every_label(secs), s.probe_interval_secs == secs, Action::SetProbeInterval(secs)))
        .collect();
    items.push(Item::submenu("Check Servers Every", every));
    Item::submenu("Settings", items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::select::rank;
    use crate::inspect::{Details, Models};
    use chrono::{TimeZone, Utc};

    fn ctx() -> Context {
        Context {
            local: FixedOffset::east_opt(2 * 3600).unwrap(),
            runtime_folder: Some("/rt".into()),
            can_start_osaurus: false,
            has_title: true,
            launch_at_login: Some(false),
            settings: Settings::default(),
            notice: None,
            system_notes: Vec::new(),
            exposure: Exposure::default(),
            interfaces: machine("192.168.1.23"),
        }
    }

    /// A machine whose LAN address (on en0) is `lan`.
    fn machine(lan: &str) -> Vec<Interface> {
        ["127.0.0.1", lan]
            .iter()
            .zip(["lo0", "en0"])
            .map(|(a, n)| Interface { name: n.into(), address: a.parse().unwrap() })
            .collect()
    }

    fn inst(id: &str, state: State, port: u16, exposed: bool, reachable: Option<bool>) -> Instance {
        let updated_at = Some(Utc.with_ymd_and_hms(2025, 9, 8, 12, 35, 12).unwrap());
        let running = crate::test_support::running(id, port, exposed, reachable);
        match state {
            State::Running => Instance { updated_at, ..running },
            _ => Instance { state, url: None, address: None, port: None, loopback_url: None, updated_at, ..running },
        }
    }

    fn snap(mut v: Vec<Instance>) -> Snapshot {
        rank(&mut v, chrono::Utc::now());
        Snapshot::of(v)
    }

    fn walk(items: &[Item], f: &mut dyn FnMut(&str)) {
        for i in items {
            f(i.label());
            if let Item::Submenu { items, .. } = i {
                walk(items, f);
            }
        }
    }

    fn labels(items: &[Item]) -> Vec<&str> {
        items.iter().map(Item::label).collect()
    }

    fn find<'a>(items: &'a [Item], label: &str) -> &'a Item {
        items.iter().find(|i| i.label() == label).unwrap_or_else(|| panic!("no {label:?} in {:?}", labels(items)))
    }

    fn action_of(item: &Item) -> Option<&Action> {
        match item {
            Item::Row { action, .. } => action.as_ref(),
            _ => None,
        }
    }

    #[test]
    fn nothing_running() {
        let m = build(&snap(vec![]), &ctx());
        assert_eq!(m.items[0].label(), "Osaurus is not running");
        assert_eq!(m.icon, IconKind { glyph: Glyph::NotRunning, lan_badge: false });
        assert_eq!(action_of(find(&m.items, "Copy URL")), None, "disabled without an instance");
        assert_eq!(m.title, None);
        assert!(!labels(&m.items).contains(&"Open Osaurus"));
        let mac = build(&snap(vec![]), &Context { can_start_osaurus: true, ..ctx() });
        assert_eq!(action_of(find(&mac.items, "Open Osaurus")), Some(&Action::OpenOsaurus));
    }

    #[test]
    fn a_folder_that_cannot_be_read_is_said_under_the_header_until_it_can() {
        let mut unreadable = snap(vec![]);
        unreadable.warnings = vec!["cannot read runtime folder /home/u/.osaurus/runtime: permission denied".into()];
        let m = build(&unreadable, &ctx());
        assert_eq!(m.items[0].label(), "Osaurus is not running");
        assert_eq!(m.items[1].label(), "⚠ Cannot read runtime folder /home/u/.osaurus/runtime: permission denied");
        assert_eq!(m.items[1].key(), Some("folder-warning:0:0"));
        assert_eq!(action_of(&m.items[1]), None);
        let back = build(&snap(vec![]), &ctx());
        assert!(!labels(&back.items).iter().any(|l| l.contains("Cannot read")), "{:?}", labels(&back.items));
    }

    #[test]
    fn about_names_the_version_and_leads_to_the_project_and_quit_stands_alone() {
        let m = build(&snap(vec![]), &ctx());
        let n = m.items.len();
        assert_eq!(m.items[n - 1].label(), "Quit Osaurus Tray");
        let about = &m.items[n - 2];
        assert!(about.label().starts_with("About Osaurus Tray 0.1.0"), "{}", about.label());
        assert_eq!(action_of(about), Some(&Action::OpenUrl("https://github.com/osaurus-tray/osaurus-tray".into())));
        assert!(matches!(m.items[n - 3], Item::Separator), "About and Quit in their own section");
    }

    #[test]
    fn one_running_instance_with_its_submenu() {
        let m = build(&snap(vec![inst("ABCDEF0123", State::Running, 1337, false, Some(true))]), &ctx());
        assert_eq!(m.items[0].label(), "Osaurus: 1 server running");
        let Item::Submenu { items, .. } = find(&m.items, "http://127.0.0.1:1337") else { panic!("not a submenu") };
        assert_eq!(action_of(find(items, "Copy URL")), Some(&Action::Copy("http://127.0.0.1:1337".into())));
        assert_eq!(
            action_of(find(items, "Copy OpenAI Base URL")),
            Some(&Action::Copy("http://127.0.0.1:1337/v1".into()))
        );
        assert_eq!(
            action_of(find(items, "Copy export OPENAI_BASE_URL=…")),
            Some(&Action::Copy("export OPENAI_BASE_URL=http://127.0.0.1:1337/v1".into()))
        );
        assert_eq!(action_of(find(items, "Open in Browser")), Some(&Action::OpenUrl("http://127.0.0.1:1337".into())));
        // The details in one row, under the status.
        let n = items.len();
        assert_eq!(labels(&items[n - 2..]), ["Responding", "ID ABCDEF01 · since 2025-09-08 14:35"]);
        assert!(!labels(items).iter().any(|l| l.starts_with("State:")));
        assert_eq!(m.icon, IconKind { glyph: Glyph::Running, lan_badge: false });
        assert_eq!(action_of(find(&m.items, "Copy URL")), Some(&Action::Copy("http://127.0.0.1:1337".into())));
    }

    #[test]
    fn an_exposed_instance_gets_a_warning_a_marker_a_badge_and_a_title() {
        let m = build(
            &snap(vec![
                inst("A", State::Running, 1337, false, Some(true)),
                inst("B", State::Running, 1338, true, Some(true)),
            ]),
            &ctx(),
        );
        assert_eq!(m.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338");
        assert!(labels(&m.items).contains(&"http://127.0.0.1:1338  [LAN]"), "named as its row: {:?}", labels(&m.items));
        assert!(labels(&m.items).contains(&"http://127.0.0.1:1337"));
        assert!(m.icon.lan_badge);
        assert_eq!(m.title.as_deref(), Some("LAN"));
        assert!(m.tooltip.contains("exposed"));
        let no_title = build(
            &snap(vec![inst("B", State::Running, 1338, true, None)]),
            &Context { settings: Settings { lan_title: false, ..Settings::default() }, ..ctx() },
        );
        assert_eq!(no_title.title, None);
        assert!(no_title.icon.lan_badge);
        let linux =
            build(&snap(vec![inst("B", State::Running, 1338, true, None)]), &Context { has_title: false, ..ctx() });
        assert_eq!(linux.title, None);
    }

    #[test]
    fn a_dead_instance_is_marked_and_changes_the_icon() {
        let m = build(
            &snap(vec![
                inst("A", State::Running, 1, false, Some(true)),
                inst("B", State::Running, 2, false, Some(false)),
            ]),
            &ctx(),
        );
        let Item::Submenu { items, .. } = find(&m.items, "http://127.0.0.1:2  (not responding)") else { panic!() };
        assert!(labels(items).contains(&"Not responding: nothing listens on port 2"), "{:?}", labels(items));
        assert_eq!(m.icon.glyph, Glyph::NotResponding);
        // The live one is best: the quick actions use it.
        assert_eq!(action_of(find(&m.items, "Open in Browser")), Some(&Action::OpenUrl("http://127.0.0.1:1".into())));
    }

    #[test]
    fn instances_are_listed_best_first() {
        let mut old = inst("OLD", State::Running, 1, false, None);
        old.updated_at = Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
        let m = build(&snap(vec![old, inst("NEW", State::Running, 2, false, None)]), &ctx());
        let rows: Vec<&str> = m
            .items
            .iter()
            .filter(|i| matches!(i, Item::Submenu { .. }) && i.label().starts_with("http"))
            .map(Item::label)
            .collect();
        assert_eq!(rows, ["http://127.0.0.1:2", "http://127.0.0.1:1"]);
    }

    #[test]
    fn starting_and_restarting_are_disabled_rows() {
        let m = build(
            &snap(vec![
                inst("S1234567890", State::Starting, 0, false, None),
                inst("R1234567890", State::Restarting, 0, false, None),
            ]),
            &ctx(),
        );
        assert_eq!(m.items[0].label(), "Osaurus is not running");
        assert_eq!(action_of(find(&m.items, "Starting… (S1234567)")), None);
        assert_eq!(action_of(find(&m.items, "Restarting… (R1234567)")), None);
    }

    #[test]
    fn invalid_entries_are_not_shown() {
        let m = build(&snap(vec![inst("BAD", State::Invalid, 0, false, None)]), &ctx());
        assert!(!labels(&m.items).iter().any(|l| l.contains("BAD")));
    }

    #[test]
    fn labels_are_sanitised_and_bounded() {
        let mut evil = inst("ID\u{202E}x", State::Running, 1337, false, None);
        evil.url = Some(format!("http://127.0.0.1:1337/{}\u{202E}\n", "a".repeat(300)));
        let m = build(&snap(vec![evil]), &ctx());
        walk(&m.items, &mut |l| {
            assert!(l.chars().count() <= MAX_LABEL, "{l}");
            assert!(!l.chars().any(|c| c.is_control() || c == '\u{202E}'), "{l:?}");
        });
    }

    #[test]
    fn a_notice_is_shown_first() {
        let m = build(&snap(vec![]), &Context { notice: Some("Could not copy: no clipboard".into()), ..ctx() });
        assert_eq!(m.items[0].label(), "⚠ Could not copy: no clipboard");
        assert_eq!(m.tooltip, "Osaurus is not running");
    }

    fn check_of(item: &Item) -> Option<(bool, &Action)> {
        match item {
            Item::Check { checked, action, .. } => Some((*checked, action)),
            _ => None,
        }
    }

    #[test]
    fn what_the_system_said_is_shown_above_launch_at_login_in_lines_that_fit() {
        let refused =
            crate::notifications::Answer::Refused("Notifications are not allowed for this application".into())
                .note()
                .unwrap();
        let approval = crate::autostart::login_note(crate::autostart::LoginStatus::RequiresApproval, false).unwrap();
        let m = build(&snap(vec![]), &Context { system_notes: vec![refused.clone(), approval.clone()], ..ctx() });
        let all = labels(&m.items);
        let login = all.iter().position(|l| *l == "Launch at Login").unwrap();
        let notes: Vec<&str> = all[..login].iter().copied().skip_while(|l| !l.starts_with('ⓘ')).collect();
        assert!(notes.len() >= 3, "{all:?}");
        assert!(notes[0].starts_with("ⓘ macOS refused Osaurus Tray's notifications"), "{notes:?}");
        let joined = notes.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, format!("ⓘ {refused} ⓘ {approval}"));
        for l in &notes {
            assert!(l.chars().count() <= MAX_LABEL, "{l}");
        }
        assert_eq!(m.tooltip, "Osaurus is not running", "the notes are not the summary");
        let keys: Vec<&str> = m.items.iter().filter_map(Item::key).filter(|k| k.starts_with("system-note")).collect();
        assert_eq!(keys.len(), notes.len(), "each line is keyed: {keys:?}");
        let none = build(&snap(vec![]), &ctx());
        assert!(!labels(&none.items).iter().any(|l| l.starts_with('ⓘ')));
    }

    #[test]
    fn launch_at_login_shows_the_state_read_back() {
        let on = build(&snap(vec![]), &Context { launch_at_login: Some(true), ..ctx() });
        assert_eq!(check_of(find(&on.items, "Launch at Login")), Some((true, &Action::ToggleLaunchAtLogin)));
        let off = build(&snap(vec![]), &ctx());
        assert!(!check_of(find(&off.items, "Launch at Login")).unwrap().0);
        let unsupported = build(&snap(vec![]), &Context { launch_at_login: None, ..ctx() });
        assert!(!labels(&unsupported.items).contains(&"Launch at Login"));
    }

    #[test]
    fn settings_show_the_current_choices() {
        let settings = Settings { notifications: false, lan_title: true, probe_interval_secs: 30, api_key_file: None };
        let m = build(&snap(vec![]), &Context { settings, ..ctx() });
        let Item::Submenu { items, .. } = find(&m.items, "Settings") else { panic!() };
        assert_eq!(check_of(find(items, "Notifications")), Some((false, &Action::ToggleNotifications)));
        assert!(check_of(find(items, "Show “LAN” in the Menu Bar")).unwrap().0);
        let Item::Submenu { items: every, .. } = find(items, "Check Servers Every") else { panic!() };
        let checked: Vec<&str> = every.iter().filter(|i| check_of(i).unwrap().0).map(Item::label).collect();
        assert_eq!(checked, ["30 s"]);
        assert_eq!(labels(every), ["30 s", "1 min", "5 min", "15 min"]);
        assert_eq!(check_of(find(every, "5 min")).unwrap().1, &Action::SetProbeInterval(300));
        let linux = build(&snap(vec![]), &Context { has_title: false, ..ctx() });
        let Item::Submenu { items, .. } = find(&linux.items, "Settings") else { panic!() };
        assert!(!labels(items).iter().any(|l| l.contains("LAN")));
    }

    fn with_details(mut s: Snapshot, id: &str, d: Details) -> Snapshot {
        std::sync::Arc::make_mut(&mut s.details).insert(id.into(), d);
        s
    }

    fn sub<'a>(items: &'a [Item], label: &str) -> &'a [Item] {
        match find(items, label) {
            Item::Submenu { items, .. } => items,
            other => panic!("{label:?} is not a submenu: {other:?}"),
        }
    }

    #[test]
    fn models_are_listed_and_copied() {
        let s = with_details(
            snap(vec![inst("A", State::Running, 1, false, Some(true))]),
            "A",
            Details { models: Models::Listed(vec!["llama".into(), "qwen".into()]), ..Details::default() },
        );
        let m = build(&s, &ctx());
        let models = sub(sub(&m.items, "http://127.0.0.1:1"), "Models");
        assert_eq!(labels(models), ["llama", "qwen"]);
        assert_eq!(action_of(&models[1]), Some(&Action::Copy("qwen".into())));
    }

    #[test]
    fn a_model_id_that_would_paste_as_something_else_is_shown_but_never_copied() {
        let s = with_details(
            snap(vec![inst("A", State::Running, 1, false, Some(true))]),
            "A",
            Details { models: Models::Listed(vec!["ok".into(), "rm -rf ~\n".into()]), ..Details::default() },
        );
        let m = build(&s, &ctx());
        let models = sub(sub(&m.items, "http://127.0.0.1:1"), "Models");
        assert_eq!(action_of(&models[0]), Some(&Action::Copy("ok".into())));
        assert_eq!(action_of(&models[1]), None);
        assert!(!models[1].label().contains('\n'), "{:?}", models[1].label());
    }

    #[test]
    fn a_401_says_a_key_is_needed_and_nothing_more() {
        for exposed in [false, true] {
            let s = with_details(
                snap(vec![inst("A", State::Running, 1, exposed, Some(true))]),
                "A",
                Details { models: Models::NeedsKey, ..Details::default() },
            );
            let m = build(&s, &ctx());
            let row = if exposed { "http://127.0.0.1:1  [LAN]" } else { "http://127.0.0.1:1" };
            let models = sub(sub(&m.items, row), "Models");
            assert_eq!(labels(models), ["Models need an access key (the server answered 401)", HOW_TO_GIVE_ROW]);
            assert_eq!(action_of(&models[0]), None);
            let mut all = Vec::new();
            walk(&m.items, &mut |l| all.push(l.to_owned()));
            assert_eq!(
                all.iter().any(|l| l.contains("xposed")),
                exposed,
                "exposure is mentioned only for an exposed instance: {all:?}"
            );
        }
        let bare = build(&snap(vec![inst("A", State::Running, 1, false, None)]), &ctx());
        assert_eq!(
            labels(sub(sub(&bare.items, "http://127.0.0.1:1"), "Models")),
            ["Models unknown until the server responds"]
        );
    }

    #[test]
    fn owner_duplicate_and_leftover_are_shown() {
        let owner = crate::process::Owner { pid: 42, name: "osaurus".into() };
        let mut s = snap(vec![
            inst("A", State::Running, 1, false, Some(true)),
            inst("B", State::Running, 2, false, Some(false)),
        ]);
        std::sync::Arc::make_mut(&mut s.details)
            .insert("A".into(), Details { owner: Some(owner), duplicate: true, ..Details::default() });
        std::sync::Arc::make_mut(&mut s.details).insert("B".into(), Details { leftover: true, ..Details::default() });
        let m = build(&s, &ctx());
        let a = sub(&m.items, "http://127.0.0.1:1  (duplicate)");
        assert_eq!(labels(a).last(), Some(&"ID A · since 2025-09-08 14:35 · osaurus, pid 42"), "{:?}", labels(a));
        assert!(labels(a).iter().any(|l| l.starts_with("Duplicate:")));
        let b = sub(&m.items, "http://127.0.0.1:2  (left over)");
        assert!(labels(b).contains(&"Left over from a crash: nothing listens on port 2"));
        assert_eq!(action_of(find(&m.items, "Remove 1 Left-Over Server")), Some(&Action::RemoveLeftovers));
        let none = build(&snap(vec![inst("B", State::Running, 2, false, Some(false))]), &ctx());
        assert!(!labels(&none.items).iter().any(|l| l.starts_with("Remove")), "not a leftover until confirmed");
        let mut other = inst("C", State::Running, 3, false, Some(false));
        other.not_osaurus = Some("port 3 answers, but not as Osaurus".into());
        let s = with_details(snap(vec![other]), "C", Details { leftover: true, ..Details::default() });
        let m = build(&s, &ctx());
        let c = sub(&m.items, "http://127.0.0.1:3  (left over)");
        assert!(labels(c).contains(&"Left over from a crash: port 3 answers, but not as Osaurus"), "{:?}", labels(c));
    }

    #[test]
    fn the_header_counts_live_servers_and_says_what_the_others_are() {
        let alive = inst("A", State::Running, 1, false, Some(true));
        let unprobed = inst("B", State::Running, 2, false, None);
        let silent = inst("C", State::Running, 3, false, Some(false));
        let left =
            Instance { leftover: Some("its file is older".into()), ..inst("D", State::Running, 4, false, Some(false)) };
        let other = Instance { not_osaurus: Some("x".into()), ..inst("E", State::Running, 5, false, Some(false)) };
        let header = |v: Vec<Instance>| build(&snap(v), &ctx()).items[0].label().to_owned();
        assert_eq!(header(vec![alive.clone()]), "Osaurus: 1 server running");
        assert_eq!(header(vec![alive.clone(), unprobed.clone()]), "Osaurus: 2 servers running");
        assert_eq!(
            header(vec![alive.clone(), unprobed, silent.clone(), left.clone()]),
            "Osaurus: 2 servers running, 1 not responding, 1 left over"
        );
        assert_eq!(header(vec![alive, other]), "Osaurus: 1 server running, 1 not Osaurus");
        assert_eq!(header(vec![silent, left]), "Osaurus is not running (1 not responding, 1 left over)");
        assert_eq!(header(vec![]), "Osaurus is not running");
    }

    #[test]
    fn rows_about_an_instance_carry_its_key_whatever_they_say() {
        let a = inst("A", State::Running, 1, true, Some(true));
        let mut b = inst("B", State::Running, 1, true, Some(false));
        b.updated_at = Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
        let s1 = build(&snap(vec![a.clone(), b.clone()]), &ctx());
        // Same instances, B now answering and A gone quiet: labels change,
        // keys follow the instance, not the place or the text.
        let (mut a2, mut b2) = (a, b);
        a2.reachable = Some(false);
        b2.reachable = Some(true);
        let s2 = build(&snap(vec![a2, b2]), &ctx());
        let keyed = |m: &MenuModel| -> Vec<(String, String)> {
            m.items.iter().filter_map(|i| Some((i.key()?.to_owned(), i.label().to_owned()))).collect()
        };
        let (k1, k2) = (keyed(&s1), keyed(&s2));
        let key_of = |k: &[(String, String)], label: &str| k.iter().find(|(_, l)| l == label).unwrap().0.clone();
        assert_eq!(key_of(&k1, "http://127.0.0.1:1  [LAN]"), "instance:\"/rt/A\"");
        assert_eq!(key_of(&k2, "http://127.0.0.1:1  [LAN]  (not responding)"), "instance:\"/rt/A\"");
        assert_eq!(k1.iter().filter(|(k, _)| k.starts_with("exposed:")).count(), 2);
        assert_eq!(key_of(&k1, "Osaurus: 1 server running, 1 not responding"), "header");
        // Unkeyed items are told apart by their labels: no two alike in a list.
        let mut plain: Vec<&str> =
            s1.items.iter().filter(|i| i.key().is_none() && !matches!(i, Item::Separator)).map(Item::label).collect();
        let n = plain.len();
        plain.dedup();
        assert_eq!(plain.len(), n);
    }

    #[test]
    fn another_program_on_the_port_is_named_and_nothing_of_it_handed_out() {
        let mut impostor = inst("A", State::Running, 41055, false, Some(false));
        impostor.not_osaurus = Some("port 41055 answers, but not as Osaurus".into());
        let m = build(&snap(vec![impostor]), &ctx());
        let rows = sub(&m.items, "http://127.0.0.1:41055  (not Osaurus)");
        assert!(labels(rows).contains(&"Port 41055 answers, but not as Osaurus"), "{:?}", labels(rows));
        for label in ["Copy URL", "Copy OpenAI Base URL", "Copy export OPENAI_BASE_URL=…", "Open in Browser"] {
            assert_eq!(action_of(find(rows, label)), None, "{label} hands it out");
        }
        assert_eq!(action_of(find(&m.items, "Copy URL")), None, "never the best one");
        assert_eq!(action_of(find(&m.items, "Open in Browser")), None);
    }

    /// An exposed instance as Osaurus writes it: the Mac's LAN address `at`.
    fn exposed_at(at: &str) -> Instance {
        let mut i = inst("B", State::Running, 1338, true, Some(true));
        i.address = Some(at.into());
        i.url = Some(if at == "0.0.0.0" { "http://127.0.0.1:1338".into() } else { format!("http://{at}:1338") });
        i
    }

    #[test]
    fn copy_lan_url_copies_what_another_machine_would_use() {
        let m = build(&snap(vec![exposed_at("192.168.1.23")]), &ctx());
        let rows = sub(&m.items, "http://192.168.1.23:1338  [LAN]");
        let lan = Some(Action::Copy("http://192.168.1.23:1338".into()));
        assert_eq!(action_of(find(rows, "Copy LAN URL")).cloned(), lan);
        let lo = Action::Copy("http://127.0.0.1:1338".into());
        assert_eq!(action_of(find(rows, "Copy Local URL (127.0.0.1)")), Some(&lo));
        assert_eq!(m.items[1].label(), "⚠ Exposed to the local network: http://192.168.1.23:1338", "as its row");
        // Bound to every address, the file saying so: the URL is loopback,
        // the LAN URL is this machine's LAN address, never 127.0.0.1 twice.
        let any = build(&snap(vec![exposed_at("0.0.0.0")]), &Context { interfaces: machine("10.0.0.7"), ..ctx() });
        let rows = sub(&any.items, "http://127.0.0.1:1338  [LAN]");
        assert_eq!(action_of(find(rows, "Copy URL")), Some(&lo));
        assert_eq!(action_of(find(rows, "Copy LAN URL")), Some(&Action::Copy("http://10.0.0.7:1338".into())));
        assert!(!labels(rows).iter().any(|l| l.starts_with("Copy Local URL")), "Copy URL is that already");
        assert_eq!(any.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338", "as its row");
        // No LAN address here: no LAN URL to give.
        let alone = build(&snap(vec![exposed_at("0.0.0.0")]), &Context { interfaces: machine("127.0.0.1"), ..ctx() });
        assert!(!labels(sub(&alone.items, "http://127.0.0.1:1338  [LAN]")).contains(&"Copy LAN URL"));
        let local = build(&snap(vec![inst("A", State::Running, 1337, false, Some(true))]), &ctx());
        let rows = labels(sub(&local.items, "http://127.0.0.1:1337"));
        assert!(!rows.iter().any(|l| l.starts_with("Copy LAN") || l.starts_with("Copy Local")), "{rows:?}");
    }

    #[test]
    fn a_lan_address_that_moved_is_said_and_no_dead_url_is_offered() {
        let mut moved = exposed_at("192.168.1.23");
        moved.address_on_this_machine = Some(false);
        let m = build(&snap(vec![moved]), &Context { interfaces: machine("10.0.0.7"), ..ctx() });
        assert_eq!(m.items[1].label(), "⚠ Exposed to the local network: http://192.168.1.23:1338", "the warning stays");
        let rows = sub(&m.items, "http://192.168.1.23:1338  [LAN]");
        assert!(
            labels(rows).contains(&"LAN address 192.168.1.23 gone; use http://127.0.0.1:1338"),
            "{:?}",
            labels(rows)
        );
        let lo = Action::Copy("http://127.0.0.1:1338".into());
        assert_eq!(action_of(find(rows, "Copy URL")), Some(&lo));
        assert_eq!(action_of(find(rows, "Copy LAN URL")), Some(&Action::Copy("http://10.0.0.7:1338".into())));
        let mut all = Vec::new();
        walk(&m.items, &mut |l| all.push(l.to_owned()));
        assert!(!all.iter().any(|l| l.contains("address gone)")), "{all:?}");
        let mut copies = Vec::new();
        fn actions(items: &[Item], out: &mut Vec<Action>) {
            for i in items {
                match i {
                    Item::Row { action: Some(a), .. } => out.push(a.clone()),
                    Item::Submenu { items, .. } => actions(items, out),
                    _ => {}
                }
            }
        }
        actions(&m.items, &mut copies);
        assert!(!copies.iter().any(|a| format!("{a:?}").contains("192.168.1.23")), "a dead URL is handed out");
        assert_eq!(action_of(find(&m.items, "Copy URL")), Some(&lo), "the quick action uses the URL that works");
    }

    #[test]
    fn the_lan_warning_is_enabled_and_leads_to_the_fix_or_its_instance() {
        let lan = || inst("B", State::Running, 1338, true, Some(true));
        let fix = build(&snap(vec![lan()]), &controlling());
        let make_local = Action::Control(Request::LocalOnly { dir: "/rt/B".into(), port: 1338 });
        assert_eq!(action_of(&fix.items[1]), Some(&make_local));
        let plain = build(&snap(vec![lan()]), &ctx());
        assert_eq!(action_of(&plain.items[1]), Some(&Action::Copy("http://127.0.0.1:1338".into())));
        assert_eq!(plain.items[1].key(), Some("exposed:\"/rt/B\""), "its key is kept");
        // A leftover's warning clears the leftovers; another program's leads nowhere.
        let mut s = snap(vec![inst("B", State::Running, 1338, true, Some(false))]);
        std::sync::Arc::make_mut(&mut s.details).insert("B".into(), Details { leftover: true, ..Details::default() });
        assert_eq!(action_of(&build(&s, &controlling()).items[1]), Some(&Action::RemoveLeftovers));
        let mut other = lan();
        other.not_osaurus = Some("port 1338 answers, but not as Osaurus".into());
        assert_eq!(action_of(&build(&snap(vec![other]), &ctx()).items[1]), None);
    }

    #[test]
    fn the_states_use_the_same_words_as_the_command_line() {
        let mut silent = snap(vec![inst("A", State::Running, 1, false, Some(false))]);
        std::sync::Arc::make_mut(&mut silent.details)
            .insert("A".into(), Details { not_responding: true, ..Details::default() });
        let m = build(&silent, &ctx());
        let rows = sub(&m.items, "http://127.0.0.1:1  (not responding)");
        assert!(labels(rows).contains(&"Not responding: still listens, but missed two checks"), "{:?}", labels(rows));
        assert_eq!(
            crate::vocabulary::Status::of(&silent.all().next().unwrap().clone(), silent.details.get("A")).word(),
            "not responding"
        );
        let unchecked = build(&snap(vec![inst("A", State::Running, 1, false, None)]), &ctx());
        assert!(labels(sub(&unchecked.items, "http://127.0.0.1:1")).contains(&"Not checked yet"));
    }

    #[test]
    fn no_jargon_reaches_the_menu() {
        let owner = crate::process::Owner { pid: 31, name: "osaurus".into() };
        let mut s = snap(vec![
            inst("A", State::Running, 1, false, Some(true)),
            inst("B", State::Running, 2, true, Some(false)),
            inst("C", State::Running, 3, true, Some(true)),
        ]);
        let d = std::sync::Arc::make_mut(&mut s.details);
        d.insert("A".into(), Details { owner: Some(owner), ..Details::default() });
        d.insert("B".into(), Details { leftover: true, ..Details::default() });
        let m = build(&s, &controlling());
        let mut all = Vec::new();
        walk(&m.items, &mut |l| all.push(l.to_owned()));
        for word in ["instance", "Runtime", "Loopback", "Leftover", "State:", "Process:", "Guarded", "Probably"] {
            assert!(!all.iter().any(|l| l.contains(word)), "{word:?} in {all:?}");
        }
    }

    #[test]
    fn copy_url_and_quit_carry_their_key_equivalents() {
        let m = build(&snap(vec![inst("A", State::Running, 1, false, Some(true))]), &ctx());
        assert_eq!(find(&m.items, "Copy URL").accelerator(), Some("CmdOrCtrl+C"));
        assert_eq!(find(&m.items, "Quit Osaurus Tray").accelerator(), Some("CmdOrCtrl+Q"));
        let rows = sub(&m.items, "http://127.0.0.1:1");
        assert_eq!(find(rows, "Copy URL").accelerator(), None, "one ⌘C: the best server's");
        let mut with = Vec::new();
        fn keyed(items: &[Item], out: &mut Vec<String>) {
            for i in items {
                if let Some(a) = i.accelerator() {
                    out.push(format!("{} {a}", i.label()));
                }
                if let Item::Submenu { items, .. } = i {
                    keyed(items, out);
                }
            }
        }
        keyed(&m.items, &mut with);
        assert_eq!(with, ["Copy URL CmdOrCtrl+C", "Quit Osaurus Tray CmdOrCtrl+Q"]);
    }

    #[test]
    fn guarded_and_open_exposure_show_at_a_glance() {
        let with = |access| {
            let mut i = inst("B", State::Running, 1338, true, Some(true));
            i.lan_access = Some(access);
            build(&snap(vec![i]), &ctx())
        };
        let open = with(LanAccess::Open);
        assert_eq!(open.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338 — open to anyone");
        assert_eq!(open.title.as_deref(), Some("LAN OPEN"));
        assert!(open.tooltip.contains("open to anyone"));
        let rows = sub(&open.items, "http://127.0.0.1:1338  [LAN]");
        assert!(labels(rows).contains(&"Exposed to the local network: open to anyone, no key needed"));
        let guarded = with(LanAccess::Guarded);
        assert_eq!(guarded.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338 — key required");
        assert_eq!(guarded.title.as_deref(), Some("LAN"));
        let unknown = with(LanAccess::Unknown);
        assert_eq!(unknown.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338");
        let blocked = with(LanAccess::Blocked);
        assert_eq!(blocked.items[1].label(), "⚠ Exposed to the local network: http://127.0.0.1:1338 — not checked");
        assert_eq!(blocked.title.as_deref(), Some("LAN"), "exposed all the same");
        let rows = sub(&blocked.items, "http://127.0.0.1:1338  [LAN]");
        assert!(labels(rows).contains(&format!("Not checked: {LAN_BLOCKED}").as_str()), "{:?}", labels(rows));
        assert!(format!("Not checked: {}", "macOS has not allowed local network access").chars().count() <= MAX_LABEL);
    }

    #[test]
    fn no_runtime_folder_disables_show_server_files() {
        let m = build(&snap(vec![]), &Context { runtime_folder: None, ..ctx() });
        assert_eq!(action_of(find(&m.items, "Show Server Files")), None);
        assert_eq!(action_of(m.items.last().unwrap()), Some(&Action::Quit));
    }

    const URL: &str = "https://0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed.agent.osaurus.ai";

    fn exposing(tunnels: Vec<crate::exposure::Tunnel>, any_website: bool) -> Context {
        Context { exposure: Exposure { active: false, tunnels, any_website, problems: vec![] }, ..ctx() }
    }

    fn tunnel(name: &str, url: Option<&str>) -> crate::exposure::Tunnel {
        crate::exposure::Tunnel {
            agent_id: "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4".into(),
            name: Some(name.into()),
            url: url.map(str::to_owned),
            problem: url.is_none().then(|| "no public address yet".to_owned()),
        }
    }

    #[test]
    fn a_tunnelled_agent_gets_a_warning_row_that_copies_its_public_url() {
        let running = snap(vec![inst("A", State::Running, 1337, false, Some(true))]);
        let m = build(&running, &exposing(vec![tunnel("Research", Some(URL))], false));
        let row = find(&m.items, "⚠ Internet: Research at https://0x5aaeb6…eaed.agent.osaurus.ai");
        assert_eq!(action_of(row), Some(&Action::Copy(URL.into())));
        assert_eq!(row.key(), Some("tunnel:5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4"));
        assert_eq!(m.title.as_deref(), Some("WEB"));
        assert!(m.icon.lan_badge, "the badge marks any exposure");
        assert!(m.tooltip.ends_with(" — reachable from the internet"), "{}", m.tooltip);
        let long = build(&running, &exposing(vec![tunnel(&"N".repeat(100), Some(URL))], false));
        let label = long.items.iter().map(Item::label).find(|l| l.starts_with("⚠ Internet:")).unwrap();
        assert!(label.ends_with("at https://0x5aaeb6…eaed.agent.osaurus.ai"), "a long name keeps the URL: {label}");
        assert!(label.chars().count() <= MAX_LABEL);
    }

    #[test]
    fn a_tunnel_without_an_address_is_a_disabled_row_with_the_reason() {
        let running = snap(vec![inst("A", State::Running, 1337, false, Some(true))]);
        let m = build(&running, &exposing(vec![tunnel("Helper", None)], false));
        let row = find(&m.items, "⚠ Internet: Helper (tunnel on; no public address yet)");
        assert_eq!(action_of(row), None);
    }

    #[test]
    fn any_website_gets_a_warning_row() {
        let running = snap(vec![inst("A", State::Running, 1337, false, Some(true))]);
        let m = build(&running, &exposing(vec![], true));
        assert_eq!(m.items[1].label(), "⚠ Any website you open can use this server");
        assert_eq!(m.items[1].key(), Some("any-website"));
        assert_eq!(m.title.as_deref(), Some("WEB"));
        assert!(m.tooltip.ends_with(" — any website can use it"));
        let quiet = build(&running, &ctx());
        assert!(!labels(&quiet.items).contains(&"⚠ Any website you open can use this server"));
        assert_eq!(quiet.title, None);
    }

    #[test]
    fn lan_and_web_marks_stand_side_by_side() {
        let m = build(
            &snap(vec![inst("B", State::Running, 1338, true, Some(true))]),
            &exposing(vec![tunnel("Research", Some(URL))], true),
        );
        assert_eq!(m.title.as_deref(), Some("LAN WEB"));
        let order: Vec<&str> = m.items.iter().map(Item::label).take(4).collect();
        assert_eq!(
            order,
            [
                "Osaurus: 1 server running",
                "⚠ Exposed to the local network: http://127.0.0.1:1338",
                "⚠ Internet: Research at https://0x5aaeb6…eaed.agent.osaurus.ai",
                "⚠ Any website you open can use this server",
            ]
        );
        let off = build(
            &snap(vec![inst("B", State::Running, 1338, true, Some(true))]),
            &Context { settings: Settings { lan_title: false, ..Settings::default() }, ..exposing(vec![], true) },
        );
        assert_eq!(off.title, None, "the title setting hides both marks");
    }

    #[test]
    fn tunnels_and_cors_are_not_shown_while_no_server_runs() {
        let mut ctx = exposing(vec![tunnel("Research", Some(URL))], true);
        ctx.exposure.problems.push("config/relay.json is a symbolic link; only regular files are read".into());
        let idle = build(&snap(vec![]), &ctx);
        assert!(!labels(&idle.items).iter().any(|l| l.starts_with('⚠')), "{:?}", labels(&idle.items));
        assert_eq!(idle.title, None);
        assert!(!idle.icon.lan_badge);
        let running = build(&snap(vec![inst("A", State::Running, 1337, false, Some(true))]), &ctx);
        assert!(labels(&running.items).contains(&"⚠ config/relay.json is a symbolic link; only regular files are read"));
    }
    fn controlling() -> Context {
        Context { can_start_osaurus: true, ..ctx() }
    }

    #[test]
    fn an_exposed_instance_offers_make_local_only_and_its_warning_leads_there() {
        let m = build(&snap(vec![inst("B", State::Running, 1338, true, Some(true))]), &controlling());
        let fix = Action::Control(Request::LocalOnly { dir: "/rt/B".into(), port: 1338 });
        assert_eq!(action_of(&m.items[1]), Some(&fix), "the LAN warning row: {:?}", m.items[1]);
        let rows = sub(&m.items, "http://127.0.0.1:1338  [LAN]");
        assert_eq!(action_of(find(rows, "Make Local Only")), Some(&fix));
        let stop = Action::Control(Request::Stop { dir: "/rt/B".into(), port: Some(1338) });
        assert_eq!(action_of(find(rows, "Stop Server")), Some(&stop));
        assert_eq!(action_of(find(&m.items, "Open Osaurus")), Some(&Action::OpenOsaurus));
    }

    #[test]
    fn a_local_instance_offers_stop_only_and_without_osaurus_to_tell_nothing_is_offered() {
        let m = build(&snap(vec![inst("A", State::Running, 1337, false, Some(true))]), &controlling());
        let rows = sub(&m.items, "http://127.0.0.1:1337");
        assert!(labels(rows).contains(&"Stop Server"));
        assert!(!labels(rows).iter().any(|l| l.starts_with("Make Local Only")));
        let linux = build(&snap(vec![inst("B", State::Running, 1338, true, Some(true))]), &ctx());
        let mut all = Vec::new();
        walk(&linux.items, &mut |l| all.push(l.to_owned()));
        assert!(
            !all.iter()
                .any(|l| l.starts_with("Make Local Only") || l.starts_with("Stop Server") || l == "Open Osaurus"),
            "{all:?}"
        );
        assert_eq!(
            action_of(&linux.items[1]),
            Some(&Action::Copy("http://127.0.0.1:1338".into())),
            "with no Osaurus to tell, the warning does what its instance's submenu does first"
        );
    }

    #[test]
    fn with_two_instances_the_labels_say_every_one_changes() {
        let m = build(
            &snap(vec![
                inst("A", State::Running, 1337, false, Some(true)),
                inst("B", State::Running, 1338, true, Some(true)),
            ]),
            &controlling(),
        );
        let rows = sub(&m.items, "http://127.0.0.1:1338  [LAN]");
        let make = find(rows, "Make Local Only (both servers restart on port 1338)");
        assert_eq!(action_of(make), Some(&Action::Control(Request::LocalOnly { dir: "/rt/B".into(), port: 1338 })));
        assert!(make.key().is_some(), "a label that counts carries a key");
        assert!(labels(sub(&m.items, "http://127.0.0.1:1337")).contains(&"Stop Server (stops both servers)"));
    }

    #[test]
    fn a_leftover_or_another_program_is_not_told_anything() {
        let mut s = snap(vec![inst("B", State::Running, 1338, true, Some(false))]);
        std::sync::Arc::make_mut(&mut s.details).insert("B".into(), Details { leftover: true, ..Details::default() });
        let m = build(&s, &controlling());
        let rows = sub(&m.items, "http://127.0.0.1:1338  [LAN]  (left over)");
        assert!(!labels(rows).iter().any(|l| l.starts_with("Make Local Only") || l.starts_with("Stop Server")));
        let mut impostor = inst("C", State::Running, 1339, true, Some(false));
        impostor.not_osaurus = Some("port 1339 answers, but not as Osaurus".into());
        let m = build(&snap(vec![impostor]), &controlling());
        assert!(!labels(sub(&m.items, "http://127.0.0.1:1339  [LAN]  (not Osaurus)")).contains(&"Stop Server"));
    }

    #[test]
    fn the_relay_and_cors_rows_lead_to_osaurus() {
        let running = snap(vec![inst("A", State::Running, 1337, false, Some(true))]);
        let m = build(
            &running,
            &Context { can_start_osaurus: true, ..exposing(vec![tunnel("Research", Some(URL))], true) },
        );
        assert_eq!(action_of(find(&m.items, "⚠ Any website you open can use this server")), Some(&Action::OpenOsaurus));
        assert_eq!(action_of(find(&m.items, "   Turn the Tunnel Off in Osaurus…")), Some(&Action::OpenOsaurus));
        let off = build(&running, &exposing(vec![tunnel("Research", Some(URL))], true));
        assert_eq!(action_of(find(&off.items, "⚠ Any website you open can use this server")), None);
        assert!(!labels(&off.items).iter().any(|l| l.contains("Turn the Tunnel Off")));
    }
}
