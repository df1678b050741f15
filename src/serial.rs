//! Certificate serial numbers and the `ca.srl` file, exactly as OpenSSL's
//! `x509 -CAserial/-CAcreateserial` handles them.

use std::cmp::Ordering;
use std::fmt;

/// RFC 5280 4.1.2.2: a serial is a positive INTEGER of at most 20 octets.
pub(crate) const MAX_SERIAL_OCTETS: usize = 20;

/// A positive certificate serial number, kept as its big-endian magnitude
/// without leading zero bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// 159 random bits from the CSPRNG, as OpenSSL's `rand_serial`
    /// (SERIAL_RAND_BITS = 159): positive and at most 20 octets in DER.
    pub(crate) fn random() -> Serial {
        loop {
            let mut bytes = [0u8; MAX_SERIAL_OCTETS];
            // aws-lc's RNG only fails if the OS has no entropy source at all, in
            // which case generating keys would have failed first; retrying is safe.
            if aws_lc_rs::rand::fill(&mut bytes).is_err() {
                continue;
            }
            bytes[0] &= 0x7f;
            let s = Serial::from_be_bytes(&bytes);
            // Never 0, and leave room for the +1 of each following certificate:
            // only the 2^8 values just below 2^159 are redrawn.
            let near_max = bytes[0] == 0x7f && bytes[1..19].iter().all(|b| *b == 0xff);
            if !s.0.is_empty() && !near_max {
                return s;
            }
        }
    }

    /// From big-endian bytes (a DER INTEGER's content or a magnitude); a leading
    /// 0x00 sign octet is dropped.
    pub(crate) fn from_be_bytes(bytes: &[u8]) -> Serial {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Serial(bytes[start..].to_vec())
    }

    /// The big-endian magnitude, without leading zeros (empty for 0).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number of octets of its DER INTEGER encoding.
    pub(crate) fn der_len(&self) -> usize {
        match self.0.first() {
            None => 1,
            Some(b) if b & 0x80 != 0 => self.0.len() + 1,
            Some(_) => self.0.len(),
        }
    }

    /// The next serial (+1), or None when it would no longer fit in 20 octets.
    pub fn next(&self) -> Option<Serial> {
        let mut bytes = self.0.clone();
        let mut carry = true;
        for b in bytes.iter_mut().rev() {
            let (v, overflow) = b.overflowing_add(1);
            *b = v;
            if !overflow {
                carry = false;
                break;
            }
        }
        if carry {
            bytes.insert(0, 1);
        }
        let next = Serial(bytes);
        (next.der_len() <= MAX_SERIAL_OCTETS).then_some(next)
    }

    /// Parses the text of a `ca.srl` file. OpenSSL writes uppercase hex with an
    /// even number of digits and a newline; we also accept lowercase (older
    /// tools), an odd digit count and surrounding white space.
    pub fn parse_srl(text: &[u8]) -> Result<Serial, SrlError> {
        let text = std::str::from_utf8(text).map_err(|_| SrlError::NotText)?;
        let hex = text.trim();
        if hex.is_empty() {
            return Err(SrlError::Empty);
        }
        if hex.starts_with('-') {
            return Err(SrlError::Negative);
        }
        if hex.lines().count() > 1 {
            return Err(SrlError::SeveralLines);
        }
        if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(SrlError::NotHex(c));
        }
        let padded = if hex.len() % 2 == 1 {
            format!("0{hex}")
        } else {
            hex.to_string()
        };
        let bytes: Vec<u8> = (0..padded.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).unwrap_or(0))
            .collect();
        let serial = Serial::from_be_bytes(&bytes);
        if serial.der_len() > MAX_SERIAL_OCTETS {
            return Err(SrlError::TooLong(serial.der_len()));
        }
        Ok(serial)
    }

    /// The `ca.srl` text OpenSSL writes (`i2a_ASN1_INTEGER` + newline):
    /// uppercase hex, two digits per octet, `00` for zero.
    pub fn to_srl(&self) -> String {
        if self.0.is_empty() {
            return "00\n".into();
        }
        let mut s: String = self.0.iter().map(|b| format!("{b:02X}")).collect();
        s.push('\n');
        s
    }

    pub(crate) fn to_rcgen(&self) -> rcgen::SerialNumber {
        rcgen::SerialNumber::from_slice(&self.0)
    }
}

