//! Which process listens on a TCP port of this machine: "which process serves
//! this Osaurus instance".
//!
//! The answer is read from the operating system, never guessed: when the
//! owner cannot be determined (no permission, an unsupported platform,
//! nothing listening, or two unrelated processes listening on the port),
//! [`listener`] answers `None`.
//!
//! - Linux: the listening sockets come from `/proc/net/tcp` and
//!   `/proc/net/tcp6` ([`parse_listening_rows`] is the pure part), their owners
//!   from the `socket:[INODE]` links under `/proc/*/fd`.
//! - macOS: libproc (`proc_listpids`, `proc_pidinfo(PROC_PIDLISTFDS)`,
//!   `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)`), called through `libc`.
//! - Elsewhere: always `None`.
//!
//! Beyond who listens: when a process started ([`started_at`]: a discovery
//! file older than its listener does not describe it) and when it exits
//! ([`ExitWatch`]: Linux pidfd, macOS kqueue), so that liveness is learnt
//! from the operating system, not by asking the server.

mod exits;
mod libproc;
mod started;

pub use exits::ExitWatch;
pub use started::{listeners_on, parse_boot_time, parse_start_ticks, started_at, Listener};

/// The process that owns a listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its process id.
    pub pid: u32,
    /// The file name of its executable (`osaurus`, `Osaurus`), or its
    /// command name when the executable's path cannot be read.
    pub name: String,
}

/// The process with a TCP socket in the LISTEN state on `port` (IPv4 or
/// IPv6, any local address), to show which process serves an instance.
///
/// Forked children sharing the listening socket count as one owner: the
/// lowest pid is the answer. `None` when it cannot be determined: nothing
/// listens, the sockets or their owners cannot be read (permissions, an
/// unsupported platform), or unrelated processes hold different listening
/// sockets on the port. Never panics.
pub fn listener(port: u16) -> Option<Owner> {
    #[cfg(target_os = "linux")]
    {
        linux::listener(port)
    }
    #[cfg(target_os = "macos")]
    {
        macos::listener(port)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = port;
        None
    }
}

/// True when the server listening on `port`, as a request to
/// `127.0.0.1:port` reaches it, belongs to this user (the effective uid):
/// the socket table shows at least one listening socket on the port at an
/// address such a request reaches (`127.0.0.1`, `0.0.0.0`, `::`), and every
/// such socket is this user's. False when it cannot be told (the table
/// cannot be read, nothing listens, an unsupported platform). The access
/// key goes only where this is true.
pub fn served_by_this_user(port: u16) -> bool {
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    {
        #[cfg(target_os = "linux")]
        let sockets = Listeners::read().map(|l| l.owners(port));
        #[cfg(target_os = "macos")]
        let sockets = macos::listening_owners(port);
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        sockets.is_some_and(|s| all_owned_by(&s, me))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = port;
        false
    }
}

/// True when some of `sockets` (`(local address, owner uid)` of the
/// listening sockets of one port) are reached by a request to 127.0.0.1,
/// and all of those are `uid`'s. Pure.
pub fn all_owned_by(sockets: &[(std::net::IpAddr, u32)], uid: u32) -> bool {
    let mut reached = sockets.iter().filter(|(a, _)| reached_from_loopback(a)).peekable();
    reached.peek().is_some() && reached.all(|&(_, owner)| owner == uid)
}

/// True for a listening address that a connection to `127.0.0.1` reaches:
/// `127.0.0.1` itself or every address (`0.0.0.0`, `::`, and their
/// IPv4-mapped forms).
pub fn reached_from_loopback(a: &std::net::IpAddr) -> bool {
    let v4 = match a {
        std::net::IpAddr::V4(v4) => *v4,
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => return true,
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4,
            None => return false,
        },
    };
    v4 == std::net::Ipv4Addr::LOCALHOST || v4.is_unspecified()
}

/// The listening TCP sockets of this machine at one moment, read once and
/// asked many times: reading `/proc/net/tcp` walks the kernel's whole socket
/// table, which can take milliseconds however few sockets there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listeners {
    /// `(local address, port, socket inode)` of every LISTEN row.
    rows: Vec<(std::net::IpAddr, u16, u64)>,
    /// The owner (uid) of each row, in the same order.
    uids: Vec<u32>,
    /// The process holding each row, in the same order, where one pass
    /// over the processes gives it (macOS); empty where the owner is looked
    /// up by socket when asked (Linux).
    pids: Vec<u32>,
}

