//! The menu-bar app: a tao event loop, a tray-icon icon and one muda menu,
//! fed by the [`watcher`](osaurus_tray::watcher).
//!
//! The shape follows tray-icon's tao example: one user-event enum; the menu
//! and watcher handlers forward into an `EventLoopProxy`; the tray is built
//! at `StartCause::Init`; the loop's `match` is the only place where events
//! turn into actions. Whatever may wait on the system (a removal's probes,
//! `/usr/bin/open`, the login item service, a watcher's join) runs on a
//! thread of its own and posts its result back through the proxy: the main
//! thread only draws.

mod acting;
mod menu;
pub mod platform;
mod telling;

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Offset, Utc};
use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tray_icon::menu::MenuEvent;
use tray_icon::{TrayIcon, TrayIconBuilder};

use osaurus_tray::control::{self, Request, Route};
use osaurus_tray::discovery::RuntimeDirs;
use osaurus_tray::exposure::{self, Exposure};
use osaurus_tray::gui::Options;
use osaurus_tray::menu_model::{self, Action, Context, MenuModel};
use osaurus_tray::notifications::{self, Answer, Delivery};
use osaurus_tray::settings::Settings;
use osaurus_tray::single_instance::{self, TrayLock};
use osaurus_tray::snapshot::Snapshot;
use osaurus_tray::watcher;

/// The local offset for the menu's times; UTC when the zone file `TZ`
/// names cannot be read safely (a FIFO, `/dev/zero`).
fn local_offset() -> chrono::FixedOffset {
    let now = Utc::now();
    osaurus_tray::text::local_offset(now).unwrap_or_else(|| Utc.fix())
}

pub use menu::MenuTree;

/// The id of the tray item (on Linux it names the StatusNotifier item).
pub const TRAY_ID: &str = "osaurus-tray";

/// Everything that reaches the event loop.
#[derive(Debug)]
pub enum UserEvent {
    /// The watcher (of this generation: see [`App::generation`]) saw a change.
    Snapshot(u64, Box<Snapshot>),
    /// Osaurus's settings (relay tunnels, CORS) were read anew.
    Exposure(Box<Exposure>),
    /// A menu item was clicked.
    Menu(MenuEvent),
    /// An action run off the main thread ended; a failure says why.
    Done(Result<(), String>),
    /// Launch at login as read back off the main thread: on or off, and
    /// what the system says of it.
    LoginItem(bool, Option<String>),
    /// The system's answer to "may the app post notifications?".
    Notifications(Answer),
    /// Time to see whether every server is still gone ([`notifications::Stops`]).
    StopCheck,
    /// A control message was posted this long ago: if its request
    /// (numbered) is still waiting, nothing changed in time.
    ControlTimeout(u64),
    /// Ctrl-C or SIGTERM: leave cleanly.
    Quit,
}

/// Checks that a tray can be shown here, then takes the one-tray-at-a-time
/// lock; says why not in one sentence otherwise.
pub fn lock() -> Result<TrayLock, String> {
    platform::check_desktop()?;
    single_instance::acquire(&single_instance::lock_path())
}

/// Runs the menu-bar app until Quit; does not return. `keep_alive` is dropped
/// when the loop ends, before the process exits (the demo's servers and
/// temporary folder live there), and so is the tray lock.
pub fn run(dirs: RuntimeDirs, options: Options, lock: TrayLock, keep_alive: Box<dyn Any>) -> ! {
    // tao panics when the toolkit cannot start (no usable display): say so in
    // one sentence and clean up instead.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(|| EventLoopBuilder::<UserEvent>::with_user_event().build());
    std::panic::set_hook(hook);
    let Ok(mut event_loop) = built else {
        eprintln!("osaurus-tray: cannot start the menu-bar app: the desktop's toolkit did not start.");
        drop(keep_alive);
        std::process::exit(osaurus_tray::cmd::EXIT_FAILED);
    };
    platform::after_toolkit();
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

    // App Nap would stretch the watcher's and the probes' timers.
    platform::keep_awake();
    let mut app = App::new(dirs, options, event_loop.create_proxy());
    // The menu is opening where the platform says so (macOS: a press on the
    // status item; Linux panels do not tell): the servers are asked now.
    let asker = Arc::clone(&app.asker);
    tray_icon::TrayIconEvent::set_event_handler(Some(move |e| {
        if let tray_icon::TrayIconEvent::Click { button_state: tray_icon::MouseButtonState::Down, .. } = e {
            if let Some(a) = asker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref() {
                a.ask();
            }
        }
    }));
    let mut keep_alive = Some((keep_alive, lock));

    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) if !app.start() => *control_flow = ControlFlow::Exit,
            Event::UserEvent(UserEvent::Snapshot(generation, snap)) if generation == app.generation => app.show(*snap),
            Event::UserEvent(UserEvent::Exposure(e)) => app.show_exposure(*e),
            Event::UserEvent(UserEvent::Menu(e)) if app.click(&e) => *control_flow = ControlFlow::Exit,
            Event::UserEvent(UserEvent::Done(result)) => app.done(result),
            Event::UserEvent(UserEvent::LoginItem(on, note)) => {
                app.context.launch_at_login = Some(on);
                app.login_note = note;
                app.refresh_menu();
            }
            Event::UserEvent(UserEvent::Notifications(answer)) => app.notifications_answered(answer),
            Event::UserEvent(UserEvent::StopCheck) => app.stop_check(),
            Event::UserEvent(UserEvent::ControlTimeout(n)) => app.control_timed_out(n),
            Event::UserEvent(UserEvent::Quit) => *control_flow = ControlFlow::Exit,
            Event::LoopDestroyed => {
                // Drop the tray first (it removes its icon and temp file),
                // then the watcher, then whatever the caller kept alive.
                drop(app.tray.take());
                drop(app.watcher.take());
                drop(app.exposure_watch.take());
                drop(keep_alive.take());
                if app.failed {
                    std::process::exit(osaurus_tray::cmd::EXIT_FAILED);
                }
            }
            _ => {}
        }
    })
}

