//! Applies a [`MenuModel`]'s rows to one long-lived muda menu, editing items
//! in place. On Linux an AppIndicator menu cannot be replaced once set, only
//! edited; doing the same everywhere keeps one code path.
//!
//! Items are matched by what they stand for ([`Ident`]): an instance's row
//! stays that instance's item while it is listed, wherever it moves, and is
//! never relabelled with another instance's content.
//!
//! A submenu's new label is set twice: through muda, which is enough on
//! macOS (AppKit's `setTitle`), and through
//! [`platform::relabel_submenu`](super::platform::relabel_submenu), because
//! muda's GTK backend builds a submenu's row with a box (icon and label) as
//! its child, and its `Submenu::set_text` calls `gtk_menu_item_set_label`,
//! which changes only a row whose child is a plain label: the new text would
//! reach neither GTK nor, through libdbusmenu, the panel. Where the toolkit
//! cannot be reached (no toolkit started: unit tests), such a submenu is
//! replaced instead.

use std::collections::HashMap;

use tray_icon::menu::accelerator::Accelerator;
use tray_icon::menu::{CheckMenuItem, IsMenuItem, Menu, MenuId, MenuItem, PredefinedMenuItem, Submenu};

use super::platform;
use osaurus_tray::menu_model::{Action, Item};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// The item this node shows, as last applied; `None` when it must be
    /// applied again whatever it is.
    shown: Option<Item>,
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
    /// identity, and not a submenu whose label changed where submenus cannot
    /// be relabelled (see the module note).
    fn can_show(&self, ident: &Ident, item: &Item, relabel: bool) -> bool {
        self.ident == *ident
            && match (&self.widget, item) {
                (Widget::Sub(_, label, _), Item::Submenu { label: new, .. }) => relabel || label == new,
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
    /// same thing as before. An item equal to what its node shows already
    /// (a whole submenu included) costs a comparison, no toolkit call.
    pub fn apply(&mut self, items: &[Item]) {
        let menu = self.menu.clone();
        let mut nodes = std::mem::take(&mut self.nodes);
        let relabel = platform::can_relabel_submenus();
        self.sync(Parent::Menu(&menu), &[], &mut nodes, items, relabel);
        self.nodes = nodes;
    }

    /// Makes the next [`apply`](Self::apply) set every item again: a click
    /// toggles a native check mark by itself, and the menu must show the
    /// state read back, not the toggled one.
    pub fn invalidate(&mut self) {
        fn clear(nodes: &mut [Node]) {
            for node in nodes {
                node.shown = None;
                if let Widget::Sub(_, _, children) = &mut node.widget {
                    clear(children);
                }
            }
        }
        clear(&mut self.nodes);
    }

    /// Removes `node` from `parent`, and its actions (its children's too).
    fn remove(&mut self, parent: Parent<'_>, node: &Node) {
        fn forget(actions: &mut HashMap<MenuId, Action>, node: &Node) {
            match &node.widget {
                Widget::Row(row) => drop(actions.remove(row.id())),
                Widget::Check(check) => drop(actions.remove(check.id())),
                Widget::Sub(_, _, children) => children.iter().for_each(|c| forget(actions, c)),
                Widget::Separator(_) => {}
            }
        }
        forget(&mut self.actions, node);
        parent.remove(node.item());
    }

    /// Edits `nodes` (the items under `parent`) into `items`: nodes that
    /// stand for nothing shown any more are removed; then, place by place,
    /// the node that stands for the item there is kept (moved up if it is
    /// further down) or a new one is made; each is then edited to match.
    /// `path` is where `parent` is: the positions leading to it from the top.
    fn sync(&mut self, parent: Parent<'_>, path: &[usize], nodes: &mut Vec<Node>, items: &[Item], relabel: bool) {
        let want = idents(items);
        let place: HashMap<&Ident, usize> = want.iter().enumerate().map(|(k, ident)| (ident, k)).collect();
        let (kept, gone): (Vec<Node>, Vec<Node>) = std::mem::take(nodes)
            .into_iter()
            .partition(|node| place.get(&node.ident).is_some_and(|&k| node.can_show(&want[k], &items[k], relabel)));
        for node in &gone {
            self.remove(parent, node);
        }
        *nodes = kept;
        for (pos, (item, ident)) in items.iter().zip(&want).enumerate() {
            match nodes[pos..].iter().position(|n| n.ident == *ident) {
                Some(0) => {}
                Some(k) => {
                    let node = nodes.remove(pos + k);
                    parent.remove(node.item());
                    parent.insert(node.item(), pos);
                    nodes.insert(pos, node);
                }
                None => {
                    let node = self.create(item, ident.clone());
                    parent.insert(node.item(), pos);
                    nodes.insert(pos, node);
                }
            }
            let node = &mut nodes[pos];
            if node.shown.as_ref() != Some(item) {
                let at: Vec<usize> = path.iter().copied().chain([pos]).collect();
                self.update(node, item, &at, relabel);
                node.shown = Some(item.clone());
            }
        }
        debug_assert_eq!(nodes.len(), items.len());
    }

    /// Edits `node`, at `path`, to show `item`.
    fn update(&mut self, node: &mut Node, item: &Item, path: &[usize], relabel: bool) {
        match (&mut node.widget, item) {
            (Widget::Row(row), Item::Row { label, action, .. }) => {
                let text = escape(label);
                if row.text() != text {
                    row.set_text(&text);
                }
                let was = match &node.shown {
                    Some(shown) => accelerator(shown),
                    None => None,
                };
                if node.shown.is_none() || was != accelerator(item) {
                    let _ = row.set_accelerator(accelerator(item));
                }
                if row.is_enabled() != action.is_some() {
                    row.set_enabled(action.is_some());
                }
                match action {
                    Some(a) => self.actions.insert(row.id().clone(), a.clone()),
                    None => self.actions.remove(row.id()),
                };
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
            (Widget::Sub(sub, shown, children), Item::Submenu { label, items, .. }) => {
                if shown != label {
                    sub.set_text(escape(label));
                    platform::relabel_submenu(&self.menu, path, label);
                    *shown = label.clone();
                }
                let sub = sub.clone();
                self.sync(Parent::Sub(&sub), path, children, items, relabel);
            }
            _ => {}
        }
    }

    fn create(&mut self, item: &Item, ident: Ident) -> Node {
        self.next_id += 1;
        let id = MenuId::new(format!("item-{}", self.next_id));
        let widget = match item {
            Item::Row { label, action, .. } => {
                let row = MenuItem::with_id(id, escape(label), action.is_some(), accelerator(item));
                if let Some(a) = action {
                    self.actions.insert(row.id().clone(), a.clone());
                }
                Widget::Row(row)
            }
            Item::Submenu { label, items, .. } => {
                let sub = Submenu::with_id(id, escape(label), true);
                let mut children = Vec::new();
                // Not in the menu yet: nothing below it is relabelled.
                self.sync(Parent::Sub(&sub), &[], &mut children, items, false);
                Widget::Sub(sub, label.clone(), children)
            }
            Item::Check { label, checked, action } => {
                let check = CheckMenuItem::with_id(id, escape(label), true, *checked, None);
                self.actions.insert(check.id().clone(), action.clone());
                Widget::Check(check)
            }
            Item::Separator => Widget::Separator(PredefinedMenuItem::separator()),
        };
        Node { ident, widget, shown: None }
    }
}

/// The key equivalent muda shows beside `item` (⌘C on macOS). A tray menu
/// on Linux has no accelerator group, so GTK shows none there.
pub fn accelerator(item: &Item) -> Option<Accelerator> {
    item.accelerator()?.parse().ok()
}

/// muda reads `&` as a mnemonic marker; `&&` shows one `&`.
fn escape(label: &str) -> String {
    label.replace('&', "&&")
}
