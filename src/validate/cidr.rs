//! Strict IPv4 CIDR parsing for OSM's outbound IP range lists.
//!
//! Accepts what Go (≥ 1.17) `net.ParseCIDR` accepts for IPv4 over the whole
//! string: four decimal octets 0–255 without leading zeros, '/', and a prefix
//! length 0–32. The prefix is decimal without sign or leading zeros (as Go's
//! `netip.ParsePrefix`; `net.ParseCIDR` alone would take `/024`). OSM writes
//! these values verbatim into iptables rules, which are IPv4-only, so valid
//! IPv6 CIDRs are rejected with their own message.

use std::fmt;

/// Detail for anything that is not a CIDR: apimachinery's `IsValidCIDR`
/// wording (preferred over Go's `invalid CIDR address: <s>`).
pub const INVALID_CIDR_MSG: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// Detail for a well-formed IPv6 CIDR.
pub const IPV6_CIDR_MSG: &str = "must be an IPv4 CIDR (OSM's iptables rules are IPv4-only)";

/// An IPv4 address with a prefix length (0–32), as written (host bits kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    pub addr: [u8; 4],
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// The netmask as a big-endian `u32` (`/0` → 0, `/32` → all ones).
    fn mask(&self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.prefix.min(32))).unwrap_or(0)
    }

    /// Whether bits after the prefix are set (e.g. `10.0.0.1/8`), i.e. the
    /// value is not the network address that iptables will actually use.
    pub fn has_host_bits(&self) -> bool {
        u32::from_be_bytes(self.addr) & !self.mask() != 0
    }

    /// The network this CIDR denotes (host bits cleared).
    pub fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            addr: (u32::from_be_bytes(self.addr) & self.mask()).to_be_bytes(),
            prefix: self.prefix,
        }
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.addr;
        write!(f, "{a}.{b}.{c}.{d}/{}", self.prefix)
    }
}

/// Parses `s` as an IPv4 CIDR; `Err` holds the field-error detail.
pub fn parse_ipv4_cidr(s: &str) -> Result<Ipv4Cidr, String> {
    let invalid = || INVALID_CIDR_MSG.to_string();
    let (addr, bits) = s.split_once('/').ok_or_else(invalid)?;
    let (addr, bits) = (addr.as_bytes(), bits.as_bytes());
    // Like netip.ParseAddr, the first of '.', ':' or '%' decides the family.
    match addr.iter().find(|&&c| matches!(c, b'.' | b':' | b'%')) {
        Some(b'.') => {
            let addr = parse_ipv4_strict(addr).ok_or_else(invalid)?;
            let prefix = parse_prefix(bits, 32).ok_or_else(invalid)?;
            Ok(Ipv4Cidr { addr, prefix })
        }
        Some(b':') if is_ipv6_strict(addr) && parse_prefix(bits, 128).is_some() => Err(IPV6_CIDR_MSG.to_string()),
        _ => Err(invalid()),
    }
}

/// Prefix length: decimal digits only, no leading zero (except "0"), ≤ `max`.
fn parse_prefix(b: &[u8], max: u8) -> Option<u8> {
    if b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let n = b.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0'));
    u8::try_from(n).ok().filter(|&n| n <= max)
}

/// Go ≥ 1.17 / netip dotted quad: exactly four fields of 1–3 digits, each
/// ≤ 255, no leading zeros.
fn parse_ipv4_strict(b: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut fields = b.split(|&c| c == b'.');
    for octet in &mut out {
        let f = fields.next()?;
        if f.is_empty() || f.len() > 3 || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if f.len() > 1 && f[0] == b'0' {
            return None;
        }
        let n = f.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0'));
        *octet = u8::try_from(n).ok()?;
    }
    fields.next().is_none().then_some(out)
}

