//! The words for what a server is doing and who can reach it: one set, used
//! by `list` and `watch`'s table, the menu and the notifications (README,
//! "The words it uses", lists them beside the JSON values, which stay as
//! scripts know them).

use crate::discovery::{Instance, LanAccess};
use crate::inspect::Details;

/// Whether a running entry's server answers, as far as is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A process listens on its port and Osaurus answered.
    Responding,
    /// Nothing listens on its port any more, or it still listens but missed
    /// two checks.
    NotResponding,
    /// Left over from a crash: its file says running, nothing of it listens
    /// (two looks 10 s apart), or its file is older than what listens there.
    LeftOver,
    /// Another program answers on its port.
    NotOsaurus,
    /// Not asked (`--no-probe`, or not yet).
    NotChecked,
}

impl Status {
    /// The status of `i`, with what probes found about it.
    pub fn of(i: &Instance, details: Option<&Details>) -> Status {
        if i.leftover.is_some() || details.is_some_and(|d| d.leftover) {
            Status::LeftOver
        } else if i.not_osaurus.is_some() {
            Status::NotOsaurus
        } else if i.reachable == Some(false) || details.is_some_and(|d| d.not_responding) {
            Status::NotResponding
        } else if i.reachable == Some(true) {
            Status::Responding
        } else {
            Status::NotChecked
        }
    }

    /// The word, in lower case: `responding`, `not responding`, `left
    /// over`, `not Osaurus`, `not checked`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Responding => "responding",
            Status::NotResponding => "not responding",
            Status::LeftOver => "left over",
            Status::NotOsaurus => "not Osaurus",
            Status::NotChecked => "not checked",
        }
    }
}

/// Who can reach a running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Only this machine (it listens on 127.0.0.1).
    LocalOnly,
    /// The local network; what a client there gets is not known yet.
    Lan,
    /// The local network, with an access key (`lanAccess: guarded`).
    LanKeyRequired,
    /// The local network, anyone, without a key (`lanAccess: open`).
    LanOpen,
    /// The local network; the check could not be made (`lanAccess: blocked`).
    LanNotChecked,
}

impl Reach {
    /// Who can reach `i`; `None` for an entry that is not running.
    pub fn of(i: &Instance) -> Option<Reach> {
        if !i.is_running() {
            return None;
        }
        Some(match (i.exposed, i.lan_access) {
            (false, _) => Reach::LocalOnly,
            (true, Some(LanAccess::Guarded)) => Reach::LanKeyRequired,
            (true, Some(LanAccess::Open)) => Reach::LanOpen,
            (true, Some(LanAccess::Blocked)) => Reach::LanNotChecked,
            (true, _) => Reach::Lan,
        })
    }

    /// What follows "LAN" when it is known: `key required`, `open to
    /// anyone`, `not checked`.
    pub fn qualifier(self) -> Option<&'static str> {
        match self {
            Reach::LanKeyRequired => Some("key required"),
            Reach::LanOpen => Some("open to anyone"),
            Reach::LanNotChecked => Some("not checked"),
            Reach::LocalOnly | Reach::Lan => None,
        }
    }

    /// The table's word: `local only`, `LAN`, `LAN, key required`, …
    pub fn word(self) -> String {
        match (self, self.qualifier()) {
            (Reach::LocalOnly, _) => "local only".into(),
            (_, Some(q)) => format!("LAN, {q}"),
            (_, None) => "LAN".into(),
        }
    }
}

/// The note for an exposed entry whose LAN address this machine no longer
/// has: the address, and the URL that works here.
pub fn address_gone(i: &Instance) -> Option<String> {
    if i.address_on_this_machine != Some(false) {
        return None;
    }
    let address = i.address.as_deref().unwrap_or_default();
    let lo = i.loopback_url.as_deref().unwrap_or_default();
    Some(format!("LAN address {address} gone; use {lo}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::State;

    fn running(exposed: bool, reachable: Option<bool>) -> Instance {
        crate::test_support::running("A", 1, exposed, reachable)
    }

    #[test]
    fn each_status_has_its_word_and_a_leftover_wins() {
        let alive = running(false, Some(true));
        assert_eq!(Status::of(&alive, None).word(), "responding");
        assert_eq!(Status::of(&running(false, None), None).word(), "not checked");
        assert_eq!(Status::of(&running(false, Some(false)), None).word(), "not responding");
        let silent = Details { not_responding: true, ..Details::default() };
        assert_eq!(Status::of(&alive, Some(&silent)), Status::NotResponding, "still listens, missed two checks");
        let mut other = running(false, Some(false));
        other.not_osaurus = Some("port 1 answers, but not as Osaurus".into());
        assert_eq!(Status::of(&other, None).word(), "not Osaurus");
        other.leftover = Some("its file is older than the process on port 1".into());
        assert_eq!(Status::of(&other, None).word(), "left over");
        let gone = Details { leftover: true, ..Details::default() };
        assert_eq!(Status::of(&running(false, Some(false)), Some(&gone)), Status::LeftOver);
    }

    #[test]
    fn each_reach_has_its_word() {
        assert_eq!(Reach::of(&running(false, None)).map(Reach::word).as_deref(), Some("local only"));
        let mut lan = running(true, None);
        assert_eq!(Reach::of(&lan).map(Reach::word).as_deref(), Some("LAN"));
        for (access, word) in [
            (LanAccess::Guarded, "LAN, key required"),
            (LanAccess::Open, "LAN, open to anyone"),
            (LanAccess::Blocked, "LAN, not checked"),
            (LanAccess::Unknown, "LAN"),
        ] {
            lan.lan_access = Some(access);
            assert_eq!(Reach::of(&lan).unwrap().word(), word);
        }
        let starting = Instance { state: State::Starting, ..running(true, None) };
        assert_eq!(Reach::of(&starting), None);
    }

    #[test]
    fn a_gone_address_names_the_url_that_works() {
        let mut moved = running(true, Some(true));
        assert_eq!(address_gone(&moved), None);
        moved.address_on_this_machine = Some(false);
        assert_eq!(address_gone(&moved).as_deref(), Some("LAN address 192.168.1.23 gone; use http://127.0.0.1:1"));
    }
}
