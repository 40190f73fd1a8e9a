use std::sync::mpsc;
use std::time::Duration;

use block2::RcBlock;
use objc2::rc::Retained;
use objc2::runtime::{Bool, NSObject, ProtocolObject};
use objc2::{define_class, msg_send, AnyThread};
use objc2_foundation::{NSActivityOptions, NSBundle, NSError, NSObjectProtocol, NSProcessInfo, NSString};
use objc2_service_management::{SMAppService, SMAppServiceStatus};
use objc2_user_notifications::{
    UNAuthorizationOptions, UNMutableNotificationContent, UNNotification, UNNotificationPresentationOptions,
    UNNotificationRequest, UNUserNotificationCenter, UNUserNotificationCenterDelegate,
};

use osaurus_tray::autostart::{LoginStatus, AGENT_LABEL};
use osaurus_tray::notifications::Answer;

/// How long to wait for the notification center to take a notification.
const ANSWER: Duration = Duration::from_secs(30);

// CoreGraphics (linked by tao) and CoreFoundation.
#[link(name = "CoreGraphics", kind = "framework")]
extern "C" {
    fn CGSessionCopyCurrentDictionary() -> *const std::ffi::c_void;
}
#[link(name = "CoreFoundation", kind = "framework")]
extern "C" {
    fn CFRelease(cf: *const std::ffi::c_void);
}

/// Whether this process runs in a login session with a window server:
/// CoreGraphics gives no session dictionary outside one (over SSH).
pub fn has_window_server() -> bool {
    // SAFETY: a documented CoreGraphics call with no arguments; it
    // returns NULL or a dictionary we own and release.
    unsafe {
        let session = CGSessionCopyCurrentDictionary();
        if session.is_null() {
            return false;
        }
        CFRelease(session);
        true
    }
}

/// Begins a user-initiated activity that lasts as long as the process
/// (App Nap off; idle system sleep still allowed).
pub fn begin_activity() {
    let reason = NSString::from_str("Watching the Osaurus servers on this Mac and their exposure to the network");
    let activity = NSProcessInfo::processInfo()
        .beginActivityWithOptions_reason(NSActivityOptions::UserInitiatedAllowingIdleSystemSleep, &reason);
    // Held for the life of the process: ending it would let App Nap in.
    std::mem::forget(activity);
}

/// Whether this process is the app bundle of `bundle/macos`.
pub fn in_bundle() -> bool {
    NSBundle::mainBundle().bundleIdentifier().is_some_and(|id| id.to_string() == AGENT_LABEL)
}

fn describe(error: *mut NSError) -> String {
    // SAFETY: the completion handlers receive nil or a valid NSError.
    match unsafe { error.as_ref() } {
        Some(e) => e.localizedDescription().to_string(),
        None => "no reason given".into(),
    }
}

define_class!(
    // SAFETY: NSObject has no subclassing requirements; no Drop.
    #[unsafe(super(NSObject))]
    #[name = "OsaurusTrayNotificationPresenter"]
    struct Presenter;

    unsafe impl NSObjectProtocol for Presenter {}

    unsafe impl UNUserNotificationCenterDelegate for Presenter {
        // Without this, macOS drops a notification that arrives while
        // the app is active (as it is after launch, or with its menu open).
        #[unsafe(method(userNotificationCenter:willPresentNotification:withCompletionHandler:))]
        fn will_present(
            &self,
            _center: &UNUserNotificationCenter,
            _notification: &UNNotification,
            handler: &block2::DynBlock<dyn Fn(UNNotificationPresentationOptions)>,
        ) {
            handler.call((UNNotificationPresentationOptions::Banner | UNNotificationPresentationOptions::List,));
        }
    }
);

/// The center, with the app's delegate set once (it is held weakly, so
/// the delegate is kept for the life of the process).
fn center() -> Retained<UNUserNotificationCenter> {
    static DELEGATE: std::sync::Once = std::sync::Once::new();
    let center = UNUserNotificationCenter::currentNotificationCenter();
    DELEGATE.call_once(|| {
        // SAFETY: NSObject's init on a freshly allocated object.
        let presenter: Retained<Presenter> = unsafe { msg_send![Presenter::alloc(), init] };
        center.setDelegate(Some(ProtocolObject::from_ref(&*presenter)));
        std::mem::forget(presenter);
    });
    center
}

