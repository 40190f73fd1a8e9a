//! libproc through `libc`. `libc` has the functions and `proc_fdinfo`
//! but not `socket_fdinfo`, so the few structs needed are declared here,
//! field for field as in `<sys/proc_info.h>`; the size assertion below
//! and the kernel's own size check (`proc_pidfdinfo` fails on a short
//! buffer, and a short answer is refused) keep a mismatch from being read.

use std::ffi::{c_int, c_short, c_void};
use std::mem::{size_of, MaybeUninit};
use std::path::Path;
use std::ptr;

use super::{choose, Owner};

/// `proc_listpids` type: every process.
const PROC_ALL_PIDS: u32 = 1;
/// `proc_pidfdinfo` flavor answering a `socket_fdinfo`.
const PROC_PIDFDSOCKETINFO: c_int = 3;
/// `socket_info::soi_kind` of a TCP socket (`pri_tcp` is valid).
const SOCKINFO_TCP: c_int = 2;
/// `tcp_sockinfo::tcpsi_state` of a listening socket.
const TSI_S_LISTEN: c_int = 1;
/// `proc_name`'s longest answer is `2 * MAXCOMLEN`.
const PROC_NAME_MAX: usize = 2 * 16 + 1;

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
    sbi_flags: c_short,
    sbi_timeo: c_short,
}

/// `insi_v6` of `in_sockinfo`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct In6Extra {
    in6_hlim: u8,
    in6_cksum: c_int,
    in6_ifindex: u16,
    in6_hops: c_short,
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct InSockinfo {
    insi_fport: c_int,
    /// The local port, in network byte order, widened to an int.
    insi_lport: c_int,
    insi_gencnt: u64,
    insi_flags: u32,
    insi_flow: u32,
    insi_vflag: u8,
    insi_ip_ttl: u8,
    rfu_1: u32,
    /// `union { struct in4in6_addr; struct in6_addr; }`: 16 bytes, 4-aligned.
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
    tcpsi_state: c_int,
    tcpsi_timer: [c_int; 4],
    tcpsi_mss: c_int,
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
    soi_type: c_int,
    soi_protocol: c_int,
    soi_family: c_int,
    soi_options: c_short,
    soi_linger: c_short,
    soi_state: c_short,
    soi_qlen: c_short,
    soi_incqlen: c_short,
    soi_qlimit: c_short,
    soi_timeo: c_short,
    soi_error: u16,
    soi_oobmark: u32,
    soi_rcv: SockbufInfo,
    soi_snd: SockbufInfo,
    soi_kind: c_int,
    rfu_1: u32,
    soi_proto: SocketProto,
}

#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)]
struct SocketFdinfo {
    pfi: ProcFileinfo,
    psi: SocketInfo,
}

// sizeof(struct socket_fdinfo) in the macOS SDK (64-bit).
const _: () = assert!(size_of::<SocketFdinfo>() == 792);

pub(super) fn listener(port: u16) -> Option<Owner> {
    let mut holders = Vec::new();
    for pid in all_pids()? {
        let Ok(owner) = u32::try_from(pid) else {
            continue;
        };
        for fd in socket_fds(pid) {
            if let Some(socket) = listening_socket(pid, fd, port) {
                holders.push((socket.id, owner));
            }
        }
    }
    let mut sockets: Vec<u64> = holders.iter().map(|&(socket, _)| socket).collect();
    sockets.sort_unstable();
    sockets.dedup();
    let pid = choose(&sockets, &holders)?;
    Some(Owner { pid, name: name_of(c_int::try_from(pid).ok()?)? })
}

