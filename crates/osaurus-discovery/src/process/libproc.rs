//! What macOS's libproc says of a socket and of a process, decoded.
//!
//! `libc` has libproc's functions but not `struct socket_fdinfo`, so it is
//! declared here field for field as in `<sys/proc_info.h>`, with its size
//! and the offsets of the fields read checked at compile time. The
//! decoding is plain functions on plain data, compiled on every platform
//! so that it is tested everywhere; only macOS calls it (`macos.rs`).
#![cfg_attr(not(target_os = "macos"), allow(dead_code))]

use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime};

/// `socket_info::soi_kind` of a TCP socket (`pri_tcp` is valid).
const SOCKINFO_TCP: i32 = 2;
/// `tcp_sockinfo::tcpsi_state` of a listening socket.
const TSI_S_LISTEN: i32 = 1;
/// Darwin's address families (`AF_INET6` is 30 there, 10 on Linux).
const AF_INET: i32 = 2;
const AF_INET6: i32 = 30;
/// `proc_bsdinfo::pbi_flags` bit of a process on its way out of `exit()`.
const PROC_FLAG_INEXIT: u32 = 4;
/// `proc_bsdinfo::pbi_status` of a zombie.
const SZOMB: u32 = 5;
/// `in_sockinfo::insi_vflag` bits: the socket takes IPv4, IPv6, or both
/// (an IPv6 socket without `IPV6_V6ONLY` bound to `::`).
const INI_IPV4: u8 = 0x1;
const INI_IPV6: u8 = 0x2;

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct ProcFileinfo {
    fi_openflags: u32,
    fi_status: u32,
    fi_offset: i64,
    fi_type: i32,
    fi_guardflags: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct VinfoStat {
    vst_dev: u32,
    vst_mode: u16,
    vst_nlink: u16,
    vst_ino: u64,
    vst_uid: u32,
    vst_gid: u32,
    vst_atime: i64,
    vst_atimensec: i64,
    vst_mtime: i64,
    vst_mtimensec: i64,
    vst_ctime: i64,
    vst_ctimensec: i64,
    vst_birthtime: i64,
    vst_birthtimensec: i64,
    vst_size: i64,
    vst_blocks: i64,
    vst_blksize: i32,
    vst_flags: u32,
    vst_gen: u32,
    vst_rdev: u32,
    vst_qspare: [i64; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct SockbufInfo {
    sbi_cc: u32,
    sbi_hiwat: u32,
    sbi_mbcnt: u32,
    sbi_mbmax: u32,
    sbi_lowat: u32,
    sbi_flags: i16,
    sbi_timeo: i16,
}

/// `insi_v6` of `in_sockinfo`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct In6Extra {
    in6_hlim: u8,
    in6_cksum: i32,
    in6_ifindex: u16,
    in6_hops: i16,
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct InSockinfo {
    insi_fport: i32,
    /// The local port, in network byte order, widened to an int.
    insi_lport: i32,
    insi_gencnt: u64,
    insi_flags: u32,
    insi_flow: u32,
    insi_vflag: u8,
    insi_ip_ttl: u8,
    rfu_1: u32,
    /// `union { struct in4in6_addr; struct in6_addr; }`: 16 bytes, 4-aligned,
    /// in network order.
    insi_faddr: [u32; 4],
    insi_laddr: [u32; 4],
    /// `struct { u_char in4_tos; }`.
    insi_v4: u8,
    insi_v6: In6Extra,
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct TcpSockinfo {
    tcpsi_ini: InSockinfo,
    tcpsi_state: i32,
    tcpsi_timer: [i32; 4],
    tcpsi_mss: i32,
    tcpsi_flags: u32,
    rfu_1: u32,
    tcpsi_tp: u64,
}

/// `soi_proto`. Its largest member is `un_sockinfo` (two u64 and two
/// 255-byte unions: 528 bytes), stood in for by `_un`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
union SocketProto {
    pri_in: InSockinfo,
    pri_tcp: TcpSockinfo,
    _un: [u64; 66],
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct SocketInfo {
    soi_stat: VinfoStat,
    /// The socket's (obfuscated) kernel address: its identity.
    soi_so: u64,
    soi_pcb: u64,
    soi_type: i32,
    soi_protocol: i32,
    soi_family: i32,
    soi_options: i16,
    soi_linger: i16,
    soi_state: i16,
    soi_qlen: i16,
    soi_incqlen: i16,
    soi_qlimit: i16,
    soi_timeo: i16,
    soi_error: u16,
    soi_oobmark: u32,
    soi_rcv: SockbufInfo,
    soi_snd: SockbufInfo,
    soi_kind: i32,
    rfu_1: u32,
    soi_proto: SocketProto,
}

/// `struct socket_fdinfo`: what `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)`
/// writes. Integers only, so every bit pattern is a valid one.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub(super) struct SocketFdinfo {
    pfi: ProcFileinfo,
    psi: SocketInfo,
}

// sizeof(struct socket_fdinfo) and the offsets of the fields read, as the
// macOS SDK (64-bit, either architecture) lays them out.
const _: () = assert!(size_of::<SocketFdinfo>() == 792);
const _: () = assert!(offset_of!(SocketFdinfo, psi.soi_stat.vst_uid) == 40);
const _: () = assert!(offset_of!(SocketFdinfo, psi.soi_so) == 160);
const _: () = assert!(offset_of!(SocketFdinfo, psi.soi_family) == 184);
const _: () = assert!(offset_of!(SocketFdinfo, psi.soi_kind) == 256);
const _: () = assert!(offset_of!(SocketFdinfo, psi.soi_proto) == 264);
const _: () = assert!(offset_of!(TcpSockinfo, tcpsi_ini.insi_lport) == 4);
const _: () = assert!(offset_of!(TcpSockinfo, tcpsi_ini.insi_vflag) == 24);
const _: () = assert!(offset_of!(TcpSockinfo, tcpsi_ini.insi_laddr) == 48);
const _: () = assert!(offset_of!(TcpSockinfo, tcpsi_state) == 80);
const _: () = assert!(size_of::<TcpSockinfo>() == 120);

impl SocketFdinfo {
    /// All zeros: a buffer for the kernel to write over.
    pub(super) fn zeroed() -> SocketFdinfo {
        // SAFETY: integers only; all-zero bytes are a valid value.
        unsafe { std::mem::zeroed() }
    }
}

/// One listening TCP socket and the process holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Socket {
    /// Its local address: `::` for a dual-stack socket, which takes
    /// IPv4 too (what `/proc/net/tcp6` shows for one on Linux).
    pub(super) address: IpAddr,
    pub(super) port: u16,
    /// The socket's identity (`soi_so`), shared by every process holding it.
    pub(super) id: u64,
    /// Its owner's uid.
    pub(super) uid: u32,
    pub(super) pid: u32,
}

/// The socket `info` describes, held by `pid`, when it is a TCP socket in
/// LISTEN on IPv4, IPv6 or both; `None` for anything else. Pure.
pub(super) fn listening_socket(info: &SocketFdinfo, pid: u32) -> Option<Socket> {
    let psi = &info.psi;
    if psi.soi_kind != SOCKINFO_TCP || !matches!(psi.soi_family, AF_INET | AF_INET6) {
        return None;
    }
    // SAFETY: any bytes are a valid TcpSockinfo (integers only); soi_kind
    // says it is the member the kernel wrote.
    let tcp = unsafe { psi.soi_proto.pri_tcp };
    if tcp.tcpsi_state != TSI_S_LISTEN {
        return None;
    }
    let ini = &tcp.tcpsi_ini;
    let mut laddr = [0u8; 16];
    for (bytes, word) in laddr.chunks_exact_mut(4).zip(ini.insi_laddr) {
        // The words hold the address's bytes in network order, as stored.
        bytes.copy_from_slice(&word.to_ne_bytes());
    }
    Some(Socket {
        address: local_address(ini.insi_vflag, laddr)?,
        port: local_port(ini.insi_lport)?,
        id: psi.soi_so,
        uid: psi.soi_stat.vst_uid,
        pid,
    })
}

/// `insi_lport`: a port in network byte order widened to an int. `None`
/// for anything but a port a socket listens on (1 to 65535).
fn local_port(lport: i32) -> Option<u16> {
    u16::try_from(lport).ok().map(u16::from_be).filter(|&p| p != 0)
}

/// `insi_laddr` read as `insi_vflag` says: IPv6 (alone or dual-stack) is
/// the 16 bytes of an `in6_addr`; IPv4 alone is a `struct in4in6_addr`,
/// three words of padding and then the address.
fn local_address(vflag: u8, laddr: [u8; 16]) -> Option<IpAddr> {
    if vflag & INI_IPV6 != 0 {
        Some(IpAddr::V6(Ipv6Addr::from(laddr)))
    } else if vflag & INI_IPV4 != 0 {
        Some(IpAddr::V4(Ipv4Addr::new(laddr[12], laddr[13], laddr[14], laddr[15])))
    } else {
        None
    }
}

/// One row per socket, held by the lowest pid that has it: forked
/// children share their parent's socket, and the parent is its owner.
pub(super) fn one_per_socket(mut found: Vec<Socket>) -> Vec<Socket> {
    found.sort_unstable_by_key(|s| (s.id, s.pid));
    found.dedup_by_key(|s| s.id);
    found
}

/// A process's start from `proc_bsdinfo`'s `pbi_start_tvsec` and
/// `pbi_start_tvusec`; `None` when they are not a time. Pure.
pub(super) fn start_time(seconds: u64, micros: u64) -> Option<SystemTime> {
    if micros >= 1_000_000 {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds).checked_add(Duration::from_micros(micros))?)
}

/// True when `proc_bsdinfo`'s `pbi_flags` and `pbi_status` say the process
/// is exiting or has exited (a zombie). Pure.
pub(super) fn exiting(flags: u32, status: u32) -> bool {
    flags & PROC_FLAG_INEXIT != 0 || status == SZOMB
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `<sys/proc_info.h>` puts the fields read, counted by hand from
    /// the header (not from the Rust declaration): a test of the layout.
    const UID: usize = 40;
    const SO: usize = 160;
    const FAMILY: usize = 184;
    const KIND: usize = 256;
    const LPORT: usize = 264 + 4;
    const VFLAG: usize = 264 + 24;
    const LADDR: usize = 264 + 48;
    const STATE: usize = 264 + 80;

    /// A `socket_fdinfo` as the kernel would write it for a TCP socket.
    struct Raw([u8; 792]);

    impl Raw {
        fn tcp(family: i32, vflag: u8, laddr: [u8; 16], port: u16, state: i32) -> Raw {
            let mut raw = Raw([0xAB; 792]);
            raw.put(UID, &501u32.to_ne_bytes());
            raw.put(SO, &0x1234_5678_9abc_def0u64.to_ne_bytes());
            raw.put(FAMILY, &family.to_ne_bytes());
            raw.put(KIND, &SOCKINFO_TCP.to_ne_bytes());
            // A u_short in network order, widened to an int.
            raw.put(LPORT, &i32::from(u16::from_ne_bytes(port.to_be_bytes())).to_ne_bytes());
            raw.put(VFLAG, &[vflag]);
            raw.put(LADDR, &laddr);
            raw.put(STATE, &state.to_ne_bytes());
            raw
        }

        fn put(&mut self, at: usize, bytes: &[u8]) {
            self.0[at..at + bytes.len()].copy_from_slice(bytes);
        }

        fn decode(&self) -> Option<Socket> {
            // SAFETY: 792 bytes, and any bytes are a valid SocketFdinfo.
            let info: SocketFdinfo = unsafe { std::ptr::read_unaligned(self.0.as_ptr().cast()) };
            listening_socket(&info, 4242)
        }
    }

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut laddr = [0u8; 16];
        laddr[12..].copy_from_slice(&a);
        laddr
    }

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<Ipv6Addr>().unwrap().octets()
    }

    #[test]
    fn an_ipv4_listener_is_read_from_where_the_header_puts_it() {
        let got = Raw::tcp(AF_INET, INI_IPV4, v4([127, 0, 0, 1]), 1337, TSI_S_LISTEN).decode();
        let want = Socket {
            address: "127.0.0.1".parse().unwrap(),
            port: 1337,
            id: 0x1234_5678_9abc_def0,
            uid: 501,
            pid: 4242,
        };
        assert_eq!(got, Some(want));
        let any = Raw::tcp(AF_INET, INI_IPV4, v4([0, 0, 0, 0]), 8080, TSI_S_LISTEN).decode().unwrap();
        assert_eq!((any.address, any.port), ("0.0.0.0".parse().unwrap(), 8080));
    }

    #[test]
    fn ipv6_and_dual_stack_listeners_give_their_ipv6_address() {
        let loopback = Raw::tcp(AF_INET6, INI_IPV6, v6("::1"), 1337, TSI_S_LISTEN).decode().unwrap();
        assert_eq!(loopback.address, "::1".parse::<IpAddr>().unwrap());
        // `[::]` without IPV6_V6ONLY takes IPv4 too: `::`, which a request
        // to 127.0.0.1 reaches.
        let dual = Raw::tcp(AF_INET6, INI_IPV4 | INI_IPV6, v6("::"), 1337, TSI_S_LISTEN).decode().unwrap();
        assert_eq!(dual.address, "::".parse::<IpAddr>().unwrap());
        assert!(crate::process::reached_from_loopback(&dual.address));
        let lan = Raw::tcp(AF_INET6, INI_IPV6, v6("fd00::5"), 443, TSI_S_LISTEN).decode().unwrap();
        assert_eq!((lan.address, lan.port), ("fd00::5".parse().unwrap(), 443));
    }

    #[test]
    fn an_ipv6_socket_bound_to_an_ipv4_address_gives_that_address() {
        // The kernel keeps such a socket as IPv4 only, in in4in6 form.
        let got = Raw::tcp(AF_INET6, INI_IPV4, v4([192, 168, 1, 9]), 1337, TSI_S_LISTEN).decode().unwrap();
        assert_eq!(got.address, "192.168.1.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn anything_but_a_listening_tcp_socket_gives_none() {
        let local = v4([127, 0, 0, 1]);
        for state in [0, 2, 4, 10, -1] {
            assert_eq!(Raw::tcp(AF_INET, INI_IPV4, local, 1337, state).decode(), None, "state {state}");
        }
        // Linux's AF_INET6 (10), AF_UNIX (1), anything else.
        for family in [10, 1, 0, 31] {
            assert_eq!(Raw::tcp(family, INI_IPV4, local, 1337, TSI_S_LISTEN).decode(), None, "family {family}");
        }
        let mut udp = Raw::tcp(AF_INET, INI_IPV4, local, 1337, TSI_S_LISTEN);
        udp.put(KIND, &1i32.to_ne_bytes());
        assert_eq!(udp.decode(), None, "SOCKINFO_IN: UDP or raw IP");
        assert_eq!(Raw::tcp(AF_INET, 0, local, 1337, TSI_S_LISTEN).decode(), None, "no address family flag");
        assert_eq!(Raw::tcp(AF_INET, INI_IPV4, local, 0, TSI_S_LISTEN).decode(), None, "port 0");
    }

    #[test]
    fn a_port_is_read_in_network_order() {
        for port in [1u16, 80, 1337, 8080, 49152, 65535] {
            let raw = i32::from(u16::from_ne_bytes(port.to_be_bytes()));
            assert_eq!(local_port(raw), Some(port));
        }
        assert_eq!(local_port(0), None);
        assert_eq!(local_port(-1), None);
        assert_eq!(local_port(0x1_0000), None);
    }

    #[test]
    fn forked_children_sharing_a_socket_give_one_row_for_the_parent() {
        let at = |id, pid| Socket { address: IpAddr::V4(Ipv4Addr::UNSPECIFIED), port: 1337, id, uid: 501, pid };
        let rows = one_per_socket(vec![at(7, 300), at(9, 300), at(7, 120), at(7, 450), at(9, 302)]);
        assert_eq!(rows, vec![at(7, 120), at(9, 300)]);
        assert_eq!(one_per_socket(Vec::new()), Vec::new());
    }

    #[test]
    fn a_start_is_seconds_and_microseconds_since_the_epoch() {
        let t = start_time(1_764_672_000, 250_000).unwrap();
        assert_eq!(t.duration_since(SystemTime::UNIX_EPOCH).unwrap(), Duration::from_millis(1_764_672_000_250));
        assert_eq!(start_time(0, 0), Some(SystemTime::UNIX_EPOCH));
        assert_eq!(start_time(1, 1_000_000), None, "not microseconds");
        assert_eq!(start_time(u64::MAX, 999_999), None, "not a time");
    }

    #[test]
    fn a_process_in_exit_or_a_zombie_is_exiting() {
        // SRUN, with PROC_FLAG_LP64 | PROC_FLAG_CTTY: running.
        assert!(!exiting(0x10 | 0x40, 2));
        assert!(!exiting(0, 0));
        assert!(exiting(0x10 | PROC_FLAG_INEXIT, 2));
        assert!(exiting(0, SZOMB));
    }
}