impl Listeners {
    /// Reads the tables (Linux); `None` where they cannot be read.
    pub fn read() -> Option<Listeners> {
        #[cfg(target_os = "linux")]
        {
            let mut rows = parse_owned_rows(&std::fs::read_to_string("/proc/net/tcp").ok()?);
            if let Ok(text) = std::fs::read_to_string("/proc/net/tcp6") {
                rows.extend(parse_owned_rows(&text));
            }
            let (rows, uids) = rows.into_iter().unzip();
            Some(Listeners { rows, uids, pids: Vec::new() })
        }
        #[cfg(target_os = "macos")]
        {
            let found = macos::listening_sockets()?;
            let mut l = Listeners::default();
            for s in found {
                l.rows.push((s.address, s.port, s.id));
                l.uids.push(s.uid);
                l.pids.push(s.pid);
            }
            Some(l)
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        None
    }

    /// A table of the given `(address, port, socket inode)` rows, each
    /// owned by `uid`.
    pub fn from_rows(rows: Vec<(std::net::IpAddr, u16, u64)>, uid: u32) -> Listeners {
        let uids = vec![uid; rows.len()];
        Listeners { rows, uids, pids: Vec::new() }
    }

    /// True when something listens on `port`.
    pub fn listens(&self, port: u16) -> bool {
        self.rows.iter().any(|r| r.1 == port)
    }

    /// `(local address, owner uid)` of every socket listening on `port`.
    pub fn owners(&self, port: u16) -> Vec<(std::net::IpAddr, u32)> {
        self.rows.iter().zip(&self.uids).filter(|(r, _)| r.1 == port).map(|(r, &uid)| (r.0, uid)).collect()
    }

    /// The local addresses something listens on at `port`: the truth about
    /// exposure even when a file says otherwise.
    pub fn addresses(&self, port: u16) -> Vec<std::net::IpAddr> {
        self.rows.iter().filter(|r| r.1 == port).map(|r| r.0).collect()
    }

    /// The listening sockets on `port`, sorted: a change means a new server.
    pub fn sockets(&self, port: u16) -> Vec<u64> {
        let mut s: Vec<u64> = self.rows.iter().filter(|r| r.1 == port).map(|r| r.2).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The process holding the listening sockets on `port`, as [`listener`]
    /// decides it, without reading the tables again.
    pub fn owner(&self, port: u16) -> Option<Owner> {
        #[cfg(target_os = "linux")]
        {
            linux::owner_of(&self.sockets(port))
        }
        #[cfg(target_os = "macos")]
        {
            let pid = self.owning_pid(port)?;
            Some(Owner { pid, name: macos::name_of(std::ffi::c_int::try_from(pid).ok()?)? })
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            listener(port)
        }
    }

    /// [`Listeners::owner`] of each of `ports`, found in one walk over the
    /// processes (Linux: reading every process's descriptors is what costs).
    pub fn owners_of(&self, ports: &[u16]) -> std::collections::HashMap<u16, Owner> {
        #[cfg(target_os = "linux")]
        {
            let mut all: Vec<u64> = ports.iter().flat_map(|&p| self.sockets(p)).collect();
            all.sort_unstable();
            all.dedup();
            let holders = if all.is_empty() { Vec::new() } else { linux::holders(&all) };
            let mut names = std::collections::HashMap::new();
            ports
                .iter()
                .filter_map(|&port| {
                    let pid = choose(&self.sockets(port), &holders)?;
                    let name = names.entry(pid).or_insert_with(|| linux::name_of(pid)).clone()?;
                    Some((port, Owner { pid, name }))
                })
                .collect()
        }
        #[cfg(not(target_os = "linux"))]
        {
            ports.iter().filter_map(|&port| Some((port, self.owner(port)?))).collect()
        }
    }

    /// The pid [`Listeners::owner`] names, from the pass that read the
    /// table (macOS); `None` where the table has no pids.
    #[cfg_attr(not(target_os = "macos"), allow(dead_code))]
    fn owning_pid(&self, port: u16) -> Option<u32> {
        if self.pids.len() != self.rows.len() {
            return None;
        }
        let holders: Vec<(u64, u32)> =
            self.rows.iter().zip(&self.pids).filter(|(r, _)| r.1 == port).map(|(r, &pid)| (r.2, pid)).collect();
        choose(&self.sockets(port), &holders)
    }
}

/// `(address, port, inode)` of every well-formed LISTEN row of a
/// `/proc/net/tcp{,6}` table. Addresses are stored there as 32-bit words in
/// host (little-endian) order. Pure, and never panics.
pub fn parse_listening_rows(text: &str) -> Vec<(std::net::IpAddr, u16, u64)> {
    parse_owned_rows(text).into_iter().map(|(row, _)| row).collect()
}

/// [`parse_listening_rows`], each row with its owner's uid (the table's
/// `uid` column). Pure, and never panics.
pub fn parse_owned_rows(text: &str) -> Vec<((std::net::IpAddr, u16, u64), u32)> {
    text.lines()
        .filter_map(|line| {
            let (port, inode) = parse_listening_row(line)?;
            let mut fields = line.split_ascii_whitespace();
            let local = fields.nth(1)?;
            // sl local rem st tx:rx tr:when retrnsmt uid
            let uid = fields.nth(5)?.parse().ok()?;
            Some(((decode_address(local.split_once(':')?.0)?, port, inode), uid))
        })
        .collect()
}

fn decode_address(hex: &str) -> Option<std::net::IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|k| hex.get(k * 8..k * 8 + 8).and_then(|w| u32::from_str_radix(w, 16).ok()))
        .collect::<Option<_>>()?;
    match words.as_slice() {
        [w] if hex.len() == 8 => Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(w.swap_bytes()))),
        [a, b, c, d] if hex.len() == 32 => {
            let bytes: Vec<u8> = [a, b, c, d].iter().flat_map(|w| w.to_le_bytes()).collect();
            let arr: [u8; 16] = bytes.try_into().ok()?;
            Some(std::net::IpAddr::V6(std::net::Ipv6Addr::from(arr)))
        }
        _ => None,
    }
}

