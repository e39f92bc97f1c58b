//! Kubernetes resource quantities and container resource names.
//!
//! `spec.sidecar.resources.{limits,requests}` are maps of resource name to
//! quantity that the CRD leaves unchecked. OSM decodes them into
//! `corev1.ResourceRequirements`, so a bad quantity makes the whole MeshConfig
//! undecodable, and the Envoy container OSM injects with them is validated by
//! the apiserver like any other container. This module ports, with the exact
//! upstream wording:
//!
//! * k8s.io/apimachinery `pkg/api/resource`: `ParseQuantity`, `Quantity.String`,
//!   `Quantity.Cmp` and `ScaledValue` (the int32 exponent wrap-around, the
//!   nano rounding, the BinarySI cap at 2^63-1 and the verbatim caching of
//!   "canonical looking" input included);
//! * k8s.io/apimachinery `pkg/api/validate/content.IsLabelKey` (what
//!   `validation.IsQualifiedName` is now);
//! * k8s.io/kubernetes `pkg/apis/core/validation` (`validateContainerResourceName`,
//!   `ValidateResourceQuantityValue`, the request/limit checks of
//!   `validateResourceRequirements`) and `pkg/apis/core/helper`.
//!
//! Values are kept as decimal digits plus an exponent, so exponents such as
//! `1e999999999` cost nothing: no power of ten is ever materialised.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::names;

/// `resource.ErrFormatWrong`.
pub const ERR_FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// `resource.ErrNumeric`.
pub const ERR_NUMERIC: &str = "unable to parse numeric part of quantity";
/// `resource.ErrSuffix`.
pub const ERR_SUFFIX: &str = "unable to parse quantity's suffix";

/// `apimachineryvalidation.IsNegativeErrorMsg` (`ValidateNonnegativeQuantity`).
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";
/// `isNotIntegerErrorMsg` of `ValidateResourceQuantityValue`.
pub const IS_NOT_INTEGER_ERROR_MSG: &str = "must be an integer";
/// Detail of the `field.Required(<resources>.limits, ...)` error raised when a
/// non-overcommitable resource (hugepages, extended resources) has a request
/// but no limit.
pub const LIMIT_REQUIRED_MSG: &str = "Limit must be set for non overcommitable resources";
/// Detail of the `field.Forbidden(<resources>, ...)` error raised when
/// hugepages are requested or limited without any cpu or memory.
pub const HUGEPAGES_REQUIRE_CPU_OR_MEMORY_MSG: &str = "HugePages require cpu or memory";

/// How a quantity chooses its suffix (`resource.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `12e6`
    DecimalExponent,
    /// `12Mi` (12 * 2^20)
    BinarySI,
    /// `12M` (12 * 10^6)
    DecimalSI,
}

/// Which of Go's two representations holds the value. It decides how
/// `ScaledValue` overflows and, at the int32 exponent boundary, how `String`
/// aligns the exponent, so it is tracked to stay byte-exact there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backing {
    /// `int64Amount{value, scale}`: value * 10^scale.
    Int64 { value: i64, scale: i32 },
    /// `inf.Dec` with this `inf.Scale` (9 after the nano rounding, 0 after
    /// the BinarySI cap).
    Dec { scale: i32 },
}

/// A parsed Kubernetes quantity (`k8s.io/apimachinery/pkg/api/resource.Quantity`).
///
/// Equality and ordering compare numeric values, like `Quantity.Cmp`
/// (`"1"`, `"1000m"` and `"1e0"` are equal).
#[derive(Debug, Clone)]
pub struct Quantity {
    neg: bool,
    /// ASCII digits of the magnitude without leading or trailing zeros; empty
    /// for zero.
    digits: Vec<u8>,
    /// value = digits * 10^exp (0 when the value is zero).
    exp: i64,
    format: Format,
    /// Go's `q.s`: the input, kept verbatim when the parser judged it canonical.
    cached: Option<Box<str>>,
    backing: Backing,
}

impl Quantity {
    /// `q.Sign() < 0`, i.e. `q.Cmp(resource.Quantity{}) < 0`.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// `q.IsZero()`.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The format the quantity was parsed with (`q.Format`).
    pub fn format(&self) -> Format {
        self.format
    }

