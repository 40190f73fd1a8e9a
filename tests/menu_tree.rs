//! The menu tree (src/app/tray/menu.rs) against a real muda menu.
//!
//! muda creates menus only on the main thread on macOS (it panics
//! elsewhere), and libtest runs tests on worker threads: so this target has
//! its own `main` (`harness = false` in Cargo.toml) and runs each test on
//! the main thread, one after another, on Linux and macOS alike. Arguments
//! that do not start with `-` select tests whose names contain them.

#[allow(dead_code)]
#[path = "../src/app/tray/menu.rs"]
mod menu;
#[allow(dead_code)]
#[path = "../src/app/tray/platform.rs"]
mod platform;

use menu::MenuTree;
use osaurus_tray::menu_model::{Action, Item};
use tray_icon::menu::{MenuId, MenuItem, MenuItemKind};

const TESTS: &[(&str, fn())] = &[
    (
        "an_instance_keeps_its_item_as_others_come_and_go_around_it",
        an_instance_keeps_its_item_as_others_come_and_go_around_it,
    ),
    ("a_reversal_moves_items_and_keeps_every_one", a_reversal_moves_items_and_keeps_every_one),
    ("clicks_follow_the_item_to_its_new_place", clicks_follow_the_item_to_its_new_place),
    ("a_row_that_loses_its_action_does_nothing_when_clicked", a_row_that_loses_its_action_does_nothing_when_clicked),
    ("a_submenu_removed_takes_its_children_actions_along", a_submenu_removed_takes_its_children_actions_along),
    ("the_models_key_equivalents_are_muda_accelerators", the_models_key_equivalents_are_muda_accelerators),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests on the main thread", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let passed = std::panic::catch_unwind(test).is_ok();
        println!("test {name} ... {}", if passed { "ok" } else { "FAILED" });
        if !passed {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

fn row(label: &str, key: Option<&str>) -> Item {
    Item::Row { label: label.into(), action: Some(Action::Copy(label.into())), key: key.map(Into::into), accel: None }
}

/// An instance's submenu: its label, and a row naming it.
fn instance(id: &str, label: &str) -> Item {
    Item::Submenu {
        label: label.into(),
        items: vec![row("Copy URL", None), row(&format!("ID: {id}"), None)],
        key: Some(format!("instance:{id}")),
    }
}

/// The live tree as (id, label, children).
fn shown(kinds: &[MenuItemKind]) -> Vec<(String, String, Vec<String>)> {
    kinds
        .iter()
        .map(|k| match k {
            MenuItemKind::Submenu(s) => (
                s.id().0.clone(),
                s.text(),
                s.items().iter().filter_map(|c| c.as_menuitem().map(MenuItem::text)).collect(),
            ),
            MenuItemKind::MenuItem(i) => (i.id().0.clone(), i.text(), vec![]),
            other => (other.id().0.clone(), String::new(), vec![]),
        })
        .collect()
}

fn id_of(tree: &[(String, String, Vec<String>)], child: &str) -> String {
    tree.iter().find(|(_, _, c)| c.iter().any(|c| c == child)).unwrap().0.clone()
}

fn an_instance_keeps_its_item_as_others_come_and_go_around_it() {
    let mut t = MenuTree::new();
    t.apply(&[row("header", Some("h")), instance("A", "a"), instance("B", "b  [LAN]")]);
    let before = shown(&t.menu().items());
    let (a, b) = (id_of(&before, "ID: A"), id_of(&before, "ID: B"));
    // C is newest: it comes first. Then B stops answering; then C goes.
    let steps: [Vec<Item>; 3] = [
        vec![row("header 3", Some("h")), instance("C", "c"), instance("A", "a"), instance("B", "b  [LAN]")],
        vec![row("header 3", Some("h")), instance("C", "c"), instance("A", "a"), instance("B", "b  [LAN]  (x)")],
        vec![row("header 2", Some("h")), instance("A", "a"), instance("B", "b  [LAN]  (x)")],
    ];
    for items in &steps {
        t.apply(items);
        let now = shown(&t.menu().items());
        let want: Vec<(String, Vec<String>)> = items
            .iter()
            .map(|i| match i {
                Item::Submenu { label, items, .. } => (label.clone(), items.iter().map(|c| c.label().into()).collect()),
                other => (other.label().into(), vec![]),
            })
            .collect();
        let got: Vec<(String, Vec<String>)> = now.iter().map(|(_, l, c)| (l.clone(), c.clone())).collect();
        assert_eq!(got, want);
        assert_eq!(id_of(&now, "ID: A"), a, "A's item is kept wherever it moves");
    }
    let last = shown(&t.menu().items());
    if platform::can_relabel_submenus() {
        // macOS: muda's set_text is AppKit's setTitle, shown as it is set.
        assert_eq!(id_of(&last, "ID: B"), b, "B's submenu is relabelled in place");
    } else {
        // Linux with no GTK started on this thread: nothing to relabel in.
        assert_ne!(id_of(&last, "ID: B"), b, "with no toolkit to relabel in, B's relabelled submenu was replaced");
    }
}

fn a_reversal_moves_items_and_keeps_every_one() {
    let mut t = MenuTree::new();
    let ids = ["A", "B", "C", "D"];
    t.apply(&ids.iter().map(|i| instance(i, i)).collect::<Vec<_>>());
    let first = shown(&t.menu().items());
    t.apply(&ids.iter().rev().map(|i| instance(i, i)).collect::<Vec<_>>());
    let second = shown(&t.menu().items());
    assert_eq!(second.iter().map(|(_, l, _)| l.as_str()).collect::<Vec<_>>(), ["D", "C", "B", "A"]);
    for i in ids {
        assert_eq!(id_of(&first, &format!("ID: {i}")), id_of(&second, &format!("ID: {i}")));
    }
}

fn clicks_follow_the_item_to_its_new_place() {
    let mut t = MenuTree::new();
    t.apply(&[row("one", None), row("two", None)]);
    let ids: Vec<MenuId> = t.menu().items().iter().map(|k| k.id().clone()).collect();
    t.apply(&[row("two", None), row("one", None)]);
    assert_eq!(t.action(&ids[0]), Some(&Action::Copy("one".into())));
    assert_eq!(t.action(&ids[1]), Some(&Action::Copy("two".into())));
    t.apply(&[row("two", None)]);
    assert_eq!(t.action(&ids[0]), None, "a removed item does nothing");
}

fn a_row_that_loses_its_action_does_nothing_when_clicked() {
    let mut t = MenuTree::new();
    t.apply(&[row("Copy URL", Some("q"))]);
    let id = t.menu().items()[0].id().clone();
    t.apply(&[Item::Row { label: "Copy URL".into(), action: None, key: Some("q".into()), accel: None }]);
    assert_eq!(t.menu().items()[0].id(), &id);
    assert_eq!(t.action(&id), None);
    assert!(!t.menu().items()[0].as_menuitem().unwrap().is_enabled());
}

fn a_submenu_removed_takes_its_children_actions_along() {
    let mut t = MenuTree::new();
    t.apply(&[instance("A", "a")]);
    let children = t.menu().items()[0].as_submenu().unwrap().items();
    let copy = children[0].id().clone();
    assert!(t.action(&copy).is_some());
    t.apply(&[]);
    assert_eq!(t.action(&copy), None);
}

/// Every key equivalent the model gives is one muda takes: ⌘ on macOS,
/// Ctrl elsewhere; a row keeps its item when its key equivalent comes.
fn the_models_key_equivalents_are_muda_accelerators() {
    use osaurus_tray::menu_model::{build, Context};
    use tray_icon::menu::accelerator::{Accelerator, Code, CMD_OR_CTRL};
    let ctx = Context {
        local: chrono::FixedOffset::east_opt(0).unwrap(),
        runtime_folder: None,
        can_start_osaurus: false,
        has_title: false,
        launch_at_login: None,
        settings: Default::default(),
        notice: None,
        system_notes: Vec::new(),
        exposure: Default::default(),
        interfaces: Vec::new(),
    };
    let model = build(&Default::default(), &ctx);
    let keyed: Vec<(&str, Option<Accelerator>)> =
        model.items.iter().filter(|i| i.accelerator().is_some()).map(|i| (i.label(), menu::accelerator(i))).collect();
    assert_eq!(
        keyed,
        [
            ("Copy URL", Some(Accelerator::new(CMD_OR_CTRL, Code::KeyC))),
            ("Quit Osaurus Tray", Some(Accelerator::new(CMD_OR_CTRL, Code::KeyQ)))
        ]
    );
    let mut t = MenuTree::new();
    t.apply(&[row("Copy URL", None)]);
    let id = t.menu().items()[0].id().clone();
    let with = model.items.iter().find(|i| i.label() == "Quit Osaurus Tray").unwrap().clone();
    let Item::Row { accel, .. } = with else { panic!() };
    t.apply(&[Item::Row { label: "Copy URL".into(), action: Some(Action::Copy("Copy URL".into())), key: None, accel }]);
    assert_eq!(t.menu().items()[0].id(), &id, "the same item, its key equivalent set");
}
