use std::ffi::{c_void, CStr, CString};

use libappindicator as ai;
use tray_icon::TrayIcon;

// tray-icon's `AppIndicator` wraps one pointer to the C object; being
// the size of that one field, it holds it at offset 0.
const _: () = assert!(size_of::<ai::AppIndicator>() == size_of::<*mut c_void>());

/// The C object behind `tray`'s item, valid as long as `tray` is.
fn object(tray: &TrayIcon) -> *mut c_void {
    // SAFETY: `app_indicator` points at the live wrapper while `tray`
    // lives; its one field, a pointer, is at offset 0 (checked above),
    // and it is only read.
    unsafe { tray.app_indicator().cast::<*mut c_void>().read() }
}

pub fn set_title(tray: &TrayIcon, title: &str) {
    let Ok(title) = CString::new(title) else { return };
    // SAFETY: a live AppIndicator and a NUL-terminated string, which
    // the library copies.
    unsafe { ai::app_indicator_set_title(object(tray).cast(), title.as_ptr()) }
}

pub fn set_attention(tray: &TrayIcon, needed: bool) {
    attention_icon_is_the_icon(tray);
    let status = match needed {
        true => ai::AppIndicatorStatus_APP_INDICATOR_STATUS_ATTENTION,
        false => ai::AppIndicatorStatus_APP_INDICATOR_STATUS_ACTIVE,
    };
    // SAFETY: a live AppIndicator and one of the library's statuses.
    unsafe { ai::app_indicator_set_status(object(tray).cast(), status) }
}

/// Shows the icon itself when the item needs attention: tray-icon
/// names no attention icon, and a panel would show none, or a generic one.
pub fn attention_icon_is_the_icon(tray: &TrayIcon) {
    let item = object(tray);
    // SAFETY: a live AppIndicator; the name it returns is its own,
    // copied here before anything changes it.
    let name = unsafe {
        let name = ai::app_indicator_get_icon(item.cast());
        if name.is_null() {
            return;
        }
        CStr::from_ptr(name).to_owned()
    };
    let description = c"Osaurus Tray";
    // SAFETY: a live AppIndicator and two NUL-terminated strings, which
    // the library copies.
    unsafe { ai::app_indicator_set_attention_icon_full(item.cast(), name.as_ptr(), description.as_ptr()) }
}