    /// `q.String()`, used by every upstream message: the input itself when the
    /// parser kept it (`"1.500"` stays `"1.500"`, `"+1"` stays `"+1"`),
    /// otherwise the canonical form (`"0.5"` -> `"500m"`, `"1000"` -> `"1k"`,
    /// `"1024Mi"` -> `"1Gi"`, `"1e3"` -> `"1e3"`).
    pub fn canonical(&self) -> String {
        if let Some(s) = &self.cached {
            return s.to_string();
        }
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            // CanonicalizeBytes: BinarySI only for whole values of at least
            // 1024 in magnitude; anything else would need rounding.
            let below_1024 = cmp_mag(&self.digits, self.exp, b"1024", 0) == Ordering::Less;
            if below_1024 || self.exp < 0 {
                format = Format::DecimalSI;
            } else if let Some(n) = self.magnitude_u64() {
                return self.binary_si(n);
            } else {
                // Unreachable for parsed values (BinarySI is capped at 2^63-1);
                // keep the exact value rather than panic.
                format = Format::DecimalSI;
            }
        }
        let (number, exponent) = self.canonical_decimal();
        let mut out = number;
        match (format, exponent) {
            (Format::DecimalSI, -9) => out.push('n'),
            (Format::DecimalSI, -6) => out.push('u'),
            (Format::DecimalSI, -3) => out.push('m'),
            (_, 0) => {}
            (Format::DecimalSI, 3) => out.push('k'),
            (Format::DecimalSI, 6) => out.push('M'),
            (Format::DecimalSI, 9) => out.push('G'),
            (Format::DecimalSI, 12) => out.push('T'),
            (Format::DecimalSI, 15) => out.push('P'),
            (Format::DecimalSI, 18) => out.push('E'),
            // DecimalExponent, and DecimalSI beyond "E", which upstream now
            // writes as an exponent instead of dropping it.
            (_, e) => {
                out.push('e');
                out.push_str(&e.to_string());
            }
        }
        out
    }

    /// `q.Value()`: the value rounded away from zero to an int64, overflowing
    /// exactly as Go does (saturating for the int64 form, wrapping for inf.Dec).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `q.MilliValue()`, with the same overflow behaviour as [`Quantity::value`].
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    fn sign(&self) -> i8 {
        match (self.digits.is_empty(), self.neg) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }

    /// The magnitude as a u64 when it is a whole number that fits.
    fn magnitude_u64(&self) -> Option<u64> {
        if self.exp < 0 || self.digits.len() as i64 + self.exp > 20 {
            return None;
        }
        let mut n: u64 = 0;
        for &d in &self.digits {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        for _ in 0..self.exp {
            n = n.checked_mul(10)?;
        }
        Some(n)
    }

    /// The BinarySI rendering of a whole magnitude `n` (AsCanonicalBase1024Bytes).
    fn binary_si(&self, mut n: u64) -> String {
        let mut times = 0;
        while n >= 1024 && n.is_multiple_of(1024) {
            n /= 1024;
            times += 1;
        }
        let suffix = match times {
            1 => "Ki",
            2 => "Mi",
            3 => "Gi",
            4 => "Ti",
            5 => "Pi",
            6 => "Ei",
            // 1024^0 has no binary suffix; more than 6 cannot fit 2^63.
            _ => "",
        };
        let sign = if self.neg { "-" } else { "" };
        format!("{sign}{n}{suffix}")
    }

    /// AsCanonicalBytes: the mantissa and an exponent that is a multiple of 3.
    /// Go keeps that exponent in an int32, so it wraps like Go's does.
    fn canonical_decimal(&self) -> (String, i32) {
        let e32 = self.exp as i32;
        let mut zeros = 0usize;
        let mut exponent = e32;
        let mut aligned = false;
        if let Backing::Int64 { .. } = self.backing {
            // int64Amount: one step of *10 or *100, unless that overflows.
            let steps: u32 = match e32 % 3 {
                1 | -2 => 1,
                2 | -1 => 2,
                _ => 0,
            };
            if self.mantissa_times_pow10_fits_i64(steps) {
                zeros = steps as usize;
                exponent = e32.wrapping_sub(steps as i32);
                aligned = true;
            }
        }
        if !aligned {
            // infDecAmount: multiply by 10 until the exponent is a multiple of 3.
            while exponent % 3 != 0 {
                zeros += 1;
                exponent = exponent.wrapping_sub(1);
            }
        }
        let mut out = String::with_capacity(self.digits.len() + zeros + 2);
        if self.neg {
            out.push('-');
        }
        out.extend(self.digits.iter().map(|&d| char::from(d)));
        out.extend(std::iter::repeat_n('0', zeros));
        (out, exponent)
    }

    fn mantissa_times_pow10_fits_i64(&self, steps: u32) -> bool {
        if self.digits.len() > 19 {
            return false;
        }
        let mut m: i128 = 0;
        for &d in &self.digits {
            m = m * 10 + i128::from(d - b'0');
        }
        m *= 10i128.pow(steps);
        if self.neg {
            m = -m;
        }
        i64::try_from(m).is_ok()
    }

    /// `q.ScaledValue(scale)`.
    fn scaled_value(&self, scale: i32) -> i64 {
        match self.backing {
            Backing::Int64 { value, scale: s } => as_scaled_int64(value, s, scale),
            Backing::Dec { scale: s } => self.dec_scaled_value(s, -i64::from(scale)),
        }
    }

    /// resource.scaledValue(unscaled, scale, newScale) for the inf.Dec form,
    /// with the unscaled value's low 64 bits standing in for big.Int.Int64().
    fn dec_scaled_value(&self, dec_scale: i32, new_scale: i64) -> i64 {
        if self.digits.is_empty() {
            return 0;
        }
        // |unscaled| = digits * 10^e; whole at the Dec's own scale by construction.
        let e = self.exp + i64::from(dec_scale);
        if e < 0 {
            return 0;
        }
        let unscaled_int64 = || go_int64(self.neg, low64(&self.digits, e as u64));
        let dif = i64::from(dec_scale) - new_scale;
        if dif == 0 {
            return unscaled_int64();
        }
        if dif < 0 {
            // int64(math.Pow10(n)) is exact up to 10^18; beyond, amd64 gives MinInt64.
            let p = if -dif >= 19 { i64::MIN } else { 10i64.pow((-dif) as u32) };
            return unscaled_int64().wrapping_mul(p);
        }
        // Fast path: |unscaled| < MaxInt64 and 10^dif < MaxInt64, truncating division.
        if let Some(abs) = small_magnitude(&self.digits, e)
            && abs < i64::MAX as u128
            && dif < 19
        {
            let u = if self.neg { -(abs as i64) } else { abs as i64 };
            let d = 10i64.pow(dif as u32);
            return if u % d != 0 { u / d + 1 } else { u / d };
        }
        // big.Int DivMod (Euclidean), then Int64() (+1 when inexact).
        let (t_low, inexact) = if e >= dif {
            (low64(&self.digits, (e - dif) as u64), false)
        } else {
            let cut = (dif - e) as u64;
            let keep = (self.digits.len() as u64).saturating_sub(cut) as usize;
            (low64(&self.digits[..keep], 0), true)
        };
        // For a negative dividend, Euclidean division rounds the quotient down.
        let q_low = if self.neg && inexact {
            t_low.wrapping_add(1)
        } else {
            t_low
        };
        let q = go_int64(self.neg, q_low);
        if inexact { q.wrapping_add(1) } else { q }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    /// `Quantity.Cmp`: exact numeric comparison.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.sign(), other.sign());
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let m = cmp_mag(&self.digits, self.exp, &other.digits, other.exp);
        if a < 0 { m.reverse() } else { m }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl FromStr for Quantity {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_quantity(s)
    }
}

/// Compares two non-zero normalised magnitudes digits * 10^exp.
fn cmp_mag(a: &[u8], ae: i64, b: &[u8], be: i64) -> Ordering {
    let top_a = a.len() as i128 + i128::from(ae);
    let top_b = b.len() as i128 + i128::from(be);
    if top_a != top_b {
        return top_a.cmp(&top_b);
    }
    // Same magnitude: compare digit by digit; without trailing zeros, the
    // longer of two equal prefixes has a non-zero digit more.
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then(a.len().cmp(&b.len()))
}

/// Strips leading and trailing zeros (moving the latter into the exponent).
fn normalize(mut digits: Vec<u8>, exp: i64) -> (Vec<u8>, i64) {
    let lead = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..lead);
    let trail = digits.iter().rev().take_while(|&&d| d == b'0').count();
    digits.truncate(digits.len() - trail);
    if digits.is_empty() {
        return (digits, 0);
    }
    (digits, exp.saturating_add(trail as i64))
}

/// Rounds a non-zero normalised magnitude up (away from zero) to a multiple
/// of 10^-9, as ParseQuantity's `amount.Round(amount, 9, inf.RoundUp)`.
fn round_up_to_nano(digits: &mut Vec<u8>, exp: &mut i64) {
    if digits.is_empty() || *exp >= -9 {
        return;
    }
    let drop = -9i128 - i128::from(*exp);
    if drop >= digits.len() as i128 {
        *digits = vec![b'1'];
        *exp = -9;
        return;
    }
    // What is dropped ends in a non-zero digit, so the kept part goes up by one.
    digits.truncate(digits.len() - drop as usize);
    let mut i = digits.len();
    loop {
        if i == 0 {
            digits.insert(0, b'1');
            break;
        }
        i -= 1;
        if digits[i] == b'9' {
            digits[i] = b'0';
        } else {
            digits[i] += 1;
            break;
        }
    }
    let (d, e) = normalize(std::mem::take(digits), -9);
    *digits = d;
    *exp = e;
}

/// digits * f for a small factor (the binary suffixes' 2^10..2^60).
fn mul_small(digits: &[u8], f: u64) -> Vec<u8> {
    let mut rev = Vec::with_capacity(digits.len() + 20);
    let mut carry: u128 = 0;
    for &d in digits.iter().rev() {
        let cur = u128::from(d - b'0') * u128::from(f) + carry;
        rev.push(b'0' + (cur % 10) as u8);
        carry = cur / 10;
    }
    while carry > 0 {
        rev.push(b'0' + (carry % 10) as u8);
        carry /= 10;
    }
    rev.reverse();
    rev
}

/// (digits * 10^zeros) mod 2^64.
fn low64(digits: &[u8], zeros: u64) -> u64 {
    let mut m: u64 = 0;
    for &d in digits {
        m = m.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
    }
    // 10^k = 2^k * 5^k vanishes mod 2^64 from k = 64 on.
    if zeros >= 64 {
        return 0;
    }
    (0..zeros).fold(m, |acc, _| acc.wrapping_mul(10))
}

/// digits * 10^zeros when it fits 38 decimal digits.
fn small_magnitude(digits: &[u8], zeros: i64) -> Option<u128> {
    if digits.len() as i64 + zeros > 38 {
        return None;
    }
    let mut m: u128 = 0;
    for &d in digits {
        m = m * 10 + u128::from(d - b'0');
    }
    for _ in 0..zeros {
        m *= 10;
    }
    Some(m)
}

/// big.Int.Int64() from a sign and the magnitude's low 64 bits.
fn go_int64(neg: bool, low: u64) -> i64 {
    let v = low as i64;
    if neg { v.wrapping_neg() } else { v }
}