/// The app's state, owned by the event loop.
struct App {
    dirs: RuntimeDirs,
    options: Options,
    proxy: EventLoopProxy<UserEvent>,
    watcher: Option<watcher::Watcher>,
    /// Asks the current watcher from the tray's click handler: a person is
    /// opening the menu ([`watcher::Watcher::ask`]).
    asker: Arc<std::sync::Mutex<Option<watcher::Asker>>>,
    /// Counts watchers started: a snapshot from one stopped since is stale.
    generation: u64,
    /// Watches Osaurus's settings; its readings go to `context.exposure`.
    exposure_watch: Option<exposure::Watch>,
    /// A reading of the settings has come (before it, none is news).
    exposure_seen: bool,
    tray: Option<TrayIcon>,
    menu: MenuTree,
    snapshot: Option<Snapshot>,
    context: Context,
    settings_path: Option<PathBuf>,
    autostart: Option<Arc<platform::LoginItem>>,
    /// What the system says of launch at login, when it says anything.
    login_note: Option<String>,
    /// Notifications held until the system says whether the app may post.
    delivery: Delivery,
    /// Whether every server is gone for long enough to say "stopped".
    stops: notifications::Stops,
    /// When a [`UserEvent::StopCheck`] is due, when one is.
    stop_check_at: Option<std::time::Instant>,
    /// Whether the system was asked that yet.
    asked_notifications: bool,
    /// What the menu says about notifications, when they cannot be shown.
    notifications_note: Option<String>,
    shown: Option<MenuModel>,
    clipboard: Option<arboard::Clipboard>,
    /// The tray could not be created: exit 1 once cleaned up.
    failed: bool,
    /// What Osaurus was last asked (numbered), until its folder shows it
    /// or [`control::CONFIRM_WITHIN`] passes.
    waiting: Option<(u64, Request)>,
    /// Counts the requests made.
    requests: u64,
}

impl App {
    fn new(dirs: RuntimeDirs, options: Options, proxy: EventLoopProxy<UserEvent>) -> App {
        let settings_path = options.settings_path.clone().or_else(Settings::default_path);
        let (settings, problem) = match &settings_path {
            Some(p) => Settings::load(p),
            None => (Settings::default(), None),
        };
        if let Some(msg) = &problem {
            eprintln!("osaurus-tray: {msg}");
        }
        let context = Context {
            local: local_offset(),
            runtime_folder: None,
            // The demo's fake Osaurus is told what to do on every platform.
            can_start_osaurus: platform::CAN_START_OSAURUS || matches!(control::route(&dirs), Route::Demo(_)),
            has_title: platform::HAS_TITLE,
            launch_at_login: None,
            settings,
            notice: problem,
            system_notes: Vec::new(),
            exposure: Exposure::default(),
            interfaces: Vec::new(),
        };
        let mut app = App {
            dirs,
            options,
            proxy,
            watcher: None,
            asker: Arc::default(),
            generation: 0,
            exposure_watch: None,
            exposure_seen: false,
            tray: None,
            menu: MenuTree::new(),
            snapshot: None,
            context,
            settings_path,
            autostart: platform::login_item().map(Arc::new),
            login_note: None,
            delivery: Delivery::Asking(Vec::new()),
            stops: notifications::Stops::default(),
            stop_check_at: None,
            asked_notifications: false,
            notifications_note: None,
            shown: None,
            clipboard: None,
            failed: false,
            waiting: None,
            requests: 0,
        };
        app.start_watcher();
        app.read_login_item();
        if app.context.settings.notifications {
            app.ask_notifications();
        }
        let proxy = app.proxy.clone();
        app.exposure_watch = exposure::data_root(&app.dirs).map(|root| {
            exposure::watch(root, false, move |e| {
                let _ = proxy.send_event(UserEvent::Exposure(Box::new(e.clone())));
            })
        });
        app
    }

