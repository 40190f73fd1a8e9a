//! Everything that differs between macOS and Linux, in one place.

use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use osaurus_tray::autostart::Autostart;
use osaurus_tray::icon::{render, IconKind, Style};
use osaurus_tray::notifications::{Answer, Delivery, Notification, Route};

/// Launching Osaurus is possible from the menu.
pub const CAN_START_OSAURUS: bool = cfg!(target_os = "macos");

/// The status item can show a title beside the icon.
pub const HAS_TITLE: bool = cfg!(target_os = "macos");

/// The icon's pixel size: on macOS the 22 pt status item image at 2x
/// (tray-icon shows an image as many points tall as it has pixels, capped
/// at 22 pt), with the glyph drawn about 16 pt tall inside it
/// ([`osaurus_tray::icon::artwork_scale`]).
const ICON_PX: u32 = if cfg!(target_os = "macos") { 44 } else { 32 };

fn icon(kind: IconKind) -> Icon {
    let style = if cfg!(target_os = "macos") { Style::Template } else { Style::Colour };
    Icon::from_rgba(render(kind, ICON_PX, style), ICON_PX, ICON_PX).expect("icon pixels match their size")
}

/// Sets up the process for the toolkit; call first thing in `main`, before
/// any thread starts. On Linux, GDK opens OpenGL when it opens the display
/// (to pick visuals for GL), which maps Mesa and, with a software renderer,
/// libLLVM: tens of megabytes for a menu that never draws with GL. The tray
/// turns that off unless the user chose otherwise, until the toolkit has
/// started ([`after_toolkit`]), so that programs it opens are not affected.
pub fn before_toolkit() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
        GL_SWITCHED_OFF.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(target_os = "linux")]
static GL_SWITCHED_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Undoes what [`before_toolkit`] set, once GDK has read it: a browser or
/// file manager started from the menu gets the user's environment.
pub fn after_toolkit() {
    #[cfg(target_os = "linux")]
    if GL_SWITCHED_OFF.swap(false, std::sync::atomic::Ordering::Relaxed) {
        std::env::remove_var("GDK_GL");
    }
}

/// Whether this session can show a tray at all, in one sentence if not.
pub fn check_desktop() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Err("No graphical session (DISPLAY and WAYLAND_DISPLAY are unset): the tray needs a desktop. \
                        In a terminal, `osaurus-tray watch` shows the same information."
                .into());
        }
    }
    #[cfg(target_os = "macos")]
    if !mac::has_window_server() {
        return Err("No window server (started over SSH, or outside a login session): the menu bar needs \
                    the desktop. In a terminal, `osaurus-tray watch` shows the same information."
            .into());
    }
    Ok(())
}

/// Keeps App Nap from stretching the app's timers (the watcher's, the
/// probes'), for the life of the process: macOS naps a windowless app
/// freely. The activity lets the Mac sleep when idle.
pub fn keep_awake() {
    #[cfg(target_os = "macos")]
    mac::begin_activity();
}

/// Sets up the event loop before it runs: menu-bar only on macOS (tao's
/// default `Regular` policy would add a Dock icon, overriding LSUIElement),
/// and started without taking focus from the app in front (tao activates
/// the app ignoring other apps by default).
pub fn prepare<T: 'static>(event_loop: &mut tao::event_loop::EventLoop<T>) {
    #[cfg(target_os = "macos")]
    {
        use tao::platform::macos::{ActivationPolicy, EventLoopExtMacOS};
        event_loop.set_activation_policy(ActivationPolicy::Accessory);
        event_loop.set_activate_ignoring_other_apps(false);
    }
    #[cfg(not(target_os = "macos"))]
    let _ = event_loop;
}

/// Adds the platform's icon and naming to the builder.
pub fn with_icon(builder: TrayIconBuilder, kind: IconKind) -> TrayIconBuilder {
    #[cfg(target_os = "macos")]
    return builder.with_autosave_name("osaurus-tray").with_icon_templated(icon(kind));
    #[cfg(not(target_os = "macos"))]
    builder.with_icon(icon(kind))
}

/// Changes the icon shown.
pub fn set_icon(tray: &TrayIcon, kind: IconKind) {
    #[cfg(target_os = "macos")]
    let result = tray.set_icon_templated(Some(icon(kind)));
    #[cfg(not(target_os = "macos"))]
    let result = tray.set_icon(Some(icon(kind)));
    if let Err(e) = result {
        eprintln!("osaurus-tray: cannot change the tray icon: {e}");
    }
    #[cfg(target_os = "linux")]
    indicator::attention_icon_is_the_icon(tray);
}

/// What the panel calls the tray item (Linux: the StatusNotifierItem's
/// `Title`, which is otherwise the executable's name, `osaurus-tray-app`).
#[cfg(target_os = "linux")]
const ITEM_TITLE: &str = "Osaurus Tray";