/// int64Amount.AsScaledInt64: rounds away from zero, saturates on overflow.
fn as_scaled_int64(value: i64, scale: i32, to: i32) -> i64 {
    if value == 0 {
        return 0;
    }
    let delta = i64::from(scale) - i64::from(to);
    if delta < 0 {
        if -delta >= 19 {
            return if value < 0 { -1 } else { 1 };
        }
        return negative_scale_int64(value, (-delta) as u32);
    }
    if delta >= 19 {
        return if value < 0 { i64::MIN } else { i64::MAX };
    }
    match value.checked_mul(10i64.pow(delta as u32)) {
        Some(v) => v,
        None if value < 0 => i64::MIN,
        None => i64::MAX,
    }
}

/// negativeScaleInt64: divides by 10^scale rounding away from zero.
fn negative_scale_int64(base: i64, scale: u32) -> i64 {
    let mut value = base;
    let mut fraction = false;
    for _ in 0..scale {
        if !fraction && value % 10 != 0 {
            fraction = true;
        }
        value /= 10;
        if value == 0 {
            if fraction {
                return if base > 0 { 1 } else { -1 };
            }
            return 0;
        }
    }
    if fraction {
        if base > 0 { value + 1 } else { value - 1 }
    } else {
        value
    }
}

/// The pieces `parseQuantityString` splits a quantity into (byte slices of
/// the input, except `num`/`value` which may be the literal "0").
struct Parts<'a> {
    positive: bool,
    value: &'a [u8],
    num: &'a [u8],
    denom: &'a [u8],
    suffix: &'a [u8],
}

/// `parseQuantityString`: the fast scanner, including its leniencies
/// (`"."`, `"+"`, `"1."` and `"1.G"` are accepted).
fn parse_quantity_string(s: &[u8]) -> Result<Parts<'_>, &'static str> {
    let end = s.len();
    let mut p = Parts {
        positive: true,
        value: b"",
        num: b"",
        denom: b"",
        suffix: b"",
    };
    let mut pos = 0;
    match s.first() {
        Some(b'-') => {
            p.positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    // Leading zeros; all zeros (or nothing) means zero.
    while pos < end && s[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        p.num = b"0";
        p.value = b"0";
        return Ok(p);
    }
    let mut i = pos;
    while i < end && s[i].is_ascii_digit() {
        i += 1;
    }
    if i >= end {
        p.num = &s[pos..end];
        p.value = &s[..end];
        return Ok(p);
    }
    p.num = &s[pos..i];
    pos = i;
    if p.num.is_empty() {
        p.num = b"0";
    }
    if s[pos] == b'.' {
        pos += 1;
        let mut i = pos;
        while i < end && s[i].is_ascii_digit() {
            i += 1;
        }
        if i >= end {
            p.denom = &s[pos..end];
            p.value = &s[..end];
            return Ok(p);
        }
        p.denom = &s[pos..i];
        pos = i;
    }
    p.value = &s[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&s[pos]) {
        pos += 1;
    }
    if pos < end && (s[pos] == b'-' || s[pos] == b'+') {
        pos += 1;
    }
    while pos < end && s[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(ERR_FORMAT_WRONG);
    }
    p.suffix = &s[suffix_start..];
    Ok(p)
}

/// `quantitySuffixer.interpret`: (base, exponent, format).
fn interpret_suffix(s: &[u8]) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match s {
        b"" => dec(0),
        b"n" => dec(-9),
        b"u" => dec(-6),
        b"m" => dec(-3),
        b"k" => dec(3),
        b"M" => dec(6),
        b"G" => dec(9),
        b"T" => dec(12),
        b"P" => dec(15),
        b"E" => dec(18),
        b"Ki" => bin(10),
        b"Mi" => bin(20),
        b"Gi" => bin(30),
        b"Ti" => bin(40),
        b"Pi" => bin(50),
        b"Ei" => bin(60),
        [b'e' | b'E', rest @ ..] if !rest.is_empty() => {
            // strconv.ParseInt(rest, 10, 64), then int32(parsed): Go truncates.
            parse_go_int64(rest).map(|e| (10, e as i32, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, in range.
fn parse_go_int64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut mag: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        mag = mag.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

/// `resource.ParseQuantity`. The error is the upstream error's text
/// ([`ERR_FORMAT_WRONG`], [`ERR_NUMERIC`] or [`ERR_SUFFIX`]).
pub fn parse_quantity(s: &str) -> Result<Quantity, &'static str> {
    if s.is_empty() {
        return Err(ERR_FORMAT_WRONG);
    }
    if s == "0" {
        return Ok(Quantity {
            neg: false,
            digits: Vec::new(),
            exp: 0,
            format: Format::DecimalSI,
            cached: Some(s.into()),
            backing: Backing::Int64 { value: 0, scale: 0 },
        });
    }
    let p = parse_quantity_string(s.as_bytes())?;
    let (base, exponent, format) = interpret_suffix(p.suffix).ok_or(ERR_SUFFIX)?;

    // The int64 fast path, taken when the digits surely fit.
    let mut scale: i32 = 0;
    let mut mantissa: i64 = 1;
    let digit_count = (p.num.len() + p.denom.len()) as i64;
    let precision: i64 = match format {
        Format::DecimalExponent | Format::DecimalSI => {
            scale = exponent;
            18 - digit_count
        }
        Format::BinarySI if exponent >= 0 && p.denom.is_empty() => {
            mantissa = 1i64 << exponent;
            // 15 - len(num) - int32(float32(exponent)*3/10) - 1; exact for 10..60.
            15 - p.num.len() as i64 - i64::from(exponent) * 3 / 10 - 1
        }
        Format::BinarySI => -1,
    };
    if precision >= 0 {
        scale = scale.wrapping_sub(p.denom.len() as i32);
        if scale >= -9 {
            // At most 18 digits: always fits.
            let value = p
                .num
                .iter()
                .chain(p.denom)
                .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
            if let Some(result) = value.checked_mul(mantissa) {
                let result = if p.positive { result } else { -result };
                let shifted_first = p.num.first().copied().unwrap_or(b'0');
                let keep_input = match format {
                    Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
                    _ => scale % 3 == 0 && !ends_with_three_zeros(p.num, p.denom) && shifted_first != b'0',
                };
                let (digits, exp) = normalize(result.unsigned_abs().to_string().into_bytes(), i64::from(scale));
                return Ok(Quantity {
                    neg: result < 0,
                    digits,
                    exp,
                    format,
                    cached: keep_input.then(|| s.into()),
                    backing: Backing::Int64 { value: result, scale },
                });
            }
        }
    }

    // The inf.Dec path: inf.Dec.SetString(value) needs at least one digit.
    let raw: Vec<u8> = p.value.iter().copied().filter(u8::is_ascii_digit).collect();
    if raw.is_empty() {
        return Err(ERR_NUMERIC);
    }
    let inf_scale = p.denom.len() as i32;
    let (raw, exp) = if base == 10 {
        // amount.SetScale(amount.Scale() + Scale(exponent).infScale()), in int32.
        (raw, -i64::from(inf_scale.wrapping_add(exponent.wrapping_neg())))
    } else {
        (mul_small(&raw, 1u64 << exponent), -i64::from(inf_scale))
    };
    let (mut digits, mut exp) = normalize(raw, exp);
    round_up_to_nano(&mut digits, &mut exp);
    let mut format = format;
    let mut dec_scale = 9;
    if format == Format::BinarySI && !digits.is_empty() {
        if cmp_mag(&digits, exp, b"9223372036854775807", 0) == Ordering::Greater {
            // The silent cap at MaxInt64.
            digits = b"9223372036854775807".to_vec();
            exp = 0;
            dec_scale = 0;
        } else if cmp_mag(&digits, exp, b"1", 0) == Ordering::Less {
            format = Format::DecimalSI;
        }
    }
    Ok(Quantity {
        neg: !p.positive && !digits.is_empty(),
        digits,
        exp,
        format,
        cached: None,
        backing: Backing::Dec { scale: dec_scale },
    })
}

/// `strings.HasSuffix(num+denom, "000")` without building the string.
fn ends_with_three_zeros(num: &[u8], denom: &[u8]) -> bool {
    num.iter().chain(denom).rev().take(3).filter(|&&d| d == b'0').count() == 3
}

/// What `Quantity.UnmarshalJSON` does with the bytes between a JSON string's
/// quotes (still escaped: Go does not unescape them) or with a JSON number's
/// text: `strings.TrimSpace`, then [`parse_quantity`]. (JSON `null` decodes to
/// the zero quantity and is not handled here.)
pub fn parse_quantity_json_text(raw: &str) -> Result<Quantity, &'static str> {
    // Rust's and Go's notions of Unicode white space are the same set.
    parse_quantity(raw.trim())
}

// ---------------------------------------------------------------------------
// Resource names (k8s.io/kubernetes pkg/apis/core/helper, core/validation).

const HUGEPAGES_PREFIX: &str = "hugepages-";
const REQUESTS_HUGEPAGES_PREFIX: &str = "requests.hugepages-";
const DEFAULT_RESOURCE_REQUESTS_PREFIX: &str = "requests.";
const RESOURCE_DEFAULT_NAMESPACE_PREFIX: &str = "kubernetes.io/";

pub const STANDARD_CONTAINER_RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

const STANDARD_RESOURCES: [&str; 20] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: [&str; 9] = [
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

// content.IsLabelKey (validation.IsQualifiedName).
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_KEY_MAX_LENGTH: usize = 63;
const LABEL_KEY_EXAMPLES: [&str; 3] = ["MyName", "my.name", "123-abc"];

/// `content.MaxLenError`. The content package (which IsQualifiedName moved
/// to) counts bytes, unlike `validation.MaxLenError` ("characters").
fn content_max_len_error(length: usize) -> String {
    format!("must be no more than {length} bytes")
}

/// Matches `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.
fn is_label_key_name(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `validation.IsQualifiedName` (= `content.IsLabelKey`): an optional DNS
/// subdomain prefix and '/', then a name of at most 63 bytes.
pub fn qualified_name_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let mut parts = value.split('/');
    let first = parts.next().unwrap_or("");
    let name = match (parts.next(), parts.next()) {
        (None, _) => first,
        (Some(name), None) => {
            let prefix = first;
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", names::empty_error()));
            } else {
                // content.IsDNS1123Subdomain: the regex message is the one of
                // the validation package; only MaxLenError's unit differs.
                if prefix.len() > names::DNS1123_SUBDOMAIN_MAX_LENGTH {
                    errs.push(format!(
                        "prefix part {}",
                        content_max_len_error(names::DNS1123_SUBDOMAIN_MAX_LENGTH)
                    ));
                }
                let prefix_errs = names::dns1123_subdomain_errors(prefix);
                // Built only when there is something to compare: valid names allocate nothing.
                if !prefix_errs.is_empty() {
                    let long = names::max_len_error(names::DNS1123_SUBDOMAIN_MAX_LENGTH);
                    for m in prefix_errs {
                        if m != long {
                            errs.push(format!("prefix part {m}"));
                        }
                    }
                }
            }
            name
        }
        (Some(_), Some(_)) => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                names::regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &LABEL_KEY_EXAMPLES)
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", names::empty_error()));
    } else if name.len() > LABEL_KEY_MAX_LENGTH {
        errs.push(format!("name part {}", content_max_len_error(LABEL_KEY_MAX_LENGTH)));
    }
    if !is_label_key_name(name.as_bytes()) {
        errs.push(format!(
            "name part {}",
            names::regex_error(LABEL_KEY_ERR_MSG, LABEL_KEY_FMT, &LABEL_KEY_EXAMPLES)
        ));
    }
    errs
}

pub const NOT_CONTAINER_RESOURCE_MSG: &str = "must be a standard resource for containers";
pub const NOT_EXTENDED_RESOURCE_MSG: &str = "doesn't follow extended resource name standard";

/// `helper.IsHugePageResourceName`.
pub fn is_hugepage_resource_name(name: &str) -> bool {
    name.starts_with(HUGEPAGES_PREFIX)
}

/// `helper.IsNativeResource`: unprefixed, or in a `*kubernetes.io/` namespace.
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains(RESOURCE_DEFAULT_NAMESPACE_PREFIX)
}

/// `helper.IsExtendedResourceName`.
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with(DEFAULT_RESOURCE_REQUESTS_PREFIX) {
        return false;
    }
    qualified_name_errors(&format!("{DEFAULT_RESOURCE_REQUESTS_PREFIX}{name}")).is_empty()
}

/// `helper.IsOvercommitAllowed`: requests may be below limits (native, not hugepages).
pub fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepage_resource_name(name)
}

