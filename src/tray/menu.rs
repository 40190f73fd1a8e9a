//! Applies a [`MenuModel`]'s rows to one long-lived muda menu, editing items
//! in place. On Linux an AppIndicator menu cannot be replaced once set, only
//! edited; doing the same everywhere keeps one code path.
//!
//! Items are matched by what they stand for ([`Ident`]): an instance's row
//! stays that instance's item while it is listed, wherever it moves, and is
//! never relabelled with another instance's content.
//!
//! One workaround lives here: a submenu whose label changes is replaced, not
//! relabelled. muda's GTK backend builds a submenu's row with a box (icon and
//! label) as its child, and `Submenu::set_text` calls
//! `gtk_menu_item_set_label`, which changes only a row whose child is a plain
//! label: the new text reaches neither GTK nor, through libdbusmenu, the
//! panel. (AppKit's `setTitle` would work; one code path is simpler.)

use std::collections::HashMap;

use tray_icon::menu::{CheckMenuItem, IsMenuItem, Menu, MenuId, MenuItem, PredefinedMenuItem, Submenu};

use crate::menu_model::{Action, Item};

/// The live menu and what each of its items does.
pub struct MenuTree {
    menu: Menu,
    nodes: Vec<Node>,
    actions: HashMap<MenuId, Action>,
    next_id: u64,
}

/// What an item stands for: its key, or else its kind and label (and which
/// of several alike it is). Two items with the same identity are the same
/// item; anything else is a different one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Key(String),
    Plain { kind: Kind, label: String, nth: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Row,
    Check,
    Sub,
    Separator,
}

fn kind(item: &Item) -> Kind {
    match item {
        Item::Row { .. } => Kind::Row,
        Item::Check { .. } => Kind::Check,
        Item::Submenu { .. } => Kind::Sub,
        Item::Separator => Kind::Separator,
    }
}

/// The identities of `items`, in order.
fn idents(items: &[Item]) -> Vec<Ident> {
    let mut seen: HashMap<(Kind, &str), usize> = HashMap::new();
    items
        .iter()
        .map(|item| match item.key() {
            Some(key) => Ident::Key(format!("{:?}:{key}", kind(item))),
            None => {
                let nth = seen.entry((kind(item), item.label())).or_default();
                *nth += 1;
                Ident::Plain { kind: kind(item), label: item.label().to_owned(), nth: *nth }
            }
        })
        .collect()
}

struct Node {
    ident: Ident,
    widget: Widget,
}

enum Widget {
    Row(MenuItem),
    Check(CheckMenuItem),
    /// A submenu, the label it was made with, and its items.
    Sub(Submenu, String, Vec<Node>),
    Separator(PredefinedMenuItem),
}

impl Node {
    fn item(&self) -> &dyn IsMenuItem {
        match &self.widget {
            Widget::Row(i) => i,
            Widget::Check(c) => c,
            Widget::Sub(s, ..) => s,
            Widget::Separator(s) => s,
        }
    }

    /// Whether this node can show `item` by being edited: the same
    /// identity, and not a submenu whose label changed (see the module note).
    fn can_show(&self, ident: &Ident, item: &Item) -> bool {
        self.ident == *ident
            && match (&self.widget, item) {
                (Widget::Sub(_, label, _), Item::Submenu { label: new, .. }) => label == new,
                _ => true,
            }
    }
}

/// A menu or a submenu: where items are inserted and removed.
#[derive(Clone, Copy)]
enum Parent<'a> {
    Menu(&'a Menu),
    Sub(&'a Submenu),
}

impl Parent<'_> {
    fn insert(self, item: &dyn IsMenuItem, position: usize) {
        let _ = match self {
            Parent::Menu(m) => m.insert(item, position),
            Parent::Sub(s) => s.insert(item, position),
        };
    }

    fn remove(self, item: &dyn IsMenuItem) {
        let _ = match self {
            Parent::Menu(m) => m.remove(item),
            Parent::Sub(s) => s.remove(item),
        };
    }
}

impl Default for MenuTree {
    fn default() -> Self {
        MenuTree::new()
    }
}

impl MenuTree {
    /// An empty menu.
    pub fn new() -> MenuTree {
        MenuTree { menu: Menu::new(), nodes: Vec::new(), actions: HashMap::new(), next_id: 0 }
    }

    /// The muda menu to hand to the tray icon (once).
    pub fn menu(&self) -> &Menu {
        &self.menu
    }

    /// What the item with `id` does, if anything.
    pub fn action(&self, id: &MenuId) -> Option<&Action> {
        self.actions.get(id)
    }

