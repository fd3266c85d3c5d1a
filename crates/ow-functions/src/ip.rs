//! IP address functions (spec §6.6). Addresses are parsed strictly (dotted quad for
//! IPv4, RFC 4291 text for IPv6; no surrounding spaces, no zone ids).
//!
//! Choices on \[I\] items:
//! * CIDR host bits are masked (`10.0.0.7/8` is `10.0.0.0/8`); a malformed CIDR -> false.
//! * An address only matches a CIDR of its own family.
//! * `isPrivateIP`: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and, for IPv6, unique
//!   local `fc00::/7`.
//! * `isReservedIP`: the IANA IPv4/IPv6 special-purpose registries plus multicast
//!   (see [`RESERVED_V4`], [`RESERVED_V6`]); `isPublicIP` = valid and not reserved.
//! * Invalid or missing input -> false (number functions: null).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arrow::datatypes::DataType;

use crate::value::Val;

/// IPv4 special-purpose and multicast ranges treated as reserved (IANA registry).
pub const RESERVED_V4: &[(&str, u8)] = &[
    ("0.0.0.0", 8),
    ("10.0.0.0", 8),
    ("100.64.0.0", 10),
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("172.16.0.0", 12),
    ("192.0.0.0", 24),
    ("192.0.2.0", 24),
    ("192.88.99.0", 24),
    ("192.168.0.0", 16),
    ("198.18.0.0", 15),
    ("198.51.100.0", 24),
    ("203.0.113.0", 24),
    ("224.0.0.0", 4),
    ("240.0.0.0", 4),
];