/// One row of `/proc/net/tcp{,6}`: `sl local rem st tx:rx tr:when retrnsmt
/// uid timeout inode ...`. `Some((port, inode))` for a well-formed LISTEN row.
fn parse_listening_row(line: &str) -> Option<(u16, u64)> {
    let mut fields = line.split_ascii_whitespace();
    let slot = fields.next()?;
    let local = fields.next()?;
    let remote = fields.next()?;
    let state = fields.next()?;
    // tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout.
    let inode = fields.nth(5)?;

    let is_slot = slot.strip_suffix(':').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_hexdigit()));
    if !is_slot || !state.eq_ignore_ascii_case("0A") || parse_endpoint(remote).is_none() {
        return None;
    }
    let port = parse_endpoint(local)?;
    if inode.is_empty() || !inode.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((port, inode.parse().ok()?))
}

/// `ADDR:PORT` in hex, ADDR being 8 (IPv4) or 32 (IPv6) digits and PORT 4.
fn parse_endpoint(field: &str) -> Option<u16> {
    let (address, port) = field.split_once(':')?;
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if !matches!(address.len(), 8 | 32) || !hex(address) || port.len() != 4 || !hex(port) {
        return None;
    }
    u16::from_str_radix(port, 16).ok()
}

/// The owner among the holders of the listening sockets of one port.
///
/// `sockets` are the listening sockets' ids, `holders` the `(socket, pid)`
/// pairs found. For each socket the lowest pid holding it is its owner
/// (forked children share the parent's socket); the answer is that owner
/// when every socket has one and they all agree, else `None`.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
fn choose(sockets: &[u64], holders: &[(u64, u32)]) -> Option<u32> {
    let mut answer = None;
    for &socket in sockets {
        let lowest = holders.iter().filter(|(held, _)| *held == socket).map(|&(_, pid)| pid).min()?;
        match answer {
            None => answer = Some(lowest),
            Some(pid) if pid == lowest => {}
            Some(_) => return None,
        }
    }
    answer
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;
    use std::path::Path;

    use super::{choose, Owner};

    pub(super) fn listener(port: u16) -> Option<Owner> {
        // The IPv4 table must be readable, or we cannot know every listener;
        // the IPv6 one is missing when IPv6 is disabled.
        owner_of(&super::Listeners::read()?.sockets(port))
    }

    /// The owner of the listening sockets `sockets` (sorted, deduplicated).
    pub(super) fn owner_of(sockets: &[u64]) -> Option<Owner> {
        if sockets.is_empty() {
            return None;
        }
        let pid = choose(sockets, &holders(sockets))?;
        Some(Owner { pid, name: name_of(pid)? })
    }

    /// `(inode, pid)` for every open descriptor, of every process we may
    /// read, that is one of `inodes` (sorted). Unreadable entries are skipped.
    pub(super) fn holders(inodes: &[u64]) -> Vec<(u64, u32)> {
        let mut found = Vec::new();
        let Ok(processes) = fs::read_dir("/proc") else {
            return found;
        };
        for process in processes.flatten() {
            let Some(pid) = process
                .file_name()
                .to_str()
                .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(fds) = fs::read_dir(process.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let Ok(target) = fs::read_link(fd.path()) else {
                    continue;
                };
                let inode = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok());
                if let Some(inode) = inode.filter(|i| inodes.binary_search(i).is_ok()) {
                    found.push((inode, pid));
                }
            }
        }
        found
    }

    /// The file name of `/proc/PID/exe`, else `/proc/PID/comm`.
    pub(super) fn name_of(pid: u32) -> Option<String> {
        let proc_dir = Path::new("/proc").join(pid.to_string());
        let from_exe = fs::read_link(proc_dir.join("exe")).ok().and_then(|exe| {
            let name = exe.file_name()?.to_string_lossy().into_owned();
            // An executable replaced or removed since it started.
            let name = name.strip_suffix(" (deleted)").unwrap_or(&name).to_owned();
            (!name.is_empty()).then_some(name)
        });
        from_exe.or_else(|| {
            let comm = fs::read_to_string(proc_dir.join("comm")).ok()?;
            let comm = comm.trim_end_matches('\n');
            (!comm.is_empty()).then(|| comm.to_owned())
        })
    }
}

