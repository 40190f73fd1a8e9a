//! Applies a [`MenuModel`]'s rows to one long-lived muda menu, editing items
//! in place. On Linux an AppIndicator menu cannot be replaced once set, only
//! edited; doing the same everywhere keeps one code path.

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

enum Node {
    Row(MenuItem),
    Check(CheckMenuItem),
    Sub(Submenu, Vec<Node>),
    Separator(PredefinedMenuItem),
}

impl Node {
    fn item(&self) -> &dyn IsMenuItem {
        match self {
            Node::Row(i) => i,
            Node::Check(c) => c,
            Node::Sub(s, _) => s,
            Node::Separator(s) => s,
        }
    }

    fn fits(&self, item: &Item) -> bool {
        matches!(
            (self, item),
            (Node::Row(_), Item::Row { .. })
                | (Node::Check(_), Item::Check { .. })
                | (Node::Sub(..), Item::Submenu { .. })
                | (Node::Separator(_), Item::Separator)
        )
    }
}

/// A menu or a submenu: where items are appended and removed.
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

    /// Makes the menu show `items`, reusing every item whose kind still fits.
    pub fn apply(&mut self, items: &[Item]) {
        self.actions.clear();
        let menu = self.menu.clone();
        let mut nodes = std::mem::take(&mut self.nodes);
        self.sync(Parent::Menu(&menu), &mut nodes, items);
        self.nodes = nodes;
    }

    /// Edits `nodes` (the items under `parent`) into `items`: the longest
    /// prefix and suffix whose kinds fit are updated in place; only the
    /// middle is removed and inserted. A row appearing or vanishing (a notice,
    /// an instance) thus keeps every other item, and its id, alive.
    fn sync(&mut self, parent: Parent<'_>, nodes: &mut Vec<Node>, items: &[Item]) {
        let (head, tail) = common_ends(nodes, items);
        let middle_old = head..nodes.len() - tail;
        for node in nodes.drain(middle_old) {
            parent.remove(node.item());
        }
        for (k, item) in items[head..items.len() - tail].iter().enumerate() {
            let node = self.create(item);
            parent.insert(node.item(), head + k);
            nodes.insert(head + k, node);
        }
        for (node, item) in nodes.iter_mut().zip(items) {
            self.update(node, item);
        }
    }

    fn update(&mut self, node: &mut Node, item: &Item) {
        match (node, item) {
            (Node::Row(row), Item::Row { label, action }) => {
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
            (Node::Check(check), Item::Check { label, checked, action }) => {
                let text = escape(label);
                if check.text() != text {
                    check.set_text(&text);
                }
                // Set even when it looks equal: a click toggles the native
                // item by itself, and the model holds the state read back.
                check.set_checked(*checked);
                self.actions.insert(check.id().clone(), action.clone());
            }
            (Node::Sub(sub, children), Item::Submenu { label, items }) => {
                let text = escape(label);
                if sub.text() != text {
                    sub.set_text(&text);
                }
                let sub = sub.clone();
                self.sync(Parent::Sub(&sub), children, items);
            }
            _ => {}
        }
    }

    fn create(&mut self, item: &Item) -> Node {
        self.next_id += 1;
        let id = MenuId::new(format!("item-{}", self.next_id));
        match item {
            Item::Row { label, action } => {
                let row = MenuItem::with_id(id, escape(label), action.is_some(), None);
                if let Some(a) = action {
                    self.actions.insert(row.id().clone(), a.clone());
                }
                Node::Row(row)
            }
            Item::Submenu { label, items } => {
                let sub = Submenu::with_id(id, escape(label), true);
                let mut children = Vec::new();
                self.sync(Parent::Sub(&sub), &mut children, items);
                Node::Sub(sub, children)
            }
            Item::Check { label, checked, action } => {
                let check = CheckMenuItem::with_id(id, escape(label), true, *checked, None);
                self.actions.insert(check.id().clone(), action.clone());
                Node::Check(check)
            }
            Item::Separator => Node::Separator(PredefinedMenuItem::separator()),
        }
    }
}

/// How many leading and trailing nodes fit the items, never overlapping.
fn common_ends(nodes: &[Node], items: &[Item]) -> (usize, usize) {
    let head = nodes.iter().zip(items).take_while(|(n, i)| n.fits(i)).count();
    let room = nodes.len().min(items.len()) - head;
    let tail = nodes.iter().rev().zip(items.iter().rev()).take(room).take_while(|(n, i)| n.fits(i)).count();
    (head, tail)
}

/// muda reads `&` as a mnemonic marker; `&&` shows one `&`.
fn escape(label: &str) -> String {
    label.replace('&', "&&")
}