/// Go's `netip.ParseAddr` for IPv6 without a zone (a zone makes
/// `net.ParseCIDR` fail anyway): groups of 1–4 hex digits, one optional
/// `::` standing for at least one zero group, optional strict dotted-quad
/// tail in place of the last two groups.
fn is_ipv6_strict(mut s: &[u8]) -> bool {
    let mut ellipsis = false;
    if let Some(rest) = s.strip_prefix(b"::") {
        ellipsis = true;
        s = rest;
        if s.is_empty() {
            return true;
        }
    }
    // Count of 16-bit groups filled so far (Go counts bytes; same thing ×2).
    let mut groups = 0usize;
    while groups < 8 {
        let digits = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 4 {
            return false;
        }
        if s.get(digits) == Some(&b'.') {
            if (!ellipsis && groups != 6) || groups + 2 > 8 {
                return false;
            }
            if parse_ipv4_strict(s).is_none() {
                return false;
            }
            s = &[];
            groups += 2;
            break;
        }
        groups += 1;
        s = &s[digits..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return false;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis {
                return false;
            }
            ellipsis = true;
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return false;
    }
    // Fewer than 8 groups need an ellipsis; 8 groups forbid one.
    (groups < 8) == ellipsis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Ipv4Cidr {
        match parse_ipv4_cidr(s) {
            Ok(c) => c,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn valid() {
        let cases: &[(&str, [u8; 4], u8)] = &[
            ("0.0.0.0/0", [0, 0, 0, 0], 0),
            ("10.0.0.0/8", [10, 0, 0, 0], 8),
            ("10.9.8.0/24", [10, 9, 8, 0], 24),
            ("192.168.1.1/32", [192, 168, 1, 1], 32),
            ("255.255.255.255/32", [255, 255, 255, 255], 32),
            ("1.2.3.4/0", [1, 2, 3, 4], 0),
            ("100.64.0.0/10", [100, 64, 0, 0], 10),
            ("0.0.0.0/32", [0, 0, 0, 0], 32),
        ];
        for &(s, addr, prefix) in cases {
            assert_eq!(ok(s), Ipv4Cidr { addr, prefix }, "{s}");
            assert_eq!(ok(s).to_string(), s);
        }
    }

    #[test]
    fn invalid() {
        for s in [
            "",
            "/",
            "10.0.0.0",
            "10.0.0.0/",
            "/24",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "10.0.0.0/00",
            "10.0.0.0/8/8",
            "10.0.0.0/ 8",
            "10.0.0.0 /8",
            " 10.0.0.0/8",
            "10.0.0.0/8 ",
            "foo 1.2.3.4/32",
            "999.999.999.999/99",
            "256.0.0.0/8",
            "010.0.0.0/8",
            "10.00.0.0/8",
            "10.0.0/8",
            "10.0.0.0.0/8",
            "10..0.0/8",
            ".10.0.0/8",
            "10.0.0./8",
            "0x0a.0.0.0/8",
            "1.2.3.4a/8",
            "10.0.0.0/1000",
            "10.0.0.0/99999999999999999999",
            "a.b.c.d/8",
            "%1.2.3.4/8",
            "10.0.0.0/８",
            "١.2.3.4/8",
            "fe80::1%eth0/64",
            "::/129",
            "::/0128",
            "1::2::3/64",
            "12345::/64",
            "1:2:3:4:5:6:7:8:9/64",
            "1:2:3:4:5:6:7/64",
            "::ffff:01.2.3.4/96",
            ":/64",
        ] {
            assert_eq!(parse_ipv4_cidr(s), Err(INVALID_CIDR_MSG.to_string()), "{s:?}");
        }
    }

    #[test]
    fn ipv6_gets_its_own_message() {
        for s in [
            "2001:db8::/64",
            "::/0",
            "::1/128",
            "fe80::/10",
            "1:2:3:4:5:6:7:8/64",
            "::ffff:10.0.0.0/104",
            "1:2:3:4:5:6:1.2.3.4/128",
            "0001:db8::/32",
            "2001:DB8::/32",
            "1::/16",
        ] {
            assert_eq!(parse_ipv4_cidr(s), Err(IPV6_CIDR_MSG.to_string()), "{s:?}");
        }
    }

    #[test]
    fn host_bits_and_network() {
        let c = ok("10.1.2.3/8");
        assert!(c.has_host_bits());
        assert_eq!(c.network(), ok("10.0.0.0/8"));
        assert_eq!(c.network().to_string(), "10.0.0.0/8");
        assert!(!ok("10.0.0.0/8").has_host_bits());
        assert!(!ok("1.2.3.4/32").has_host_bits());
        assert_eq!(ok("1.2.3.4/32").network(), ok("1.2.3.4/32"));
        assert!(ok("1.2.3.4/0").has_host_bits());
        assert_eq!(ok("1.2.3.4/0").network(), ok("0.0.0.0/0"));
        assert!(!ok("0.0.0.0/0").has_host_bits());
        assert!(ok("192.168.1.129/25").has_host_bits());
        assert_eq!(ok("192.168.1.129/25").network(), ok("192.168.1.128/25"));
        assert!(ok("192.168.1.1/31").has_host_bits());
        // Out-of-range prefixes in hand-built values do not panic.
        let odd = Ipv4Cidr {
            addr: [1, 2, 3, 4],
            prefix: 200,
        };
        assert!(!odd.has_host_bits());
        assert_eq!(odd.network().addr, [1, 2, 3, 4]);
    }

    /// Deterministic pseudo-random inputs: no panics, and every accepted
    /// value round-trips through Display.
    #[test]
    fn fuzz_no_panic() {
        let alphabet: &[u8] = b"0123456789./:%abf -+";
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..50_000 {
            let len = (next() % 20) as usize;
            let s: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            if let Ok(c) = parse_ipv4_cidr(&s) {
                accepted += 1;
                assert_eq!(c.to_string(), s);
                assert!(c.prefix <= 32);
                let _ = (c.has_host_bits(), c.network());
            }
        }
        // Also a structured generator so the accept path is exercised.
        for _ in 0..20_000 {
            let r = next();
            let s = format!(
                "{}.{}.{}.{}/{}",
                r % 300,
                (r >> 9) % 256,
                (r >> 17) % 256,
                (r >> 25) % 256,
                (r >> 33) % 40
            );
            let want = r % 300 < 256 && (r >> 33) % 40 <= 32;
            assert_eq!(parse_ipv4_cidr(&s).is_ok(), want, "{s}");
            accepted += usize::from(want);
        }
        assert!(accepted > 1000);
    }
}