#[cfg(target_os = "macos")]
mod macos;

#[cfg(test)]
mod address_tests {
    use super::parse_listening_rows;

    fn parse_listening_addresses(text: &str) -> Vec<(std::net::IpAddr, u16)> {
        parse_listening_rows(text).into_iter().map(|(a, p, _)| (a, p)).collect()
    }

    #[test]
    fn addresses_are_decoded_from_proc_tables() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n\
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n\
   2: 1701A8C0:0539 0101A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n\
   3: garbage\n";
        let got = parse_listening_addresses(v4);
        assert_eq!(got, [("127.0.0.1".parse().unwrap(), 1337), ("0.0.0.0".parse().unwrap(), 8080)]);
        let v6 = "   0: 00000000000000000000000001000000:0539 00000000000000000000000000000000:0000 0A 0 0 0 0 0 9\n\
   1: 00000000000000000000000000000000:0539 00000000000000000000000000000000:0000 0A 0 0 0 0 0 9\n";
        let got = parse_listening_addresses(v6);
        assert_eq!(got, [("::1".parse().unwrap(), 1337), ("::".parse().unwrap(), 1337)]);
    }
}

#[cfg(test)]
mod tests {
    use super::{choose, parse_listening_rows};

    /// `(port, inode)` of each LISTEN row.
    fn parse_listening(text: &str) -> Vec<(u16, u64)> {
        parse_listening_rows(text).into_iter().map(|(_, port, inode)| (port, inode)).collect()
    }

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 48213 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20731 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0539 0100007F:D2F4 01 00000000:00000000 00:00000000 00000000  1000        0 48990 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:A1B2 0100007F:0539 06 00000000:00000000 03:000012C7 00000000     0        0 0 3 0000000000000000
";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0539 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 51234 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18321 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000001000000:0539 00000000000000000000000001000000:E4C2 01 00000000:00000000 02:00000A3B 00000000  1000        0 51777 2 0000000000000000 20 4 31 10 -1
";

    #[test]
    fn each_listening_row_has_its_owner() {
        let rows = super::parse_owned_rows(TCP);
        let owners: Vec<(u16, u32)> = rows.iter().map(|((_, port, _), uid)| (*port, *uid)).collect();
        assert_eq!(owners, [(1337, 1000), (8080, 0)]);
    }

