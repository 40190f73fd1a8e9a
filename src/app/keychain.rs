//! The system's store of secrets, through the `keyring` crate: the macOS
//! Keychain, the Secret Service on Linux (where one runs: GNOME Keyring,
//! KWallet, KeePassXC). Only the app executable links it; the command line
//! reaches it through `osaurus-tray-app key reveal`.

use osaurus_tray::key_store::{Keychain, ACCOUNT, SERVICE};

/// The one keychain item that holds the access key.
pub struct SystemKeychain;

impl SystemKeychain {
    fn entry() -> Result<keyring::Entry, String> {
        reachable()?;
        keyring::Entry::new(SERVICE, ACCOUNT).map_err(|e| reason(&e))
    }
}

impl Keychain for SystemKeychain {
    fn name(&self) -> String {
        osaurus_tray::key_store::SYSTEM_STORE.into()
    }

    fn get(&self) -> Result<Option<String>, String> {
        match SystemKeychain::entry()?.get_password() {
            Ok(key) => Ok(Some(key)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(reason(&e)),
        }
    }

    fn set(&self, key: &str) -> Result<(), String> {
        SystemKeychain::entry()?.set_password(key).map_err(|e| reason(&e))
    }

    fn clear(&self) -> Result<bool, String> {
        match SystemKeychain::entry()?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(reason(&e)),
        }
    }
}

/// Why the store failed, in one line.
fn reason(e: &keyring::Error) -> String {
    match e {
        keyring::Error::NoStorageAccess(why) => format!("it is locked or refused access ({why})"),
        keyring::Error::PlatformFailure(why) => {
            let why = why.to_string();
            if why.contains("org.freedesktop.secrets") || why.contains("ServiceUnknown") {
                "no Secret Service runs on the session bus".into()
            } else {
                why
            }
        }
        other => other.to_string(),
    }
    .lines()
    .next()
    .unwrap_or_default()
    .to_owned()
}

/// Linux: a session bus to ask, without libdbus starting one of its own
/// (it would run `dbus-launch` where a display is set and no bus is).
#[cfg(target_os = "linux")]
fn reachable() -> Result<(), String> {
    let set = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
    let socket = std::env::var_os("XDG_RUNTIME_DIR").map(|d| std::path::Path::new(&d).join("bus"));
    if set || socket.is_some_and(|s| s.exists()) {
        Ok(())
    } else {
        Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into())
    }
}

#[cfg(not(target_os = "linux"))]
fn reachable() -> Result<(), String> {
    Ok(())
}