/// What is wrong with a `ca.srl` file. Displayed after the file's name:
/// "cert/ca.srl is empty".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrlError {
    /// It is not UTF-8 text.
    NotText,
    /// It holds only white space.
    Empty,
    /// It holds a negative number.
    Negative,
    /// It holds more than one line.
    SeveralLines,
    /// It holds this character, which is not a hexadecimal digit.
    NotHex(char),
    /// It holds a serial of this many DER octets, more than
    /// `MAX_SERIAL_OCTETS`.
    TooLong(usize),
    /// The CA has issued the largest serial RFC 5280 allows.
    Exhausted,
}

impl fmt::Display for SrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SrlError::NotText => f.write_str("is not text"),
            SrlError::Empty => f.write_str("is empty"),
            SrlError::Negative => f.write_str("holds a negative serial number"),
            SrlError::SeveralLines => f.write_str("holds more than one line"),
            SrlError::NotHex(c) => write!(f, "holds {c:?}, which is not a hexadecimal digit"),
            SrlError::TooLong(n) => write!(
                f,
                "holds a serial of {n} octets; RFC 5280 allows at most {MAX_SERIAL_OCTETS}"
            ),
            SrlError::Exhausted => f.write_str("has reached the largest serial RFC 5280 allows"),
        }
    }
}

impl std::error::Error for SrlError {}

impl fmt::Display for Serial {
    /// Uppercase hex without separators, as in `ca.srl`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_srl().trim_end())
    }
}

impl Ord for Serial {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Serial {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_serials_are_positive_and_fit() {
        for _ in 0..200 {
            let s = Serial::random();
            assert!(s.der_len() <= 20);
            assert!(s.next().unwrap().next().unwrap().der_len() <= 20);
        }
    }

    #[test]
    fn increments_carry_like_a_bignum() {
        assert_eq!(
            Serial::from_be_bytes(&[0x00, 0xff])
                .next()
                .unwrap()
                .as_bytes(),
            &[0x01, 0x00]
        );
        assert_eq!(Serial::from_be_bytes(&[]).next().unwrap().as_bytes(), &[1]);
        let max = Serial::from_be_bytes(&[&[0x7f][..], &[0xff; 19]].concat());
        assert_eq!(max.der_len(), 20);
        assert!(max.next().is_none(), "2^159 needs 21 DER octets");
    }

    #[test]
    fn srl_round_trips_in_openssl_format() {
        let s = Serial::parse_srl(b"0a1b2C\n").unwrap();
        assert_eq!(s.to_srl(), "0A1B2C\n");
        assert_eq!(Serial::parse_srl(b"ABC").unwrap().to_srl(), "0ABC\n");
        assert_eq!(Serial::parse_srl(b"00").unwrap().to_srl(), "00\n");
        assert!(s < s.next().unwrap());
        assert!(Serial::from_be_bytes(&[0xff]) < Serial::from_be_bytes(&[1, 0]));
    }

    #[test]
    fn bad_srl_is_refused() {
        for (bad, why) in [
            (&b""[..], SrlError::Empty),
            (b"\n", SrlError::Empty),
            (b"-01", SrlError::Negative),
            (b"xyz", SrlError::NotHex('x')),
            (b"01\n02\n", SrlError::SeveralLines),
            (&[b'A'; 42], SrlError::TooLong(22)),
            (b"\xff\xfe", SrlError::NotText),
        ] {
            assert_eq!(Serial::parse_srl(bad), Err(why), "{bad:?}");
        }
        // 20 octets with the top bit set need a 21st sign octet in DER.
        assert_eq!(
            Serial::parse_srl("80".repeat(20).as_bytes()),
            Err(SrlError::TooLong(21))
        );
        assert!(Serial::parse_srl("7F".repeat(20).as_bytes()).is_ok());
        assert_eq!(
            SrlError::TooLong(21).to_string(),
            "holds a serial of 21 octets; RFC 5280 allows at most 20"
        );
    }
}