    /// Runs `work` on a thread of its own; its result comes back as
    /// [`UserEvent::Done`].
    fn in_background(&self, work: impl FnOnce() -> Result<(), String> + Send + 'static) {
        let proxy = self.proxy.clone();
        std::thread::spawn(move || {
            let _ = proxy.send_event(UserEvent::Done(work()));
        });
    }

    /// An action run off the main thread ended.
    fn done(&mut self, result: Result<(), String>) {
        if let Err(msg) = &result {
            eprintln!("osaurus-tray: {msg}");
            self.context.notice = Some(msg.clone());
            self.refresh_menu();
        }
    }

    /// (Re)starts the watcher with the current probe interval. The old one
    /// is stopped on a thread (joining it can wait for a probe round); what
    /// it still sends is ignored.
    fn start_watcher(&mut self) {
        if let Some(old) = self.watcher.take() {
            std::thread::spawn(move || drop(old));
        }
        self.generation += 1;
        let generation = self.generation;
        let interval = self
            .options
            .probe_interval
            .unwrap_or_else(|| Duration::from_secs(u64::from(self.context.settings.probe_interval_secs)));
        let proxy = self.proxy.clone();
        // The key (OSAURUS_API_KEY, a key file, the keychain) only ever
        // goes to 127.0.0.1's /v1/models; a refused key file is said once.
        let access_key = match self.context.settings.access_key(Some(&crate::keychain::SystemKeychain)) {
            Ok(key) => key,
            Err(why) => {
                eprintln!("osaurus-tray: {why}");
                self.context.notice = Some(why);
                None
            }
        };
        let options = watcher::Options { probe: true, probe_interval: interval, force_poll: false, access_key };
        let w = watcher::spawn(self.dirs.clone(), options, move |snap| {
            let _ = proxy.send_event(UserEvent::Snapshot(generation, Box::new(snap.clone())));
        });
        *self.asker.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(w.asker());
        self.watcher = Some(w);
    }

    /// Builds the tray icon; called once the loop runs (macOS requires it).
    /// Returns false (and the app ends, cleaning up) if there is no tray.
    fn start(&mut self) -> bool {
        let model = self.refresh_menu();
        let builder = TrayIconBuilder::new()
            .with_id(TRAY_ID)
            .with_menu(Box::new(self.menu.menu().clone()))
            .with_tooltip(&model.tooltip);
        match platform::with_icon(builder, model.icon).build() {
            Ok(tray) => {
                tray.set_title(model.title.as_deref());
                platform::name_item(&tray);
                platform::set_attention(&tray, model.icon.lan_badge);
                self.tray = Some(tray);
                true
            }
            Err(e) => {
                eprintln!("osaurus-tray: cannot create the tray icon: {e}");
                self.failed = true;
                false
            }
        }
    }

    fn show(&mut self, snap: Snapshot) {
        if self.context.settings.notifications {
            for n in notifications::changes(self.snapshot.as_ref(), &snap) {
                self.tell(n);
            }
        }
        let now = std::time::Instant::now();
        if let Some(at) = self.stops.seen(&snap, self.snapshot.is_none(), now) {
            if self.stop_check_at != Some(at) {
                self.stop_check_at = Some(at);
                let proxy = self.proxy.clone();
                let wait = at.saturating_duration_since(now);
                let _ = std::thread::Builder::new().name("stop-check".into()).spawn(move || {
                    std::thread::sleep(wait);
                    let _ = proxy.send_event(UserEvent::StopCheck);
                });
            }
        }
        let before = self.exposure_in_effect();
        self.snapshot = Some(snap);
        self.notify_tunnels(before);
        self.confirm();
        self.refresh_menu();
    }

    fn show_exposure(&mut self, exposure: Exposure) {
        let before = self.exposure_in_effect();
        self.context.exposure = exposure;
        self.exposure_seen = true;
        self.notify_tunnels(before);
        self.refresh_menu();
    }

    /// The settings' exposure, in effect while an instance runs; `None`
    /// until both the first snapshot and the first reading have come.
    fn exposure_in_effect(&self) -> Option<Exposure> {
        let snap = self.snapshot.as_ref().filter(|_| self.exposure_seen)?;
        Some(self.context.exposure.clone().while_running(snap.running().next().is_some()))
    }

