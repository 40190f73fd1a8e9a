//! What the menu does to Osaurus and its folders: control messages (Make
//! Local Only, Stop Server, Open Osaurus), waiting for their effect,
//! removing leftovers, and the login item.

use osaurus_tray::control::{self, Message, Request, Route};
use osaurus_tray::notifications::Notification;

use super::{platform, App, UserEvent};

impl App {
    /// Sends `message` where the runtime folders' Osaurus listens: the
    /// demo's fake, or Osaurus itself (macOS).
    pub(super) fn post(&self, message: Message) -> Result<(), String> {
        match control::route(&self.dirs) {
            Route::Demo(socket) => control::send_to_demo(&socket, message),
            Route::Osaurus => platform::post(message),
        }
    }

    /// Shows Osaurus's window while one runs (`…control.ui`), else starts
    /// it (on a thread: `open` waits). The demo's fake takes `ui` always.
    pub(super) fn open_osaurus(&mut self) -> Result<(), String> {
        let running = self.snapshot.as_ref().is_some_and(|s| s.running().next().is_some());
        if running || matches!(control::route(&self.dirs), Route::Demo(_)) {
            return self.post(Message::Ui);
        }
        self.in_background(platform::start_osaurus);
        Ok(())
    }

    /// Asks Osaurus for `request`, then waits for its folder to show it
    /// ([`Self::confirm`] on each snapshot) for [`control::CONFIRM_WITHIN`].
    pub(super) fn control(&mut self, request: Request) -> Result<(), String> {
        self.post(request.message())?;
        self.requests += 1;
        let n = self.requests;
        self.waiting = Some((n, request));
        let proxy = self.proxy.clone();
        std::thread::spawn(move || {
            std::thread::sleep(control::CONFIRM_WITHIN);
            let _ = proxy.send_event(UserEvent::ControlTimeout(n));
        });
        Ok(())
    }

    /// Confirms the request waiting, once the snapshot shows its effect.
    pub(super) fn confirm(&mut self) {
        let (Some((_, request)), Some(snap)) = (&self.waiting, &self.snapshot) else { return };
        let now = snap.all().find(|i| i.dir == request.dir());
        if let Some(done) = control::verdict(request, now) {
            self.waiting = None;
            self.tell(Notification { title: "Osaurus changed".into(), body: done });
        }
    }

    /// Nothing changed in time: says so, in the menu too, where Open
    /// Osaurus is offered.
    pub(super) fn control_timed_out(&mut self, n: u64) {
        let Some((_, request)) = self.waiting.take_if(|(m, _)| *m == n) else { return };
        let sentence = control::timed_out(&request, control::CONFIRM_WITHIN);
        eprintln!("osaurus-tray: {sentence}");
        self.context.notice = Some(control::unconfirmed_notice(&request, control::CONFIRM_WITHIN));
        self.tell(Notification { title: "Osaurus did not change".into(), body: sentence });
        self.refresh_menu();
    }

    /// Removes the leftovers the menu offered, each re-checked first (its
    /// probes and the socket table take a while: on a thread).
    pub(super) fn remove_leftovers(&mut self) -> Result<(), String> {
        let Some(snap) = self.snapshot.clone() else { return Ok(()) };
        let dirs = self.dirs.clone();
        self.in_background(move || {
            let prober = osaurus_tray::probe::Prober::default();
            let refusals: Vec<String> = snap
                .leftovers()
                .flat_map(|i| osaurus_tray::prune::remove_everywhere(i, &dirs, &prober))
                .filter_map(|(_, result)| result.err())
                .collect();
            if refusals.is_empty() {
                Ok(())
            } else {
                Err(refusals.join(" "))
            }
        });
        Ok(())
    }

    /// Reads launch at login on a thread; the answer comes back as
    /// [`UserEvent::LoginItem`].
    pub(super) fn read_login_item(&self) {
        let Some(item) = self.autostart.clone() else { return };
        let proxy = self.proxy.clone();
        std::thread::spawn(move || {
            let (on, note) = item.state();
            let _ = proxy.send_event(UserEvent::LoginItem(on, note));
        });
    }

    /// Turns launch at login over from the state last read back, on a
    /// thread (the login item service answers over XPC); the state is read
    /// back again after.
    pub(super) fn toggle_launch_at_login(&mut self) -> Result<(), String> {
        let Some(item) = self.autostart.clone() else { return Err("Launch at login is not available here.".into()) };
        let on = !self.context.launch_at_login.unwrap_or(false);
        let proxy = self.proxy.clone();
        self.in_background(move || {
            let result = item.set(on);
            let (on, note) = item.state();
            let _ = proxy.send_event(UserEvent::LoginItem(on, note));
            result
        });
        Ok(())
    }
}