/// IPv6 special-purpose and multicast ranges treated as reserved (IANA registry).
pub const RESERVED_V6: &[(&str, u8)] = &[
    ("::", 128),
    ("::1", 128),
    ("::ffff:0:0", 96),
    ("64:ff9b::", 96),
    ("64:ff9b:1::", 48),
    ("100::", 64),
    ("2001::", 23),
    ("2001:db8::", 32),
    ("2002::", 16),
    ("fc00::", 7),
    ("fe80::", 10),
    ("ff00::", 8),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IpFn {
    IsValid,
    IsValidV4,
    IsValidV6,
    InSubnet,
    InSubnetV4,
    InSubnetV6,
    V4ToNumber,
    IsPrivate,
    IsPublic,
    IsReserved,
}

fn in_cidr_v4(a: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(a) & mask == u32::from(net) & mask
}

fn in_cidr_v6(a: Ipv6Addr, net: Ipv6Addr, bits: u8) -> bool {
    if bits > 128 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    u128::from(a) & mask == u128::from(net) & mask
}

/// Is `ip` inside `cidr` (`a.b.c.d/n` or `x::/n`; a bare address means a single host)?
pub fn ip_in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => match b.parse::<u8>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    match (ip, net.parse::<IpAddr>()) {
        (IpAddr::V4(a), Ok(IpAddr::V4(n))) => in_cidr_v4(a, n, bits.unwrap_or(32)),
        (IpAddr::V6(a), Ok(IpAddr::V6(n))) => in_cidr_v6(a, n, bits.unwrap_or(128)),
        _ => false,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_private(),
        IpAddr::V6(a) => in_cidr_v6(a, Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    }
}

fn is_reserved(ip: IpAddr) -> bool {
    let table = match ip {
        IpAddr::V4(_) => RESERVED_V4,
        IpAddr::V6(_) => RESERVED_V6,
    };
    table
        .iter()
        .any(|(net, bits)| ip_in_cidr(ip, &format!("{net}/{bits}")))
}

impl IpFn {
    pub(crate) fn return_type(&self) -> DataType {
        match self {
            IpFn::V4ToNumber => DataType::Float64,
            _ => DataType::Boolean,
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let ip = args
            .first()
            .and_then(Val::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok());
        let cidr = || args.get(1).and_then(Val::as_str);
        let b = match self {
            IpFn::IsValid => ip.is_some(),
            IpFn::IsValidV4 => matches!(ip, Some(IpAddr::V4(_))),
            IpFn::IsValidV6 => matches!(ip, Some(IpAddr::V6(_))),
            IpFn::InSubnet => ip.zip(cidr()).is_some_and(|(a, c)| ip_in_cidr(a, &c)),
            IpFn::InSubnetV4 => match ip {
                Some(a @ IpAddr::V4(_)) => cidr().is_some_and(|c| ip_in_cidr(a, &c)),
                _ => false,
            },
            IpFn::InSubnetV6 => match ip {
                Some(a @ IpAddr::V6(_)) => cidr().is_some_and(|c| ip_in_cidr(a, &c)),
                _ => false,
            },
            IpFn::V4ToNumber => {
                return match ip {
                    Some(IpAddr::V4(a)) => Val::Num(f64::from(u32::from(a))),
                    _ => Val::Null,
                }
            }
            IpFn::IsPrivate => ip.is_some_and(is_private),
            IpFn::IsPublic => ip.is_some_and(|a| !is_reserved(a)),
            IpFn::IsReserved => ip.is_some_and(is_reserved),
        };
        Val::Bool(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(f: IpFn, a: &[&str]) -> Val<'static> {
        let args: Vec<Val<'static>> = a.iter().map(|s| Val::Str(s.to_string().into())).collect();
        f.eval(&args)
    }

    #[test]
    fn validity() {
        assert_eq!(t(IpFn::IsValid, &["10.0.0.1"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsValid, &["2001:db8::1"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsValid, &["10.0.0.256"]), Val::Bool(false));
        assert_eq!(t(IpFn::IsValidV4, &["2001:db8::1"]), Val::Bool(false));
        assert_eq!(t(IpFn::IsValidV6, &["2001:db8::1"]), Val::Bool(true));
        assert_eq!(IpFn::IsValid.eval(&[Val::Null]), Val::Bool(false));
    }

    #[test]
    fn subnets() {
        assert_eq!(
            t(IpFn::InSubnet, &["10.0.3.4", "10.0.0.0/16"]),
            Val::Bool(true)
        );
        assert_eq!(
            t(IpFn::InSubnetV4, &["10.1.3.4", "10.0.0.0/16"]),
            Val::Bool(false)
        );
        assert_eq!(
            t(IpFn::InSubnetV4, &["10.0.3.4", "10.0.0.7/16"]),
            Val::Bool(true)
        );
        assert_eq!(
            t(IpFn::InSubnetV4, &["10.0.3.4", "garbage"]),
            Val::Bool(false)
        );
        assert_eq!(
            t(IpFn::InSubnetV6, &["2001:db8::1", "2001:db8::/32"]),
            Val::Bool(true)
        );
        assert_eq!(t(IpFn::InSubnetV6, &["10.0.0.1", "::/0"]), Val::Bool(false));
        assert_eq!(
            t(IpFn::InSubnet, &["1.2.3.4", "0.0.0.0/0"]),
            Val::Bool(true)
        );
    }

    #[test]
    fn classes_and_numbers() {
        assert_eq!(
            t(IpFn::V4ToNumber, &["192.168.1.1"]),
            Val::Num(3_232_235_777.0)
        );
        assert_eq!(t(IpFn::V4ToNumber, &["::1"]), Val::Null);
        assert_eq!(t(IpFn::IsPrivate, &["172.20.0.1"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsPrivate, &["172.32.0.1"]), Val::Bool(false));
        assert_eq!(t(IpFn::IsPrivate, &["fd00::1"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsPublic, &["8.8.8.8"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsPublic, &["127.0.0.1"]), Val::Bool(false));
        assert_eq!(t(IpFn::IsReserved, &["100.64.1.1"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsReserved, &["2001:db8::5"]), Val::Bool(true));
        assert_eq!(t(IpFn::IsReserved, &["2606:4700::1111"]), Val::Bool(false));
        assert_eq!(t(IpFn::IsPublic, &["not an ip"]), Val::Bool(false));
    }
}