fn is_standard_resource_name(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name)
        || name.starts_with(HUGEPAGES_PREFIX)
        || name.starts_with(REQUESTS_HUGEPAGES_PREFIX)
}

fn is_standard_container_resource_name(name: &str) -> bool {
    STANDARD_CONTAINER_RESOURCES.contains(&name) || is_hugepage_resource_name(name)
}

fn is_integer_resource_name(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource_name(name)
}

/// The details of the `field.Invalid(<path>.<name>, name, detail)` errors that
/// `validateContainerResourceName` reports for a resource name, in upstream
/// order. Empty when the name is valid.
///
/// Note: upstream passes the name as a `core.ResourceName`, which
/// `field.Error` renders with `json.Marshal`, not `%q`.
pub fn resource_name_errors(name: &str) -> Vec<String> {
    // validateResourceName
    let mut errs = qualified_name_errors(name);
    let unprefixed = !name.contains('/');
    if errs.is_empty() && unprefixed && !is_standard_resource_name(name) {
        errs.push("must be a standard resource type or fully qualified".to_string());
    }
    if unprefixed {
        if !is_standard_container_resource_name(name) {
            errs.push(NOT_CONTAINER_RESOURCE_MSG.to_string());
        }
    } else if !is_native_resource(name) && !is_extended_resource_name(name) {
        errs.push(NOT_EXTENDED_RESOURCE_MSG.to_string());
    }
    errs
}

/// The details of `ValidateResourceQuantityValue(name, q)`: negative values,
/// and fractions of integer resources (extended resources, object counts).
/// The bad value upstream shows is `q.String()`, i.e. [`Quantity::canonical`].
pub fn quantity_value_errors(name: &str, q: &Quantity) -> Vec<String> {
    let mut errs = Vec::new();
    if q.is_negative() {
        errs.push(IS_NEGATIVE_ERROR_MSG.to_string());
    }
    // value.MilliValue()%1000 != 0, overflow quirks included.
    if is_integer_resource_name(name) && q.milli_value() % 1000 != 0 {
        errs.push(IS_NOT_INTEGER_ERROR_MSG.to_string());
    }
    errs
}

/// The request-versus-limit check of `validateResourceRequirements`, for a
/// resource present in both maps. Upstream reports it as
/// `field.Invalid(<resources>.requests, request.String(), detail)`: on the
/// `requests` map itself, not on the key.
///
/// Non-overcommitable resources (hugepages, extended resources) must have
/// equal request and limit; the others need request <= limit.
pub fn request_vs_limit(name: &str, request: &Quantity, limit: &Quantity) -> Option<String> {
    let ord = request.cmp(limit);
    if ord != Ordering::Equal && !is_overcommit_allowed(name) {
        Some(format!("must be equal to {name} limit of {}", limit.canonical()))
    } else if ord == Ordering::Greater {
        Some(format!(
            "must be less than or equal to {name} limit of {}",
            limit.canonical()
        ))
    } else {
        None
    }
}

/// `validateResourceQuantityHugePageValue` (when indivisible values are not
/// allowed): a hugepages quantity must be a whole multiple of the page size
/// named by the resource. Reported as `field.Invalid(<path>.<name>, q.String(), detail)`.
pub fn hugepage_value_error(name: &str, q: &Quantity) -> Option<String> {
    let page = name.strip_prefix(HUGEPAGES_PREFIX)?;
    if hugepage_value_divisible(page, q) {
        return None;
    }
    Some(format!("{} is not positive integer multiple of {name}", q.canonical()))
}

