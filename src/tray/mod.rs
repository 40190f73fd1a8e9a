//! The menu-bar app: a tao event loop, a tray-icon icon and one muda menu,
//! fed by the [`watcher`](crate::watcher).
//!
//! The shape follows tray-icon's tao example: one user-event enum; the menu
//! and watcher handlers forward into an `EventLoopProxy`; the tray is built
//! at `StartCause::Init`; the loop's `match` is the only place where events
//! turn into actions.

mod menu;
pub mod platform;

use std::any::Any;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{Local, Offset};
use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tray_icon::menu::MenuEvent;
use tray_icon::{TrayIcon, TrayIconBuilder};

use crate::discovery::RuntimeDirs;
use crate::menu_model::{self, Action, Context, MenuModel};
use crate::snapshot::Snapshot;
use crate::watcher;

pub use menu::MenuTree;

/// The id of the tray item (on Linux it names the StatusNotifier item).
pub const TRAY_ID: &str = "osaurus-tray";

/// How the tray behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds between probes of running instances.
    pub probe_interval: Duration,
    /// Show `LAN` beside the icon while exposed (macOS).
    pub lan_title: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            probe_interval: Duration::from_secs(10),
            lan_title: true,
        }
    }
}

/// Everything that reaches the event loop.
#[derive(Debug)]
pub enum UserEvent {
    /// The watcher saw a change.
    Snapshot(Box<Snapshot>),
    /// A menu item was clicked.
    Menu(MenuEvent),
    /// Ctrl-C or SIGTERM: leave cleanly.
    Quit,
}

/// Runs the menu-bar app until Quit; does not return. `keep_alive` is dropped
/// when the loop ends, before the process exits (the demo's servers and
/// temporary folder live there).
pub fn run(dirs: RuntimeDirs, options: Options, keep_alive: Box<dyn Any>) -> ! {
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    platform::prepare(&mut event_loop);

    let proxy = event_loop.create_proxy();
    MenuEvent::set_event_handler(Some(move |e| {
        let _ = proxy.send_event(UserEvent::Menu(e));
    }));
    let proxy = event_loop.create_proxy();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = proxy.send_event(UserEvent::Quit);
    }) {
        eprintln!("osaurus-tray: cannot handle signals: {e}");
    }

    let mut app = App::new(&dirs, &options);
    let proxy = event_loop.create_proxy();
    let watch_options = watcher::Options {
        probe: true,
        probe_interval: options.probe_interval,
        force_poll: false,
    };
    let mut watcher = Some(watcher::spawn(dirs, watch_options, move |snap| {
        let _ = proxy.send_event(UserEvent::Snapshot(Box::new(snap.clone())));
    }));
    let mut keep_alive = Some(keep_alive);

    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) => app.start(),
            Event::UserEvent(UserEvent::Snapshot(snap)) => app.show(*snap),
            Event::UserEvent(UserEvent::Menu(e)) if app.click(&e) => {
                *control_flow = ControlFlow::Exit
            }
            Event::UserEvent(UserEvent::Quit) => *control_flow = ControlFlow::Exit,
            Event::LoopDestroyed => {
                // Drop the tray first (it removes its icon and temp file),
                // then the watcher, then whatever the caller kept alive.
                drop(app.tray.take());
                drop(watcher.take());
                drop(keep_alive.take());
            }
            _ => {}
        }
    })
}

/// The app's state, owned by the event loop.
struct App {
    dirs: RuntimeDirs,
    tray: Option<TrayIcon>,
    menu: MenuTree,
    snapshot: Snapshot,
    context: Context,
    shown: Option<MenuModel>,
    clipboard: Option<arboard::Clipboard>,
}

impl App {
    fn new(dirs: &RuntimeDirs, options: &Options) -> App {
        let context = Context {
            local: Local::now().offset().fix(),
            runtime_folder: None,
            can_start_osaurus: platform::CAN_START_OSAURUS,
            lan_title: options.lan_title,
            notice: None,
        };
        App {
            dirs: dirs.clone(),
            tray: None,
            menu: MenuTree::new(),
            snapshot: Snapshot::default(),
            context,
            shown: None,
            clipboard: None,
        }
    }

    /// Builds the tray icon; called once the loop runs (macOS requires it).
    fn start(&mut self) {
        let model = self.refresh_menu();
        let builder = TrayIconBuilder::new()
            .with_id(TRAY_ID)
            .with_menu(Box::new(self.menu.menu().clone()))
            .with_tooltip(&model.tooltip);
        match platform::with_icon(builder, model.icon).build() {
            Ok(tray) => {
                tray.set_title(model.title.as_deref());
                self.tray = Some(tray);
            }
            Err(e) => {
                eprintln!("osaurus-tray: cannot create the tray icon: {e}");
                std::process::exit(1);
            }
        }
    }

    fn show(&mut self, snap: Snapshot) {
        self.snapshot = snap;
        self.refresh_menu();
    }

    /// Rebuilds the model and applies what changed to the menu and icon.
    fn refresh_menu(&mut self) -> MenuModel {
        self.context.local = Local::now().offset().fix();
        self.context.runtime_folder = runtime_folder(&self.dirs);
        let model = menu_model::build(&self.snapshot, &self.context);
        let before = self.shown.replace(model.clone());
        if before.as_ref() == Some(&model) {
            return model;
        }
        if before.as_ref().map(|b| &b.items) != Some(&model.items) {
            self.menu.apply(&model.items);
        }
        if let Some(tray) = &self.tray {
            if before.as_ref().map(|b| b.icon) != Some(model.icon) {
                platform::set_icon(tray, model.icon);
            }
            if before.as_ref().map(|b| &b.title) != Some(&model.title) {
                tray.set_title(model.title.as_deref());
            }
            if before.as_ref().map(|b| &b.tooltip) != Some(&model.tooltip) {
                let _ = tray.set_tooltip(Some(&model.tooltip));
            }
        }
        model
    }

    /// Carries out a click. Returns true when the app should quit.
    fn click(&mut self, event: &MenuEvent) -> bool {
        let Some(action) = self.menu.action(event.id()).cloned() else {
            return false;
        };
        let result = match action {
            Action::Quit => return true,
            Action::Copy(text) => self.copy(&text),
            Action::OpenUrl(url) => crate::cmd::open::open_in_browser(&url),
            Action::OpenFolder(dir) => open::that_detached(&dir)
                .map_err(|e| format!("Could not open {}: {e}", dir.display())),
            Action::StartOsaurus => platform::start_osaurus(),
        };
        if let Err(msg) = &result {
            eprintln!("osaurus-tray: {msg}");
        }
        self.context.notice = result.err();
        self.refresh_menu();
        false
    }

    /// Copies with one long-lived clipboard: on X11 and Wayland the copying
    /// process serves the text, so it must outlive the click.
    fn copy(&mut self, text: &str) -> Result<(), String> {
        if self.clipboard.is_none() {
            self.clipboard = Some(
                arboard::Clipboard::new()
                    .map_err(|e| format!("Could not copy: no clipboard ({e})"))?,
            );
        }
        let clipboard = self.clipboard.as_mut().expect("set above");
        clipboard
            .set_text(text)
            .map_err(|e| format!("Could not copy: {e}"))
    }
}

/// The folder "Open Runtime Folder" opens: the first runtime folder that exists.
fn runtime_folder(dirs: &RuntimeDirs) -> Option<PathBuf> {
    dirs.bases.iter().find(|d| d.is_dir()).cloned()
}
