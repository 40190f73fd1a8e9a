//! What the unit tests of this crate build their entries from.

use crate::discovery::{Instance, State};

/// A running entry `id` on 127.0.0.1:`port`, exposed at 192.168.1.23 when
/// `exposed` (with its loopback URL), probed as `reachable`, undated, in
/// `/rt/<id>`; nothing else known about it.
pub fn running(id: &str, port: u16, exposed: bool, reachable: Option<bool>) -> Instance {
    let local = format!("http://127.0.0.1:{port}");
    Instance {
        instance_id: id.into(),
        state: State::Running,
        url: Some(local.clone()),
        address: Some(if exposed { "192.168.1.23" } else { "127.0.0.1" }.into()),
        port: Some(port),
        expose_to_network: Some(exposed),
        exposed,
        reachable,
        updated_at: None,
        dir: format!("/rt/{id}").into(),
        problem: None,
        not_osaurus: None,
        loopback_url: exposed.then_some(local),
        address_on_this_machine: None,
        lan_access: None,
        leftover: None,
    }
}