/// Names the tray item for the panel, once it is built ([`ITEM_TITLE`]).
/// macOS has no such name: the menu-bar item is the app's.
pub fn name_item(tray: &TrayIcon) {
    #[cfg(target_os = "linux")]
    indicator::set_title(tray, ITEM_TITLE);
    #[cfg(not(target_os = "linux"))]
    let _ = tray;
}

/// Asks the panel for attention while `needed` (a server is open to the
/// LAN or the internet): on Linux the item's `Status` is `NeedsAttention`,
/// which panels show even where they hide quiet items, else `Active`. The
/// attention icon is the icon itself (its badge already says why). macOS
/// has no such state: the badge on the icon says it.
pub fn set_attention(tray: &TrayIcon, needed: bool) {
    #[cfg(target_os = "linux")]
    indicator::set_attention(tray, needed);
    #[cfg(not(target_os = "linux"))]
    let _ = (tray, needed);
}

/// The tray item's title and status, set on the libayatana-appindicator
/// object behind tray-icon's item (tray-icon sets neither).
#[cfg(target_os = "linux")]
#[path = "platform/indicator.rs"]
mod indicator;

/// Launches the Osaurus app (macOS), the way its own docs do. Waits for
/// `open`: call it off the main thread.
pub fn start_osaurus() -> Result<(), String> {
    #[cfg(target_os = "macos")]
    {
        let status = std::process::Command::new("/usr/bin/open")
            .args(["-b", "com.dinoki.osaurus"])
            .status()
            .map_err(|e| format!("Could not start Osaurus: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err("Could not start Osaurus: is it installed?".into())
        }
    }
    #[cfg(not(target_os = "macos"))]
    Err("Starting Osaurus is only possible on macOS.".into())
}

/// Posts a control message to every Osaurus app of this user, delivered
/// at once (macOS: the distributed notification center, as Osaurus's own
/// CLI posts it).
pub fn post(message: osaurus_tray::control::Message) -> Result<(), String> {
    #[cfg(target_os = "macos")]
    {
        mac::post_control(message);
        Ok(())
    }
    #[cfg(not(target_os = "macos"))]
    {
        let _ = message;
        Err(osaurus_tray::control::NO_OSAURUS_HERE.into())
    }
}

/// Asks, once and without waiting, whether the app may post notifications;
/// `answered` gets the answer, on another thread. Returns where
/// notifications go until then. On macOS the notifications come from the
/// app itself (the user notification center) when it runs from its bundle:
/// they wait for the answer. The center refuses a process without a bundle,
/// so a bare executable (`cargo run`) uses AppleScript, whose notifications
/// macOS shows as Script Editor's, and says so once. Elsewhere nothing is
/// asked.
pub fn ask_notifications(answered: impl Fn(Answer) + Send + 'static) -> Delivery {
    #[cfg(target_os = "macos")]
    {
        if mac::in_bundle() {
            mac::request_authorization(answered);
            return Delivery::Asking(Vec::new());
        }
        eprintln!(
            "osaurus-tray: not started from Osaurus Tray.app, so notifications go through AppleScript \
             and show as Script Editor's"
        );
        Delivery::Ready(Route::Script)
    }
    #[cfg(not(target_os = "macos"))]
    {
        let _ = answered;
        Delivery::Ready(Route::Native)
    }
}

/// Shows a desktop notification the way `route` says, on a short-lived
/// thread so that a slow notification service never stalls the menu.
/// Failures are logged.
pub fn notify(route: Route, n: &Notification) {
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let n = n.clone();
    std::thread::spawn(move || {
        if let Err(e) = show_notification(route, &n) {
            // Say it once: without a notification service every call fails.
            if !REPORTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("osaurus-tray: could not show a notification: {e}");
            }
        }
    });
}

#[cfg(target_os = "macos")]
fn show_notification(route: Route, n: &Notification) -> Result<(), String> {
    if route == Route::Native {
        return mac::post_notification(&n.title, &n.body);
    }
    // AppleScript string literals: escape backslashes and quotes.
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let script =
        format!("display notification \"{}\" with title \"Osaurus Tray\" subtitle \"{}\"", q(&n.body), q(&n.title));
    let status =
        std::process::Command::new("/usr/bin/osascript").args(["-e", &script]).status().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("osascript exited with {status}"))
    }
}

#[cfg(not(target_os = "macos"))]
fn show_notification(_: Route, n: &Notification) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Osaurus Tray")
        .summary(&n.title)
        .body(&n.body)
        .icon("osaurus-tray")
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Whether [`relabel_submenu`] can change a submenu's label where it is
/// shown. On Linux that needs GTK started on this thread (the tray's event
/// loop does it); without it a relabelled submenu is replaced instead.
pub fn can_relabel_submenus() -> bool {
    #[cfg(target_os = "linux")]
    return gtk::is_initialized_main_thread();
    #[cfg(not(target_os = "linux"))]
    true
}