/// `(local address, owner uid)` of every socket listening on `port`
/// that this user may see (another user's processes may be hidden
/// from it: then none of theirs is listed, and the port may show no
/// listener at all).
pub(super) fn listening_owners(port: u16) -> Option<Vec<(std::net::IpAddr, u32)>> {
    let mut found = Vec::new();
    for pid in all_pids()? {
        for fd in socket_fds(pid) {
            if let Some(socket) = listening_socket(pid, fd, port) {
                found.push((socket.id, socket.address, socket.uid));
            }
        }
    }
    found.sort_unstable_by_key(|s| s.0);
    found.dedup_by_key(|s| s.0);
    Some(found.into_iter().filter_map(|(_, address, uid)| Some((address?, uid))).collect())
}

/// What [`listening_socket`] found.
struct Listening {
    /// The socket's identity.
    id: u64,
    /// Its local address, when it could be read.
    address: Option<std::net::IpAddr>,
    /// Its owner's uid.
    uid: u32,
}

/// Every pid (but the kernel's), or `None` when they cannot be listed.
fn all_pids() -> Option<Vec<c_int>> {
    // SAFETY: a null buffer asks for the size needed, in bytes.
    let needed = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, ptr::null_mut(), 0) };
    let mut capacity = usize::try_from(needed).ok()? / size_of::<c_int>() + 64;
    for _ in 0..4 {
        let mut pids: Vec<c_int> = vec![0; capacity];
        let bytes = c_int::try_from(capacity * size_of::<c_int>()).ok()?;
        // SAFETY: the buffer holds `bytes` bytes of c_int.
        let got = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, pids.as_mut_ptr().cast::<c_void>(), bytes) };
        let got = usize::try_from(got).ok().filter(|&g| g > 0)?;
        if got < capacity * size_of::<c_int>() {
            pids.truncate(got / size_of::<c_int>());
            pids.retain(|&pid| pid > 0);
            return Some(pids);
        }
        // The buffer was filled: more processes than asked for; again.
        capacity *= 2;
    }
    None
}

/// The descriptors of `pid` that are sockets; empty when unreadable.
fn socket_fds(pid: c_int) -> Vec<c_int> {
    let record = size_of::<libc::proc_fdinfo>();
    // SAFETY: a null buffer asks for the size needed, in bytes.
    let needed = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, ptr::null_mut(), 0) };
    let Some(capacity) = usize::try_from(needed).ok().filter(|&n| n > 0).map(|n| n / record + 16) else {
        return Vec::new();
    };
    let empty = libc::proc_fdinfo { proc_fd: 0, proc_fdtype: 0 };
    let mut fds = vec![empty; capacity];
    let Ok(bytes) = c_int::try_from(capacity * record) else {
        return Vec::new();
    };
    // SAFETY: the buffer holds `bytes` bytes of proc_fdinfo.
    let got = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, fds.as_mut_ptr().cast::<c_void>(), bytes) };
    let Ok(got) = usize::try_from(got) else {
        return Vec::new();
    };
    fds.truncate((got / record).min(capacity));
    fds.iter()
        .filter(|fd| i64::from(fd.proc_fdtype) == i64::from(libc::PROX_FDTYPE_SOCKET))
        .map(|fd| fd.proc_fd)
        .collect()
}

/// `in_sockinfo::insi_vflag` bits.
const INI_IPV4: u8 = 0x1;
const INI_IPV6: u8 = 0x2;

