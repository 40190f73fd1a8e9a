//! This machine's network interface addresses, read from the OS
//! (`getifaddrs`), and the pure rules built on them: whether a file's LAN
//! address is still this machine's, and which address a client on the LAN
//! would use to reach an exposed server.
//!
//! Osaurus computes its LAN address once, when its server starts (the first
//! IPv4 address of an `en*` interface). After the machine changes network
//! the file still names the old address, while the server keeps listening on
//! every interface.

use std::net::{IpAddr, Ipv4Addr};

/// One address of one interface that is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The interface's name (`en0`, `eth0`, `lo`).
    pub name: String,
    /// One of its addresses.
    pub address: IpAddr,
}

/// The addresses of the interfaces that are up; `None` when the OS does
/// not say.
pub fn read() -> Option<Vec<Interface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below, once.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned.
        let node = unsafe { &*cursor };
        cursor = node.ifa_next;
        if node.ifa_addr.is_null() || node.ifa_name.is_null() || node.ifa_flags & (libc::IFF_UP as u32) == 0 {
            continue;
        }
        // SAFETY: ifa_addr points at a sockaddr whose family says its layout.
        let address = unsafe {
            match i32::from((*node.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*(node.ifa_addr as *const libc::sockaddr_in);
                    IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
                }
                libc::AF_INET6 => {
                    let sin6 = &*(node.ifa_addr as *const libc::sockaddr_in6);
                    IpAddr::V6(std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr))
                }
                _ => continue,
            }
        };
        // SAFETY: ifa_name is a NUL-terminated C string owned by the list.
        let name = unsafe { std::ffi::CStr::from_ptr(node.ifa_name) }.to_string_lossy().into_owned();
        out.push(Interface { name, address });
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Some(out)
}

/// Whether `address` (as a file writes it) is one of `interfaces`' addresses.
/// `None` when it is not an IP address (a host name is not judged).
pub fn is_local(address: &str, interfaces: &[Interface]) -> Option<bool> {
    let a = address.trim();
    let a = a.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(a);
    let ip: IpAddr = a.parse().ok()?;
    if ip.is_unspecified() {
        return Some(true);
    }
    Some(interfaces.iter().any(|i| i.address == ip))
}

/// The address through which to ask an exposed server what a client on the
/// LAN gets: the file's address when it is one of this machine's IPv4
/// interface addresses (not loopback), else this machine's current LAN
/// address (the first such address of an `en*` interface, as Osaurus picks
/// it, else of any interface). Only ever an address from `interfaces`.
pub fn lan_address(file_address: Option<&str>, interfaces: &[Interface]) -> Option<Ipv4Addr> {
    let lan = |i: &&Interface| match i.address {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified() && !v4.is_link_local() && !v4.is_multicast(),
        IpAddr::V6(_) => false,
    };
    let v4 = |i: &Interface| match i.address {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(_) => None,
    };
    let named = file_address.and_then(|a| a.trim().parse::<Ipv4Addr>().ok());
    if let Some(found) = interfaces.iter().filter(lan).find(|i| Some(i.address) == named.map(IpAddr::V4)) {
        return v4(found);
    }
    let first_en = interfaces.iter().filter(lan).find(|i| i.name.starts_with("en"));
    first_en.or_else(|| interfaces.iter().find(lan)).and_then(v4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(name: &str, a: &str) -> Interface {
        Interface { name: name.into(), address: a.parse().unwrap() }
    }

    fn machine() -> Vec<Interface> {
        vec![
            i("lo", "127.0.0.1"),
            i("lo", "::1"),
            i("bridge0", "10.0.0.1"),
            i("en1", "192.168.1.40"),
            i("en0", "fe80::1"),
        ]
    }

    #[test]
    fn a_file_address_is_local_only_if_an_interface_has_it() {
        let m = machine();
        assert_eq!(is_local("192.168.1.40", &m), Some(true));
        assert_eq!(is_local("127.0.0.1", &m), Some(true));
        assert_eq!(is_local("[::1]", &m), Some(true));
        assert_eq!(is_local("0.0.0.0", &m), Some(true));
        assert_eq!(is_local("192.168.1.23", &m), Some(false), "the address moved");
        assert_eq!(is_local("example.com", &m), None);
    }

    #[test]
    fn the_lan_address_is_always_one_of_the_interfaces() {
        let m = machine();
        assert_eq!(lan_address(Some("10.0.0.1"), &m), Some(Ipv4Addr::new(10, 0, 0, 1)));
        // Gone, remote, loopback or a name: the machine's own LAN address instead.
        for file in [Some("192.168.1.23"), Some("8.8.8.8"), Some("127.0.0.1"), Some("example.com"), None] {
            assert_eq!(lan_address(file, &m), Some(Ipv4Addr::new(192, 168, 1, 40)), "{file:?}");
        }
        assert_eq!(lan_address(Some("192.168.1.23"), &[i("lo", "127.0.0.1")]), None);
        assert_eq!(lan_address(None, &[i("eth0", "172.16.0.9")]), Some(Ipv4Addr::new(172, 16, 0, 9)));
    }

    #[test]
    fn this_machine_has_a_loopback_address() {
        let found = read().expect("getifaddrs");
        assert!(found.iter().any(|i| i.address.is_loopback()), "{found:?}");
    }
}