    /// Makes the menu show `items`, keeping every item that stands for the
    /// same thing as before.
    pub fn apply(&mut self, items: &[Item]) {
        self.actions.clear();
        let menu = self.menu.clone();
        let mut nodes = std::mem::take(&mut self.nodes);
        self.sync(Parent::Menu(&menu), &mut nodes, items);
        self.nodes = nodes;
    }

    /// Edits `nodes` (the items under `parent`) into `items`: nodes that
    /// stand for nothing shown any more are removed; then, place by place,
    /// the node that stands for the item there is kept (moved up if it is
    /// further down) or a new one is made; each is then edited to match.
    fn sync(&mut self, parent: Parent<'_>, nodes: &mut Vec<Node>, items: &[Item]) {
        let want = idents(items);
        nodes.retain(|node| {
            let keep = want.iter().zip(items).any(|(ident, item)| node.can_show(ident, item));
            if !keep {
                parent.remove(node.item());
            }
            keep
        });
        for (pos, (item, ident)) in items.iter().zip(want).enumerate() {
            match nodes[pos..].iter().position(|n| n.ident == ident) {
                Some(0) => {}
                Some(k) => {
                    let node = nodes.remove(pos + k);
                    parent.remove(node.item());
                    parent.insert(node.item(), pos);
                    nodes.insert(pos, node);
                }
                None => {
                    let node = self.create(item, ident);
                    parent.insert(node.item(), pos);
                    nodes.insert(pos, node);
                }
            }
            self.update(&mut nodes[pos], item);
        }
        debug_assert_eq!(nodes.len(), items.len());
    }

    fn update(&mut self, node: &mut Node, item: &Item) {
        match (&mut node.widget, item) {
            (Widget::Row(row), Item::Row { label, action, .. }) => {
                let text = escape(label);
                if row.text() != text {
                    row.set_text(&text);
                }
                if row.is_enabled() != action.is_some() {
                    row.set_enabled(action.is_some());
                }
                if let Some(a) = action {
                    self.actions.insert(row.id().clone(), a.clone());
                }
            }
            (Widget::Check(check), Item::Check { label, checked, action }) => {
                let text = escape(label);
                if check.text() != text {
                    check.set_text(&text);
                }
                // Set even when it looks equal: a click toggles the native
                // item by itself, and the model holds the state read back.
                check.set_checked(*checked);
                self.actions.insert(check.id().clone(), action.clone());
            }
            (Widget::Sub(sub, _, children), Item::Submenu { items, .. }) => {
                let sub = sub.clone();
                self.sync(Parent::Sub(&sub), children, items);
            }
            _ => {}
        }
    }

    fn create(&mut self, item: &Item, ident: Ident) -> Node {
        self.next_id += 1;
        let id = MenuId::new(format!("item-{}", self.next_id));
        let widget = match item {
            Item::Row { label, action, .. } => {
                let row = MenuItem::with_id(id, escape(label), action.is_some(), None);
                if let Some(a) = action {
                    self.actions.insert(row.id().clone(), a.clone());
                }
                Widget::Row(row)
            }
            Item::Submenu { label, items, .. } => {
                let sub = Submenu::with_id(id, escape(label), true);
                let mut children = Vec::new();
                self.sync(Parent::Sub(&sub), &mut children, items);
                Widget::Sub(sub, label.clone(), children)
            }
            Item::Check { label, checked, action } => {
                let check = CheckMenuItem::with_id(id, escape(label), true, *checked, None);
                self.actions.insert(check.id().clone(), action.clone());
                Widget::Check(check)
            }
            Item::Separator => Widget::Separator(PredefinedMenuItem::separator()),
        };
        Node { ident, widget }
    }
}

/// muda reads `&` as a mnemonic marker; `&&` shows one `&`.
fn escape(label: &str) -> String {
    label.replace('&', "&&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tray_icon::menu::MenuItemKind;

    fn row(label: &str, key: Option<&str>) -> Item {
        Item::Row { label: label.into(), action: Some(Action::Copy(label.into())), key: key.map(Into::into) }
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

    #[test]
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
                    Item::Submenu { label, items, .. } => {
                        (label.clone(), items.iter().map(|c| c.label().into()).collect())
                    }
                    other => (other.label().into(), vec![]),
                })
                .collect();
            let got: Vec<(String, Vec<String>)> = now.iter().map(|(_, l, c)| (l.clone(), c.clone())).collect();
            assert_eq!(got, want);
            assert_eq!(id_of(&now, "ID: A"), a, "A's item is kept wherever it moves");
        }
        let last = shown(&t.menu().items());
        assert_ne!(id_of(&last, "ID: B"), b, "B's submenu was relabelled: replaced, not edited");
    }

    #[test]
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

    #[test]
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
}