/// Asks whether the app may post notifications (the system prompts the
/// user the first time); `answered` gets the answer on the center's
/// thread. Does not wait.
///
/// `currentNotificationCenter` raises an Objective-C exception in a
/// process without a bundle proxy; [`in_bundle`] is checked before any
/// call here. objc2's `exception` feature (to catch it) builds
/// Objective-C with clang through `objc2-exception-helper`, which the
/// macOS type-check on Linux cannot run.
pub fn request_authorization(answered: impl Fn(Answer) + Send + 'static) {
    let asked = RcBlock::new(move |granted: Bool, error: *mut NSError| {
        answered(if granted.as_bool() {
            Answer::Allowed
        } else if error.is_null() {
            Answer::DeniedByUser
        } else {
            Answer::Refused(describe(error))
        });
    });
    center().requestAuthorizationWithOptions_completionHandler(
        UNAuthorizationOptions::Alert | UNAuthorizationOptions::Sound,
        &asked,
    );
}

/// Shows one notification under the app's name, once the app has been
/// allowed to ([`request_authorization`]).
pub fn post_notification(title: &str, body: &str) -> Result<(), String> {
    let center = center();

    let content = UNMutableNotificationContent::new();
    content.setTitle(&NSString::from_str(title));
    content.setBody(&NSString::from_str(body));
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = NSString::from_str(&format!("{AGENT_LABEL}.{}.{n}", std::process::id()));
    let request = UNNotificationRequest::requestWithIdentifier_content_trigger(&id, &content, None);

    let (tx, rx) = mpsc::channel();
    let added = RcBlock::new(move |error: *mut NSError| {
        let _ = tx.send(if error.is_null() { Ok(()) } else { Err(describe(error)) });
    });
    center.addNotificationRequest_withCompletionHandler(&request, Some(&added));
    rx.recv_timeout(ANSWER).unwrap_or_else(|_| Err("the notification center did not answer".into()))
}

/// Posts `message` on the distributed notification center with
/// `deliverImmediately`, its userInfo as numbers (Osaurus reads `port`
/// as an Int).
pub fn post_control(message: osaurus_tray::control::Message) {
    use objc2::runtime::AnyObject;
    use objc2_foundation::{NSDictionary, NSDistributedNotificationCenter, NSNumber};

    let info = message.user_info();
    let keys: Vec<Retained<NSString>> = info.iter().map(|(k, _)| NSString::from_str(k)).collect();
    let values: Vec<Retained<AnyObject>> =
        info.iter().map(|(_, v)| NSNumber::new_i64(*v).into_super().into_super().into_super()).collect();
    let keys: Vec<&NSString> = keys.iter().map(|k| &**k).collect();
    let user_info = NSDictionary::from_retained_objects(&keys, &values);
    let name = NSString::from_str(message.name());
    // SAFETY: the userInfo is a dictionary of strings to numbers (the
    // untyped dictionary the method takes is the same object); no
    // object is passed.
    unsafe {
        let user_info: Retained<NSDictionary> = Retained::cast_unchecked(user_info);
        NSDistributedNotificationCenter::defaultCenter().postNotificationName_object_userInfo_deliverImmediately(
            &name,
            None,
            Some(&user_info),
            true,
        );
    }
}

/// What the login item service says of the app.
pub fn main_app_status() -> LoginStatus {
    // SAFETY: SMAppService exists on macOS 13 and later, checked by
    // `login_item`.
    match unsafe { SMAppService::mainAppService().status() } {
        SMAppServiceStatus::Enabled => LoginStatus::Enabled,
        SMAppServiceStatus::RequiresApproval => LoginStatus::RequiresApproval,
        SMAppServiceStatus::NotFound => LoginStatus::NotFound,
        _ => LoginStatus::NotRegistered,
    }
}

/// Registers or unregisters the app as a login item. Registering what
/// is already registered, or unregistering what is not, is an error to
/// the service, so its status decides first. A login item the user has
/// turned off in System Settings stays registered, waiting for approval:
/// only System Settings can turn it back on, so it is opened.
pub fn set_main_app(on: bool) -> Result<(), String> {
    // SAFETY: as in `main_app_enabled`.
    unsafe {
        let service = SMAppService::mainAppService();
        let result = match (on, service.status()) {
            (true, SMAppServiceStatus::Enabled) | (false, SMAppServiceStatus::NotRegistered) => return Ok(()),
            (true, SMAppServiceStatus::RequiresApproval) => Ok(()),
            (true, _) => service.registerAndReturnError(),
            (false, _) => service.unregisterAndReturnError(),
        };
        result.map_err(|e| format!("Could not change launch at login: {}", e.localizedDescription()))?;
        if on && service.status() == SMAppServiceStatus::RequiresApproval {
            SMAppService::openSystemSettingsLoginItems();
            return Err("Allow Osaurus Tray in System Settings, Login Items, to start it at login.".into());
        }
    }
    Ok(())
}
