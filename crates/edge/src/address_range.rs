//! Address ranges in CIDR notation (`127.0.0.2/32`, `10.0.0.0/8`, `fd00::/8`, or a bare
//! address for one host), as `trusted_proxies` lists them.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One range of IPv4 or IPv6 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange(IpNet);

/// Why a range does not parse; names the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an address or a range such as 10.0.0.0/8 or fd00::/8")]
pub struct AddressRangeError(String);

impl AddressRange {
    /// True when `address` is in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address.to_canonical())
    }
}

impl FromStr for AddressRange {
    type Err = AddressRangeError;

    /// A range in CIDR notation, or a bare address for that one host.
    fn from_str(text: &str) -> Result<AddressRange, AddressRangeError> {
        let trimmed = text.trim();
        let parsed = if trimmed.contains('/') {
            trimmed.parse::<IpNet>().ok()
        } else {
            trimmed.parse::<IpAddr>().ok().map(IpNet::from)
        };
        parsed
            .map(AddressRange)
            .ok_or_else(|| AddressRangeError(text.to_owned()))
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> AddressRange {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_hold_their_addresses() {
        let one = range("127.0.0.2/32");
        assert!(one.contains(ip("127.0.0.2")));
        assert!(one.contains(ip("::ffff:127.0.0.2")));
        assert!(!one.contains(ip("127.0.0.1")));
        let ten = range("10.0.0.0/8");
        assert!(ten.contains(ip("10.255.1.2")));
        assert!(!ten.contains(ip("11.0.0.1")));
        let odd = range("192.168.0.0/23");
        assert!(odd.contains(ip("192.168.1.200")));
        assert!(!odd.contains(ip("192.168.2.1")));
        let v6 = range("fd00::/8");
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(range("::1").contains(ip("::1")));
        assert!(range("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert_eq!(range("127.0.0.2").to_string(), "127.0.0.2/32");
    }

    #[test]
    fn malformed_ranges_are_named() {
        for text in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "host/8",
            "::/129",
        ] {
            let err = text.parse::<AddressRange>().unwrap_err();
            assert!(err.to_string().contains(&format!("'{text}'")), "{err}");
        }
    }
}
