//! What the app tells the user by notification: asking the system whether
//! it may, posting, "Osaurus stopped" once no server came back, tunnels.

use osaurus_tray::exposure::Exposure;
use osaurus_tray::notifications::{self, Answer, Notification};

use super::{platform, App, UserEvent};

impl App {
    /// Asks, once and without waiting, whether the app may post
    /// notifications; until the answer, they wait in [`Self::delivery`].
    pub(super) fn ask_notifications(&mut self) {
        if std::mem::replace(&mut self.asked_notifications, true) {
            return;
        }
        let proxy = self.proxy.clone();
        self.delivery = platform::ask_notifications(move |answer| {
            let _ = proxy.send_event(UserEvent::Notifications(answer));
        });
    }

    pub(super) fn notifications_answered(&mut self, answer: Answer) {
        // Said in the menu, not on stderr: started from Finder or at login,
        // nobody reads stderr.
        let route = answer.route();
        self.notifications_note = answer.note();
        for n in self.delivery.answered(route) {
            platform::notify(route, &n);
        }
        self.refresh_menu();
    }

    /// Shows a notification, when notifications are on.
    pub(super) fn tell(&mut self, n: Notification) {
        if !self.context.settings.notifications {
            return;
        }
        if let Some((route, n)) = self.delivery.send(n) {
            platform::notify(route, &n);
        }
    }

    /// Every server went away [`notifications::STOP_GRACE`] ago: "stopped",
    /// unless one came back.
    pub(super) fn stop_check(&mut self) {
        self.stop_check_at = None;
        if let Some(n) = self.stops.due(std::time::Instant::now()) {
            self.tell(n);
        }
    }

    pub(super) fn notify_tunnels(&mut self, before: Option<Exposure>) {
        let Some(after) = self.exposure_in_effect().filter(|_| self.context.settings.notifications) else { return };
        for n in notifications::tunnels_on(before.as_ref(), &after) {
            if let Some((route, n)) = self.delivery.send(n) {
                platform::notify(route, &n);
            }
        }
    }
}