    #[test]
    fn the_key_goes_only_where_every_reached_listener_is_this_users() {
        use super::all_owned_by;
        let a = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(all_owned_by(&[(a("127.0.0.1"), 501)], 501));
        assert!(all_owned_by(&[(a("::"), 501), (a("0.0.0.0"), 501)], 501));
        assert!(!all_owned_by(&[(a("127.0.0.1"), 65534)], 501), "another user's server");
        assert!(!all_owned_by(&[(a("127.0.0.1"), 501), (a("0.0.0.0"), 65534)], 501), "one of them another's");
        assert!(!all_owned_by(&[], 501), "nothing listens");
        assert!(!all_owned_by(&[(a("::1"), 501)], 501), "a probe of 127.0.0.1 does not reach ::1");
        // Another user on an address the request does not reach is not asked.
        assert!(all_owned_by(&[(a("127.0.0.1"), 501), (a("192.168.1.9"), 65534)], 501));
        assert!(all_owned_by(&[(a("::ffff:127.0.0.1"), 501)], 501));
    }

    #[test]
    fn ipv4_table_keeps_listen_rows_only() {
        assert_eq!(parse_listening(TCP), vec![(1337, 48213), (8080, 20731)]);
        // The kernel pads rows with trailing spaces.
        let padded = TCP.replace('\n', "                     \n");
        assert_eq!(parse_listening(&padded), vec![(1337, 48213), (8080, 20731)]);
    }

    #[test]
    fn ipv6_table_keeps_listen_rows_only() {
        assert_eq!(parse_listening(TCP6), vec![(1337, 51234), (22, 18321)]);
    }

    #[test]
    fn malformed_rows_are_skipped() {
        let rows = [
            "garbage",
            "   4:",
            "   5: 0100007F:0539",
            // Port not hex, too long, missing.
            "   6: 0100007F:05Z9 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1",
            "   7: 0100007F:10539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1",
            "   8: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1",
            "   9: 0100007F:+539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1",
            // Address of the wrong length.
            "  10: 100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1",
            // No inode, a negative one, one too large.
            "  11: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0",
            "  12: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 -5 1",
            "  13: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 99999999999999999999999 1",
            // No slot number.
            "0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1 0",
            "  14: 0100007F:0539 00000000:0000 0A\u{0} 00000000:00000000 00:00000000 00000000 1000 0 48213 1",
            "  15: 0100007F:0539 00000000:0000 0Aé 00000000:00000000 00:00000000 00000000 1000 0 48213 1",
            "  16: é100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 48213 1",
        ];
        for row in rows {
            assert_eq!(parse_listening(row), vec![], "{row:?}");
        }
        let good = "  17: 0100007F:0539 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 48213 1";
        let text = format!("{}\n{good}\n", rows.join("\n"));
        assert_eq!(parse_listening(&text), vec![(1337, 48213)]);
    }

    #[test]
    fn empty_and_odd_text_gives_nothing() {
        assert_eq!(parse_listening(""), vec![]);
        assert_eq!(parse_listening("\n\n\r\n"), vec![]);
        assert_eq!(parse_listening("\u{0}\u{ffff}:::: 0A"), vec![]);
    }

    #[test]
    fn lowercase_hex_is_accepted() {
        let row = "   0: 0100007f:1f90 00000000:0000 0a 00000000:00000000 00:00000000 00000000  1000 0 7 1";
        assert_eq!(parse_listening(row), vec![(8080, 7)]);
    }

    #[test]
    fn forked_children_give_the_lowest_pid() {
        assert_eq!(choose(&[7], &[(7, 300), (7, 120), (7, 450)]), Some(120));
        // One process listening on IPv4 and IPv6, children sharing both.
        let holders = [(7, 300), (9, 300), (7, 301), (9, 302)];
        assert_eq!(choose(&[7, 9], &holders), Some(300));
    }

    #[test]
    fn unrelated_listeners_or_unowned_sockets_give_none() {
        assert_eq!(choose(&[7, 9], &[(7, 300), (9, 200)]), None);
        assert_eq!(choose(&[7, 9], &[(7, 300)]), None);
        assert_eq!(choose(&[7], &[]), None);
        assert_eq!(choose(&[], &[(7, 300)]), None);
    }
}