/// `helper.IsHugePageResourceValueDivisible`.
fn hugepage_value_divisible(page: &str, q: &Quantity) -> bool {
    let Ok(page) = parse_quantity(page) else {
        return false;
    };
    if page.sign() <= 0 || page.milli_value() % 1000 != 0 {
        return false;
    }
    let page_value = page.value();
    if page_value == 0 {
        // Go would panic dividing by a page size whose Value() wrapped to 0.
        return false;
    }
    // Go's % gives 0 for MinInt64 % -1 instead of overflowing.
    q.value().wrapping_rem(page_value) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value as the upstream decode corpus writes it: digits "e" exponent.
    fn decoded(q: &Quantity) -> String {
        if q.digits.is_empty() {
            return "0".to_string();
        }
        let sign = if q.neg { "-" } else { "" };
        let digits = String::from_utf8_lossy(&q.digits);
        format!("{sign}{digits}e{}", q.exp)
    }

    fn q(s: &str) -> Quantity {
        match parse_quantity(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    use Format::{BinarySI as B, DecimalExponent as X, DecimalSI as D};

    /// quantity_test.go TestQuantityParse (values written as digits e exponent).
    const PARSE_TABLE: &[(&str, &str, Format)] = &[
        ("0", "0", D),
        ("0n", "0", D),
        ("0u", "0", D),
        ("0m", "0", D),
        ("0Ki", "0", B),
        ("0k", "0", D),
        ("0Mi", "0", B),
        ("0M", "0", D),
        ("0Gi", "0", B),
        ("0G", "0", D),
        ("0Ti", "0", B),
        ("0T", "0", D),
        ("1", "1e0", D),
        ("1Ki", "1024e0", B),
        ("8Ki", "8192e0", B),
        ("7Mi", "7340032e0", B),
        ("6Gi", "6442450944e0", B),
        ("5Ti", "549755813888e1", B),
        ("4Pi", "4503599627370496e0", B),
        ("3Ei", "3458764513820540928e0", B),
        ("10Ti", "1099511627776e1", B),
        ("100Ti", "1099511627776e2", B),
        ("5n", "5e-9", D),
        ("4u", "4e-6", D),
        ("3m", "3e-3", D),
        ("9", "9e0", D),
        ("8k", "8e3", D),
        ("50k", "5e4", D),
        ("7M", "7e6", D),
        ("6G", "6e9", D),
        ("5T", "5e12", D),
        ("40T", "4e13", D),
        ("300T", "3e14", D),
        ("2P", "2e15", D),
        ("1E", "1e18", D),
        ("1E-3", "1e-3", X),
        ("1e3", "1e3", X),
        ("1E6", "1e6", X),
        ("1e9", "1e9", X),
        ("1E12", "1e12", X),
        ("1e15", "1e15", X),
        ("1E18", "1e18", X),
        ("1e14", "1e14", X),
        ("1e13", "1e13", X),
        ("100.035k", "100035e0", D),
        ("0.001", "1e-3", D),
        ("0.0005k", "5e-1", D),
        ("0.005", "5e-3", D),
        ("0.05", "5e-2", D),
        ("0.5", "5e-1", D),
        ("0.00050k", "5e-1", D),
        ("0.00500", "5e-3", D),
        ("0.05000", "5e-2", D),
        ("0.50000", "5e-1", D),
        ("0.5e0", "5e-1", X),
        ("0.5e-1", "5e-2", X),
        ("0.5e-2", "5e-3", X),
        ("10.035M", "10035e3", D),
        ("1.2e3", "12e2", X),
        ("1.3E+6", "13e5", X),
        ("1.40e9", "14e8", X),
        ("1.53E12", "153e10", X),
        ("1.6e15", "16e14", X),
        ("1.7E18", "17e17", X),
        ("9.01", "901e-2", D),
        ("8.1k", "81e2", D),
        ("7.123456M", "7123456e0", D),
        ("6.987654321G", "6987654321e0", D),
        ("5.444T", "5444e9", D),
        ("40.1T", "401e11", D),
        ("300.2T", "3002e11", D),
        ("2.5P", "25e14", D),
        ("1.01E", "101e16", D),
        ("3.001n", "4e-9", D),
        ("1.1E-9", "2e-9", X),
        ("0.0000000001", "1e-9", D),
        ("0.0000000005", "1e-9", D),
        ("0.00000000050", "1e-9", D),
        ("0.5e-9", "1e-9", X),
        ("0.9n", "1e-9", D),
        ("0.00000012345", "124e-9", D),
        ("0.00000012354", "124e-9", D),
        ("9Ei", "9223372036854775807e0", B),
        ("9223372036854775807Ki", "9223372036854775807e0", B),
        ("12E", "12e18", D),
        ("100.035Ki", "10243584e-2", B),
        ("0.5Mi", "524288e0", B),
        ("0.05Gi", "536870912e-1", B),
        ("0.025Ti", "274877906944e-1", B),
        ("0.000000000001Ki", "2e-9", D),
        (".001", "1e-3", D),
        (".0001k", "1e-1", D),
        ("1.", "1e0", D),
        ("1.G", "1e9", D),
    ];

    #[test]
    fn parse_table_with_signs() {
        for &(input, want, format) in PARSE_TABLE {
            let got = q(input);
            assert_eq!(decoded(&got), want, "{input}");
            assert_eq!(got.format(), format, "{input}");
            // "+x" is x; "-x" is its negation, in the same format.
            let plus = q(&format!("+{input}"));
            assert_eq!(decoded(&plus), want, "+{input}");
            assert_eq!(plus.format(), format, "+{input}");
            let minus = q(&format!("-{input}"));
            let want_neg = if want == "0" {
                want.to_string()
            } else {
                format!("-{want}")
            };
            assert_eq!(decoded(&minus), want_neg, "-{input}");
            assert_eq!(minus.format(), format, "-{input}");
            assert_eq!(
                minus.cmp(&got),
                if want == "0" { Ordering::Equal } else { Ordering::Less }
            );
        }
    }

    /// Rows of testdata/quantity_decode_corpus.json (v1.37.0), the int32
    /// exponent wrap-around among them. `None` is "err".
    const CORPUS: &[(&str, Option<(&str, Format)>)] = &[
        ("", None),
        ("n", Some(("0", D))),
        ("Ki", Some(("0", B))),
        ("Ti", Some(("0", B))),
        ("Pi", None),
        ("Ei", None),
        ("E3", Some(("0", X))),
        ("e+21", Some(("0", X))),
        ("e03", Some(("0", X))),
        ("e-4294967297", Some(("0", X))),
        ("e-2147483649", Some(("0", X))),
        ("e-2147483648", None),
        ("e-10", None),
        ("e-9", Some(("0", X))),
        ("e2147483647", Some(("0", X))),
        ("e2147483648", None),
        ("e4294967295", Some(("0", X))),
        ("e8589934592", Some(("0", X))),
        (".", Some(("0", D))),
        (".n", Some(("0", D))),
        (".Ti", Some(("0", B))),
        (".Pi", None),
        (".e-10", None),
        (".e-9", Some(("0", X))),
        (".e2147483648", None),
        ("0", Some(("0", D))),
        ("0Pi", Some(("0", B))),
        ("0Ei", Some(("0", B))),
        ("0e-2147483648", Some(("0", X))),
        ("0e-1000", Some(("0", X))),
        ("0e2147483648", Some(("0", X))),
        ("0.0e-2147483648", Some(("0", X))),
        ("0.0Ei", Some(("0", B))),
        ("01", Some(("1e0", D))),
        ("01n", Some(("1e-9", D))),
        ("01E", Some(("1e18", D))),
        ("01Ki", Some(("1024e0", B))),
        ("01Ei", Some(("1152921504606846976e0", B))),
        ("01E3", Some(("1e3", X))),
        ("01e+21", Some(("1e21", X))),
        ("01e-4294967297", Some(("1e-1", X))),
        ("01e-4294967296", Some(("1e0", X))),
        ("01e-2147483649", Some(("1e2147483647", X))),
        ("01e-1000", Some(("1e-9", X))),
        ("01e-10", Some(("1e-9", X))),
        ("01e2147483647", Some(("1e2147483647", X))),
        ("01e4294967295", Some(("1e-1", X))),
        ("01e4294967297", Some(("1e1", X))),
        ("1e8589934592", Some(("1e0", X))),
        ("1e330", Some(("1e330", X))),
        ("1e2147483000", Some(("1e2147483000", X))),
        ("5Ki", Some(("512e1", B))),
        ("5Pi", Some(("562949953421312e1", B))),
        ("5Ei", Some(("576460752303423488e1", B))),
        ("5e-1000", Some(("1e-9", X))),
        ("5e-10", Some(("1e-9", X))),
        ("5e-9", Some(("5e-9", X))),
        ("5e-2147483649", Some(("5e2147483647", X))),
        ("7Ei", Some(("8070450532247928832e0", B))),
        ("7e-18", Some(("1e-9", X))),
        ("+9223372036854775.808Gi", Some(("9223372036854775807e0", B))),
        ("+9223372036854775.808Ei", Some(("9223372036854775807e0", B))),
        ("+9223372036854775.808E3", Some(("9223372036854775808e0", X))),
        ("+9223372036854775.808e+21", Some(("9223372036854775808e18", X))),
        ("+9223372036854775.808e-4294967297", Some(("9223372036854775808e-4", X))),
        ("+9223372036854775.808e-1000", Some(("1e-9", X))),
        ("+9223372036854775.808e-19", Some(("922338e-9", X))),
        ("+9223372036854775.808e-18", Some(("9223373e-9", X))),
        ("+9223372036854775.808e-10", Some(("922337203685478e-9", X))),
        ("+9223372036854775.808e-9", Some(("9223372036854776e-9", X))),
        ("+9223372036854775.808e-3", Some(("9223372036854775808e-6", X))),
        ("+9223372036854775.808e0", Some(("9223372036854775808e-3", X))),
        ("+9223372036854775.808e1000", Some(("9223372036854775808e997", X))),
        ("+9223372036854775.808e4294967297", Some(("9223372036854775808e-2", X))),
        ("+9223372036854775.808e8589934592", Some(("9223372036854775808e-3", X))),
        ("9999999999999999999", Some(("9999999999999999999e0", D))),
        ("1000000000000000000000", Some(("1e21", D))),
        ("1e-17", Some(("1e-9", X))),
        ("123e-11", Some(("2e-9", X))),
        ("-1e-17", Some(("-1e-9", X))),
        ("123e-8", Some(("123e-8", X))),
        ("123e17", Some(("123e17", X))),
        ("0e9223372036854775807", Some(("0", X))),
        ("1e9223372036854775807", Some(("1e-1", X))),
        ("0e9223372036854775808", None),
        ("1e9223372036854775808", None),
        ("0e-9223372036854775808", Some(("0", X))),
        ("1e-9223372036854775808", Some(("1e0", X))),
        ("0e-9223372036854775809", None),
        ("1e18446744073709551616", None),
        ("0e99999999999999999999", None),
    ];

    #[test]
    fn decode_corpus_rows() {
        for &(input, want) in CORPUS {
            match (parse_quantity(input), want) {
                (Ok(got), Some((value, format))) => {
                    assert_eq!(decoded(&got), value, "{input}");
                    assert_eq!(got.format(), format, "{input}");
                }
                (Err(_), None) => {}
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    /// The malformed inputs of quantity_test.go and the corpus, with the
    /// upstream error each one gets.
    #[test]
    fn errors_are_upstream_texts() {
        let cases: &[(&str, &str)] = &[
            ("", ERR_FORMAT_WRONG),
            ("1.1.M", ERR_FORMAT_WRONG),
            ("1+1.0M", ERR_FORMAT_WRONG),
            ("0.1mi", ERR_SUFFIX),
            ("0.1am", ERR_FORMAT_WRONG),
            ("aoeu", ERR_FORMAT_WRONG),
            (".5i", ERR_SUFFIX),
            ("1i", ERR_SUFFIX),
            ("-3.01i", ERR_SUFFIX),
            ("-3.01e-", ERR_SUFFIX),
            (" 1", ERR_FORMAT_WRONG),
            ("1 ", ERR_FORMAT_WRONG),
            ("1K", ERR_SUFFIX),
            ("1ki", ERR_SUFFIX),
            ("1KI", ERR_FORMAT_WRONG),
            ("1KiB", ERR_FORMAT_WRONG),
            ("1Zi", ERR_FORMAT_WRONG),
            ("1Z", ERR_FORMAT_WRONG),
            ("1\u{b5}", ERR_FORMAT_WRONG),
            ("1\u{3bc}", ERR_FORMAT_WRONG),
            ("1 Ki", ERR_FORMAT_WRONG),
            ("1e", ERR_SUFFIX),
            ("1e+", ERR_SUFFIX),
            ("1e-", ERR_SUFFIX),
            ("1e1.5", ERR_FORMAT_WRONG),
            ("1e.5", ERR_FORMAT_WRONG),
            ("1e3k", ERR_FORMAT_WRONG),
            ("1E3Ki", ERR_FORMAT_WRONG),
            ("1e+-3", ERR_FORMAT_WRONG),
            ("1..5", ERR_FORMAT_WRONG),
            ("1-", ERR_SUFFIX),
            ("++1", ERR_SUFFIX),
            ("1,5", ERR_FORMAT_WRONG),
            ("1_000", ERR_FORMAT_WRONG),
            ("0x10", ERR_FORMAT_WRONG),
            ("1/2", ERR_FORMAT_WRONG),
            ("\u{ff11}", ERR_FORMAT_WRONG),
            ("\u{663}", ERR_FORMAT_WRONG),
            ("\u{2212}1", ERR_FORMAT_WRONG),
            ("1\0", ERR_FORMAT_WRONG),
            ("Inf", ERR_FORMAT_WRONG),
            ("+Inf", ERR_FORMAT_WRONG),
            ("NaN", ERR_FORMAT_WRONG),
            ("Infinity", ERR_FORMAT_WRONG),
            ("1e9223372036854775808", ERR_SUFFIX),
            ("1e-9223372036854775809", ERR_SUFFIX),
            ("ee5", ERR_SUFFIX),
            ("Pi", ERR_NUMERIC),
            (".e-10", ERR_NUMERIC),
            ("-.e-10", ERR_NUMERIC),
            ("+e-10", ERR_NUMERIC),
            ("e2147483648", ERR_NUMERIC),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_quantity(input).map(|q| q.canonical()), Err(want), "{input:?}");
        }
        assert_eq!(
            ERR_FORMAT_WRONG,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
    }

    /// quantity_test.go TestQuantityString: `expect` parses and keeps itself;
    /// `alternate` parses and canonicalises to `expect`.
    const STRING_TABLE: &[(&str, &str)] = &[
        ("1Gi", "1024Mi"),
        ("300Mi", "307200Ki"),
        ("6Ki", ""),
        ("1001Gi", "1025024Mi"),
        ("1Ti", "1024Gi"),
        ("5", "5000m"),
        ("500m", "0.5"),
        ("1G", "1000M"),
        ("1G", "0.001T"),
        ("1m", "1000u"),
        ("80m", ""),
        ("1080m", "1.08"),
        ("1080m", "1080000000n"),
        ("300M", ""),
        ("1T", ""),
        ("1E", ""),
        ("1e21", "1000E"),
        ("5e21", "5000E"),
        ("1e24", "1000000E"),
        ("1234567M", ""),
        ("1234567m", ""),
        ("3k", ""),
        ("1025", ""),
        ("0", ""),
        ("1e9", ".001e12"),
        ("1e-3", "0.001e0"),
        ("1e-9", "1000e-12"),
        ("80e-3", ""),
        ("300e6", ""),
        ("1e12", ""),
        ("1e3", ""),
        ("3e3", ""),
        ("0", "00"),
        ("1n", ""),
        ("80n", ""),
        ("1080n", ""),
        ("1u", ""),
        ("80u", ""),
        ("1080u", ""),
    ];

    #[test]
    fn string_table() {
        for &(expect, alternate) in STRING_TABLE {
            let e = q(expect);
            assert_eq!(e.cached.as_deref(), Some(expect), "{expect} must keep its input");
            assert_eq!(e.canonical(), expect);
            if alternate.is_empty() {
                continue;
            }
            let a = q(alternate);
            assert_eq!(a.cached, None, "{alternate} must not keep its input");
            assert_eq!(a.canonical(), expect, "{alternate}");
            assert_eq!(a, e);
            if expect != "0" {
                assert_eq!(q(&format!("-{alternate}")).canonical(), format!("-{expect}"));
            }
        }
    }

    #[test]
    fn parse_emit() {
        let table = [
            ("1Ki", "1Ki"),
            ("1Mi", "1Mi"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1000M", "1G"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
        ];
        for (input, want) in table {
            assert_eq!(q(input).canonical(), want, "{input}");
            assert_eq!(q(&format!("-{input}")).canonical(), format!("-{want}"), "-{input}");
        }
    }

    /// quantity_golden_test.go: String() and, without the kept input, the canonical form.
    #[test]
    fn golden_serialization() {
        let table = [
            ("1", "1", "1"),
            ("-1", "-1", "-1"),
            ("1Ki", "1Ki", "1Ki"),
            ("1024Mi", "1Gi", "1Gi"),
            ("1000M", "1G", "1G"),
            ("1e3", "1e3", "1e3"),
            ("0.1", "100m", "100m"),
            ("0.000000000000001", "1n", "1n"),
            ("1.441", "1.441", "1441m"),
            ("1.000001", "1.000001", "1000001u"),
            ("1.000000001", "1.000000001", "1000000001n"),
            ("1.5", "1500m", "1500m"),
            ("9223372036854775807", "9223372036854775807", "9223372036854775807"),
            ("9223372036854775808", "9223372036854775808", "9223372036854775808"),
            ("18446744073709551616", "18446744073709551616", "18446744073709551616"),
            ("1E", "1E", "1E"),
            ("100E", "100E", "100E"),
            ("1000E", "1e21", "1e21"),
            ("1e100", "10e99", "10e99"),
            ("8Ei", "9223372036854775807", "9223372036854775807"),
            ("-20Ei", "-9223372036854775807", "-9223372036854775807"),
            ("-9.5Gi", "-9728Mi", "-9728Mi"),
            ("-9.5000000001Gi", "-10200547328107374183n", "-10200547328107374183n"),
        ];
        for (input, want, want_canonical) in table {
            let mut got = q(input);
            assert_eq!(got.canonical(), want, "{input}");
            got.cached = None;
            assert_eq!(got.canonical(), want_canonical, "{input} without its kept input");
        }
    }

    #[test]
    fn kept_input_quirks() {
        // Parsing keeps "canonical looking" input verbatim, as Go's q.s.
        for s in [
            "+1",
            "01",
            "1.500",
            "-1",
            "+100m",
            "1.230e3",
            "1025Ki",
            "100E",
            "1e999999999",
        ] {
            assert_eq!(q(s).canonical(), s);
        }
        for (s, want) in [
            ("1000", "1k"),
            ("0.5", "500m"),
            ("1500m", "1500m"),
            ("-0", "0"),
            ("-", "0"),
            ("+", "0"),
            (".", "0"),
            ("-.", "0"),
            ("8Ki", "8Ki"),
            ("1024Ki", "1Mi"),
            ("0.5Ki", "512"),
            ("1.5Ki", "1536"),
            ("1.0001Ki", "1024102400u"),
            ("1023.5Ki", "1048064"),
            ("2048", "2048"),
            ("1e1", "10"),
            ("1e2", "100"),
            ("1e-1", "100e-3"),
            ("12e-2", "120e-3"),
            ("1.5e1", "1.5e1"),
            ("1.5e2", "150"),
            ("1.5e-1", "150e-3"),
        ] {
            assert_eq!(q(s).canonical(), want, "{s}");
        }
    }

    #[test]
    fn int32_exponent_wrap_in_canonical() {
        // Fast path with a scale of MaxInt32: the int64 form's one-step
        // alignment wraps the exponent (Go: exponent%3 == -2, one *10).
        assert_eq!(q("10e2147483647").canonical(), "10e2147483647");
        assert_eq!(q("1e2147483647").canonical(), "10e2147483646");
        assert_eq!(q("01e-2147483649").canonical(), "10e2147483646");
        // 1.25e-2147483647: scale -2147483649 wraps to 2147483647.
        assert_eq!(decoded(&q("1.25e-2147483647")), "125e2147483647");
    }

    #[test]
    fn cmp_table() {
        let table = [
            ("0", "0", Ordering::Equal),
            ("100m", "50m", Ordering::Greater),
            ("50m", "100m", Ordering::Less),
            ("10000T", "100Gi", Ordering::Greater),
            ("1", "1000m", Ordering::Equal),
            ("1e3", "1k", Ordering::Equal),
            ("1Ki", "1024", Ordering::Equal),
            ("-1", "0", Ordering::Less),
            ("-2", "-1", Ordering::Less),
            ("1e999999999", "1e999999998", Ordering::Greater),
            ("1e-999999999", "1n", Ordering::Equal),
            ("128Mi", "128M", Ordering::Greater),
            ("0.1", "99m", Ordering::Greater),
            ("9223372036854775808", "8Ei", Ordering::Greater),
        ];
        for (a, b, want) in table {
            assert_eq!(q(a).cmp(&q(b)), want, "{a} vs {b}");
            assert_eq!(q(b).cmp(&q(a)), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn huge_exponents_are_cheap() {
        let start = std::time::Instant::now();
        for s in [
            "1e999999999",
            "1e-999999999",
            "1.0000000000000000000001e999999999",
            "1.0000000000000000000001e-999999999",
            "123456789012345678901234567890e2147483000",
            "+9223372036854775.808e2147483647",
            "1e-2147483648",
            "9.99999999999999999999e-2147483000",
            "999999999999999999999999Ei",
        ] {
            let got = q(s);
            let text = got.canonical();
            assert!(text.len() < 64, "{s}: {text}");
            let _ = got.milli_value();
            let _ = got.cmp(&q("1"));
        }
        assert_eq!(q("1e-999999999").canonical(), "1e-9");
        assert_eq!(q("1.0000000000000000000001e-999999999").canonical(), "1e-9");
        assert_eq!(q("999999999999999999999999Ei").canonical(), "9223372036854775807");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        // A long mantissa stays linear.
        let long = format!("{}.5Ki", "7".repeat(100_000));
        assert_eq!(q(&long).canonical(), "9223372036854775807");
        let long = format!("0.{}1", "0".repeat(100_000));
        assert_eq!(q(&long).canonical(), "1n");
    }

    #[test]
    fn scaled_values() {
        let table: &[(&str, i64, i64)] = &[
            ("0", 0, 0),
            ("1", 1, 1000),
            ("1.5", 2, 1500),
            ("100m", 1, 100),
            ("1n", 1, 1),
            ("-1n", -1, -1),
            ("-1.5", -2, -1500),
            ("1Ki", 1024, 1_024_000),
            ("1e18", 1_000_000_000_000_000_000, i64::MAX),
            ("1e19", i64::MAX, i64::MAX),
            ("-1e19", i64::MIN, i64::MIN),
            ("8Ei", i64::MAX, -1000),
            ("-8Ei", -i64::MAX, 1000),
            // inf.Dec, fast path of scaledValue: truncating division, then +1.
            ("0.0000000015", 1, 1),
            ("-0.0000000015", 1, 1),
            // inf.Dec beyond MaxInt64: Euclidean DivMod, Int64() wraps.
            ("18446744073709551616", 0, 0),
            ("18446744073709551617", 1, 1000),
            ("-18446744073709551617", -1, -1000),
            ("18446744073709551616.5", 1, 500),
            ("-18446744073709551616.5", 0, -500),
        ];
        for &(s, value, milli) in table {
            let got = q(s);
            assert_eq!(got.value(), value, "{s}.Value()");
            assert_eq!(got.milli_value(), milli, "{s}.MilliValue()");
        }
    }

    #[test]
    fn json_text_is_trimmed() {
        assert_eq!(
            parse_quantity_json_text(" 1 ").map(|q| q.canonical()),
            Ok("1".to_string())
        );
        assert_eq!(
            parse_quantity_json_text("\u{a0}2Gi\u{3000}").map(|q| q.canonical()),
            Ok("2Gi".into())
        );
        assert_eq!(
            parse_quantity_json_text("true").map(|q| q.canonical()),
            Err(ERR_FORMAT_WRONG)
        );
    }

    const NAME_REGEX: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const PREFIX_REGEX: &str = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const STANDARD_TYPE: &str = "must be a standard resource type or fully qualified";
    const STANDARD_CONTAINER: &str = "must be a standard resource for containers";
    const EXTENDED: &str = "doesn't follow extended resource name standard";

    #[test]
    fn resource_names() {
        let long_name = "a".repeat(64);
        let long_prefix = format!("{}/x", "a".repeat(254));
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("cpu", vec![]),
            ("memory", vec![]),
            ("ephemeral-storage", vec![]),
            ("hugepages-2Mi", vec![]),
            ("hugepages-", vec![NAME_REGEX.into()]),
            ("example.com/gpu", vec![]),
            ("nvidia.com/gpu", vec![]),
            ("kubernetes.io/foo", vec![]),
            ("foo.kubernetes.io/bar", vec![]),
            ("storage", vec![STANDARD_CONTAINER.into()]),
            ("pods", vec![STANDARD_CONTAINER.into()]),
            ("requests.cpu", vec![STANDARD_CONTAINER.into()]),
            ("requests.hugepages-2Mi", vec![STANDARD_CONTAINER.into()]),
            ("foo", vec![STANDARD_TYPE.into(), STANDARD_CONTAINER.into()]),
            ("CPU", vec![STANDARD_TYPE.into(), STANDARD_CONTAINER.into()]),
            ("", vec!["name part must be non-empty".into(), NAME_REGEX.into(), STANDARD_CONTAINER.into()]),
            ("-cpu", vec![NAME_REGEX.into(), STANDARD_CONTAINER.into()]),
            (
                &long_name,
                vec!["name part must be no more than 63 bytes".into(), STANDARD_CONTAINER.into()],
            ),
            ("/gpu", vec!["prefix part must be non-empty".into(), EXTENDED.into()]),
            ("example.com/", vec!["name part must be non-empty".into(), NAME_REGEX.into(), EXTENDED.into()]),
            ("Example.com/gpu", vec![PREFIX_REGEX.into(), EXTENDED.into()]),
            ("requests.example.com/gpu", vec![EXTENDED.into()]),
            (
                &long_prefix,
                vec![
                    "prefix part must be no more than 253 bytes".into(),
                    EXTENDED.into(),
                ],
            ),
            (
                "a/b/c",
                vec![
                    "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into(),
                    EXTENDED.into(),
                ],
            ),
            // Native (kubernetes.io) names skip the extended-name check.
            ("a/b/kubernetes.io/c", vec![
                "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into(),
            ]),
        ];
        for (name, want) in cases {
            assert_eq!(resource_name_errors(name), want, "{name:?}");
        }
        // The prefix's regex message comes from names.rs, unchanged.
        assert!(PREFIX_REGEX.ends_with(&names::dns1123_subdomain_errors("A")[0]));
    }

    #[test]
    fn quantity_values() {
        let none: Vec<String> = vec![];
        assert_eq!(quantity_value_errors("cpu", &q("100m")), none);
        assert_eq!(quantity_value_errors("cpu", &q("-100m")), vec![IS_NEGATIVE_ERROR_MSG]);
        assert_eq!(quantity_value_errors("example.com/gpu", &q("1")), none);
        assert_eq!(
            quantity_value_errors("example.com/gpu", &q("1.5")),
            vec![IS_NOT_INTEGER_ERROR_MSG]
        );
        assert_eq!(
            quantity_value_errors("example.com/gpu", &q("-1.5")),
            vec![IS_NEGATIVE_ERROR_MSG, IS_NOT_INTEGER_ERROR_MSG]
        );
        assert_eq!(
            quantity_value_errors("pods", &q("500m")),
            vec![IS_NOT_INTEGER_ERROR_MSG]
        );
        // MilliValue saturates at MaxInt64 (…807), which is not a multiple of 1000.
        assert_eq!(
            quantity_value_errors("example.com/gpu", &q("1e30")),
            vec![IS_NOT_INTEGER_ERROR_MSG]
        );
        assert_eq!(quantity_value_errors("example.com/gpu", &q("8Ei")), none);
        assert_eq!(quantity_value_errors("hugepages-2Mi", &q("1.5")), none);
    }

    #[test]
    fn requests_against_limits() {
        let check = |name: &str, req: &str, lim: &str| request_vs_limit(name, &q(req), &q(lim));
        assert_eq!(check("cpu", "100m", "1"), None);
        assert_eq!(check("cpu", "1", "1000m"), None);
        assert_eq!(
            check("cpu", "2", "1"),
            Some("must be less than or equal to cpu limit of 1".into())
        );
        assert_eq!(
            check("memory", "256Mi", "0.125Gi"),
            Some("must be less than or equal to memory limit of 128Mi".into())
        );
        assert_eq!(
            check("memory", "2G", "1.500G"),
            Some("must be less than or equal to memory limit of 1.500G".into())
        );
        assert_eq!(
            check("cpu", "2", "1500m"),
            Some("must be less than or equal to cpu limit of 1500m".into())
        );
        assert_eq!(
            check("hugepages-2Mi", "2Mi", "4Mi"),
            Some("must be equal to hugepages-2Mi limit of 4Mi".into())
        );
        assert_eq!(check("hugepages-2Mi", "4Mi", "4Mi"), None);
        assert_eq!(
            check("example.com/gpu", "1", "2"),
            Some("must be equal to example.com/gpu limit of 2".into())
        );
        assert_eq!(check("example.com/gpu", "2", "2000m"), None);
        assert!(!is_overcommit_allowed("hugepages-1Gi"));
        assert!(is_overcommit_allowed("cpu"));
        assert!(is_overcommit_allowed("kubernetes.io/foo"));
        assert!(!is_overcommit_allowed("example.com/foo"));
    }

    #[test]
    fn hugepage_values() {
        assert_eq!(hugepage_value_error("cpu", &q("1")), None);
        assert_eq!(hugepage_value_error("hugepages-2Mi", &q("4Mi")), None);
        assert_eq!(hugepage_value_error("hugepages-2Mi", &q("0")), None);
        assert_eq!(
            hugepage_value_error("hugepages-2Mi", &q("3Mi")),
            Some("3Mi is not positive integer multiple of hugepages-2Mi".into())
        );
        assert_eq!(
            hugepage_value_error("hugepages-foo", &q("2Mi")),
            Some("2Mi is not positive integer multiple of hugepages-foo".into())
        );
        assert_eq!(
            hugepage_value_error("hugepages-0.5", &q("1")),
            Some("1 is not positive integer multiple of hugepages-0.5".into())
        );
        // A page size whose Value() wraps to 0 (Go would divide by zero).
        assert!(hugepage_value_error("hugepages-18446744073709551616000", &q("1")).is_some());
    }
}