/// The socket `fd` of `pid` when it is a TCP socket listening on `port`.
fn listening_socket(pid: c_int, fd: c_int, port: u16) -> Option<Listening> {
    let size = c_int::try_from(size_of::<SocketFdinfo>()).ok()?;
    let mut info = MaybeUninit::<SocketFdinfo>::zeroed();
    // SAFETY: the buffer holds `size` bytes.
    let got = unsafe { libc::proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, info.as_mut_ptr().cast::<c_void>(), size) };
    if got < size {
        return None;
    }
    // SAFETY: all-zero bytes are a valid SocketFdinfo (integers only),
    // and the kernel wrote a whole one over them.
    let info = unsafe { info.assume_init() };
    let psi = &info.psi;
    let inet = psi.soi_family == libc::AF_INET || psi.soi_family == libc::AF_INET6;
    if psi.soi_kind != SOCKINFO_TCP || !inet {
        return None;
    }
    // SAFETY: soi_kind says `pri_tcp` is the member in use; it is integers only.
    let tcp = unsafe { psi.soi_proto.pri_tcp };
    if tcp.tcpsi_state != TSI_S_LISTEN {
        return None;
    }
    let local = u16::from_be(u16::try_from(tcp.tcpsi_ini.insi_lport).ok()?);
    if local != port {
        return None;
    }
    // The address's bytes, in network order as stored.
    let bytes: Vec<u8> = tcp.tcpsi_ini.insi_laddr.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let vflag = tcp.tcpsi_ini.insi_vflag;
    let address = if vflag & INI_IPV6 != 0 {
        <[u8; 16]>::try_from(bytes.as_slice()).ok().map(|b| std::net::IpAddr::from(std::net::Ipv6Addr::from(b)))
    } else if vflag & INI_IPV4 != 0 {
        // `struct in4in6_addr`: three words of padding, then the address.
        <[u8; 4]>::try_from(&bytes[12..16]).ok().map(|b| std::net::IpAddr::from(std::net::Ipv4Addr::from(b)))
    } else {
        None
    };
    Some(Listening { id: psi.soi_so, address, uid: psi.soi_stat.vst_uid })
}

/// The file name of the executable of `pid`, else its command name.
pub(super) fn name_of(pid: c_int) -> Option<String> {
    let mut path = vec![0u8; usize::try_from(libc::PROC_PIDPATHINFO_MAXSIZE).ok()?];
    let capacity = u32::try_from(path.len()).ok()?;
    // SAFETY: the buffer holds `capacity` bytes.
    let got = unsafe { libc::proc_pidpath(pid, path.as_mut_ptr().cast::<c_void>(), capacity) };
    if let Ok(got @ 1..) = usize::try_from(got) {
        path.truncate(got.min(path.len()));
        let path = String::from_utf8_lossy(&path);
        let name = Path::new(path.trim_end_matches('\0')).file_name();
        if let Some(name) = name.map(|n| n.to_string_lossy().into_owned()) {
            if !name.is_empty() {
                return Some(name);
            }
        }
    }
    let mut name = [0u8; PROC_NAME_MAX];
    let capacity = u32::try_from(name.len()).ok()?;
    // SAFETY: the buffer holds `capacity` bytes.
    let got = unsafe { libc::proc_name(pid, name.as_mut_ptr().cast::<c_void>(), capacity) };
    let got = usize::try_from(got).ok().filter(|&g| g > 0)?;
    let name = String::from_utf8_lossy(&name[..got.min(name.len())]);
    let name = name.trim_end_matches('\0');
    (!name.is_empty()).then(|| name.to_owned())
}

/// One listening TCP socket, as one pass over every process finds it.
pub(super) struct Socket {
    pub(super) address: std::net::IpAddr,
    pub(super) port: u16,
    pub(super) id: u64,
    pub(super) uid: u32,
    pub(super) pid: u32,
}

/// Every TCP socket in LISTEN of every process this user may see, in one
/// pass; `None` when the processes cannot be listed.
pub(super) fn listening_sockets() -> Option<Vec<Socket>> {
    None
}

/// When `pid` started (`PROC_PIDTBSDINFO`).
pub(super) fn started_at(pid: u32) -> Option<std::time::SystemTime> {
    let _ = pid;
    None
}

/// The kqueue behind [`super::ExitWatch`].
pub(crate) struct ExitQueue;

impl ExitQueue {
    pub(crate) fn new() -> Option<ExitQueue> {
        None
    }
    pub(crate) fn watch(&self, _pid: u32) -> bool {
        false
    }
    pub(crate) fn forget(&self, _pid: u32) {}
    pub(crate) fn stop(&self) {}
    pub(crate) fn run(&self, _on_exit: &dyn Fn(u32) -> bool) {}
}