/// Makes the submenu row at `path` (positions from the top of `menu`) show
/// `label`, after muda's `Submenu::set_text` has been called. That is all
/// macOS needs. On Linux muda's row is a box holding an icon and a label,
/// which `set_text` (`gtk_menu_item_set_label`) does not reach, so the label
/// widget in the box is set here; libdbusmenu passes it on to the panel.
pub fn relabel_submenu(menu: &tray_icon::menu::Menu, path: &[usize], label: &str) {
    #[cfg(target_os = "linux")]
    {
        use gtk::prelude::*;
        use tray_icon::menu::ContextMenu;

        fn row(menu: gtk::Menu, path: &[usize]) -> Option<gtk::MenuItem> {
            let (first, rest) = path.split_first()?;
            let item = menu.children().get(*first)?.clone().downcast::<gtk::MenuItem>().ok()?;
            match rest {
                [] => Some(item),
                _ => row(item.submenu()?.downcast::<gtk::Menu>().ok()?, rest),
            }
        }
        fn text_of(widget: gtk::Widget) -> Option<gtk::Label> {
            match widget.downcast::<gtk::Label>() {
                Ok(label) => Some(label),
                Err(widget) => widget.downcast::<gtk::Container>().ok()?.children().into_iter().find_map(text_of),
            }
        }
        // muda's GTK text: mnemonics on, so a literal `_` is doubled.
        let gtk_text = label.replace('_', "__");
        match row(menu.gtk_context_menu(), path).and_then(|r| r.child()).and_then(text_of) {
            Some(text) => text.set_text_with_mnemonic(&gtk_text),
            None => eprintln!(
                "osaurus-tray: the menu row at {} was not found to relabel",
                path.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("/")
            ),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (menu, path, label);
}

/// Launch at login. On macOS 13 and later, run from its bundle, the app is
/// its own login item (`SMAppService.mainApp`): macOS lists it under its
/// name and follows the bundle when it is moved or updated. Elsewhere it is
/// the file [`Autostart`] writes: a LaunchAgent on older macOS, an XDG
/// autostart entry on Linux.
pub enum LoginItem {
    /// The app bundle registered with the system.
    #[cfg(target_os = "macos")]
    MainApp,
    /// A login item file that names this executable.
    File(Autostart),
}

/// This session's login item, if it has one.
pub fn login_item() -> Option<LoginItem> {
    #[cfg(target_os = "macos")]
    if objc2::available!(macos = 13.0) && mac::in_bundle() {
        return Some(LoginItem::MainApp);
    }
    Autostart::for_this_user().map(LoginItem::File)
}

impl LoginItem {
    /// Whether the app starts at login, as the system (or the file) says
    /// now, and what the menu should say of it. Asks the login item
    /// service (XPC) on macOS: call it off the main thread.
    pub fn state(&self) -> (bool, Option<String>) {
        match self {
            // A LaunchAgent written by an older version starts the app too:
            // it shows as on until it is turned off (which removes it).
            #[cfg(target_os = "macos")]
            LoginItem::MainApp => {
                use osaurus_tray::autostart::{login_note, LoginStatus};
                let status = mac::main_app_status();
                let agent = dirs::home_dir().is_some_and(|h| Autostart::launch_agent(&h).is_enabled());
                (status == LoginStatus::Enabled || agent, login_note(status, translocated()))
            }
            LoginItem::File(autostart) => (autostart.is_enabled(), None),
        }
    }

    /// Turns launch at login on or off.
    pub fn set(&self, on: bool) -> Result<(), String> {
        match self {
            #[cfg(target_os = "macos")]
            LoginItem::MainApp => {
                // Registered from App Translocation's copy, the login item
                // would name a folder gone after the next restart.
                if on && translocated() {
                    return Err(osaurus_tray::autostart::TRANSLOCATED.into());
                }
                // One login item: a LaunchAgent written by an older version
                // names a path that may no longer be this app.
                if let Some(home) = dirs::home_dir() {
                    let _ = Autostart::launch_agent(&home).set(false, std::path::Path::new(""));
                }
                mac::set_main_app(on)
            }
            LoginItem::File(autostart) => {
                let exe = std::env::current_exe().map_err(|e| format!("Could not find this program's path: {e}"))?;
                autostart.set(on, &exe).map_err(|e| format!("Could not change launch at login: {e}"))
            }
        }
    }
}

/// Whether this app runs from App Translocation's copy (macOS).
#[cfg(target_os = "macos")]
fn translocated() -> bool {
    std::env::current_exe().is_ok_and(|exe| osaurus_tray::autostart::is_translocated(&exe))
}

/// The Objective-C side: the user notification center, the login item, the
/// window server and App Nap.
#[cfg(target_os = "macos")]
#[path = "platform/mac.rs"]
mod mac;