    /// Rebuilds the model and applies what changed to the menu and icon.
    fn refresh_menu(&mut self) -> MenuModel {
        self.context.local = local_offset();
        self.context.runtime_folder = runtime_folder(&self.dirs);
        // For the LAN URL: only read while a server is exposed.
        let exposed = self.snapshot.as_ref().is_some_and(|s| s.exposed().next().is_some());
        self.context.interfaces =
            if exposed { osaurus_tray::interfaces::read().unwrap_or_default() } else { Vec::new() };
        self.context.system_notes = self.notifications_note.iter().chain(&self.login_note).cloned().collect();
        let empty = Snapshot::default();
        let model = menu_model::build(self.snapshot.as_ref().unwrap_or(&empty), &self.context);
        let before = self.shown.replace(model.clone());
        if before.as_ref() == Some(&model) {
            return model;
        }
        self.menu.apply(&model.items);
        if let Some(path) = std::env::var_os(MENU_DUMP_ENV) {
            dump_menu(std::path::Path::new(&path), &model);
        }
        if let Some(tray) = &self.tray {
            if before.as_ref().map(|b| b.icon) != Some(model.icon) {
                platform::set_icon(tray, model.icon);
            }
            if before.as_ref().map(|b| b.icon.lan_badge) != Some(model.icon.lan_badge) {
                platform::set_attention(tray, model.icon.lan_badge);
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
        let Some(action) = self.menu.action(event.id()).cloned() else { return false };
        let result = match action {
            Action::Quit => return true,
            Action::Copy(text) => self.copy(&text).map(|()| self.tell(notifications::copied(&text))),
            Action::OpenUrl(url) => osaurus_tray::browser::open_in_browser(&url),
            Action::OpenFolder(dir) => {
                open::that_detached(&dir).map_err(|e| format!("Could not open {}: {e}", dir.display()))
            }
            Action::OpenOsaurus => self.open_osaurus(),
            Action::Control(request) => self.control(request),
            Action::RemoveLeftovers => self.remove_leftovers(),
            Action::ToggleLaunchAtLogin => self.toggle_launch_at_login(),
            Action::ToggleNotifications => {
                let r = self.change_settings(|s| s.notifications = !s.notifications);
                if self.context.settings.notifications {
                    self.ask_notifications();
                }
                r
            }
            Action::ToggleLanTitle => self.change_settings(|s| s.lan_title = !s.lan_title),
            Action::SetProbeInterval(secs) => {
                let r = self.change_settings(|s| s.probe_interval_secs = secs);
                if self.options.probe_interval.is_none() {
                    self.start_watcher();
                }
                r
            }
        };
        if let Err(msg) = &result {
            eprintln!("osaurus-tray: {msg}");
        }
        self.context.notice = result.err();
        // Force the menu to be re-applied: a check item toggles itself
        // natively on click, and must show the state read back.
        self.shown = None;
        self.menu.invalidate();
        self.refresh_menu();
        false
    }

    /// Applies `change` to the settings and saves them.
    fn change_settings(&mut self, change: impl FnOnce(&mut Settings)) -> Result<(), String> {
        change(&mut self.context.settings);
        match &self.settings_path {
            Some(path) => self.context.settings.save(path).map_err(|e| format!("Could not save settings: {e}")),
            None => Err("Settings cannot be saved: no config folder.".into()),
        }
    }

    /// Copies with one long-lived clipboard: on X11 and Wayland the copying
    /// process serves the text, so it must outlive the click.
    fn copy(&mut self, text: &str) -> Result<(), String> {
        if self.clipboard.is_none() {
            self.clipboard =
                Some(arboard::Clipboard::new().map_err(|e| format!("Could not copy: no clipboard ({e})"))?);
        }
        let clipboard = self.clipboard.as_mut().expect("set above");
        clipboard.set_text(text).map_err(|e| format!("Could not copy: {e}"))
    }
}

/// When set, the tray writes each menu it applies to this file, as
/// [`menu_model::tree`] JSON, so that a test (or a person debugging) can
/// compare it with what the desktop reads.
pub const MENU_DUMP_ENV: &str = "OSAURUS_TRAY_MENU_DUMP";

/// Writes `model`'s tree to `path` atomically (a reader never sees half).
fn dump_menu(path: &std::path::Path, model: &MenuModel) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let text = menu_model::tree(&model.items).to_string();
    if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)) {
        eprintln!("osaurus-tray: cannot write the menu to {}: {e}", path.display());
    }
}

/// The folder "Show Server Files" opens: the first runtime folder that exists.
fn runtime_folder(dirs: &RuntimeDirs) -> Option<PathBuf> {
    dirs.bases.iter().find(|d| d.is_dir()).cloned()
}
