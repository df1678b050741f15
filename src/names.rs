//! Subject names and subjectAltNames: validation and conversion to rcgen's types.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use rcgen::{DistinguishedName, DnType, DnValue, SanType};

use crate::error::{Error, Result};

/// The six subject attributes of the guide's `-subj` line, in its order
/// `/C=/ST=/L=/O=/OU=/CN=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// countryName: two letters, written as a PrintableString.
    pub country: String,
    /// stateOrProvinceName.
    pub state: String,
    /// localityName.
    pub locality: String,
    /// organizationName.
    pub organization: String,
    /// organizationalUnitName.
    pub org_unit: String,
    /// commonName.
    pub common_name: String,
}

impl Default for Subject {
    /// The guide's `gen.sh` variables.
    fn default() -> Self {
        Subject {
            country: "US".into(),
            state: "CA".into(),
            locality: "Redwood City".into(),
            organization: "zilliz".into(),
            org_unit: "devops".into(),
            common_name: "localhost".into(),
        }
    }
}

/// Upper bounds from RFC 5280 appendix A.1 (ub-state-name and friends).
const UB_STATE_LOCALITY: usize = 128;
const UB_ORG_CN: usize = 64;

impl Subject {
    /// Checks every attribute; `cn_option` names the option that set the common name.
    pub(crate) fn validate(&self, cn_option: &'static str) -> Result<()> {
        let c = &self.country;
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(Error::invalid(
                "--country",
                c,
                "must be a two-letter country code (ISO 3166), like US",
            ));
        }
        check_text("--state", &self.state, UB_STATE_LOCALITY)?;
        check_text("--locality", &self.locality, UB_STATE_LOCALITY)?;
        check_text("--organization", &self.organization, UB_ORG_CN)?;
        check_text("--org-unit", &self.org_unit, UB_ORG_CN)?;
        check_text(cn_option, &self.common_name, UB_ORG_CN)
    }

    /// The distinguished name in OpenSSL's `-subj` order; C as PrintableString
    /// (X.520 fixes its type), the rest as UTF8String (OpenSSL's `utf8only` mask).
    pub(crate) fn to_dn(&self) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        // Validated to be two ASCII letters, which PrintableString always accepts.
        match rcgen::string::PrintableString::try_from(self.country.as_str()) {
            Ok(p) => dn.push(DnType::CountryName, DnValue::PrintableString(p)),
            Err(_) => dn.push(DnType::CountryName, self.country.as_str()),
        }
        dn.push(DnType::StateOrProvinceName, self.state.as_str());
        dn.push(DnType::LocalityName, self.locality.as_str());
        dn.push(DnType::OrganizationName, self.organization.as_str());
        dn.push(DnType::OrganizationalUnitName, self.org_unit.as_str());
        dn.push(DnType::CommonName, self.common_name.as_str());
        dn
    }
}

fn check_text(option: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(option, value, "must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            option,
            value,
            "must not contain control characters",
        ));
    }
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(
            option,
            value,
            format!("is {n} characters long; at most {max} are allowed (RFC 5280): shorten it"),
        ));
    }
    Ok(())
}

/// A subjectAltName: an IP address literal or a DNS name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SanName {
    /// A dNSName (RFC 5280 4.2.1.6), possibly a `*.` wildcard.
    Dns(String),
    /// An iPAddress.
    Ip(IpAddr),
}

impl SanName {
    /// Parses a name as given to `--san` or `--common-name`: an IPv4 or IPv6
    /// literal (brackets allowed) becomes an IP SAN, anything else must be a
    /// valid DNS name.
    pub fn parse(option: &'static str, s: &str) -> Result<SanName> {
        let unbracketed = s
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(s);
        if let Ok(ip) = IpAddr::from_str(unbracketed) {
            return Ok(SanName::Ip(ip));
        }
        if let Some(e) = url_or_port_error(option, s) {
            return Err(e);
        }
        check_dns_name(s).map_err(|reason| Error::invalid(option, s, reason))?;
        Ok(SanName::Dns(s.to_ascii_lowercase()))
    }

    /// Why this name cannot be issued, if it cannot: a dNSName read from a
    /// certificate (not from `--san`) that RFC 1034 does not allow.
    pub(crate) fn dns_problem(&self) -> Option<String> {
        match self {
            SanName::Dns(d) => check_dns_name(d).err().map(|e| e.to_string()),
            SanName::Ip(_) => None,
        }
    }

    pub(crate) fn to_rcgen(&self) -> Result<SanType> {
        Ok(match self {
            SanName::Ip(ip) => SanType::IpAddress(*ip),
            SanName::Dns(d) => {
                SanType::DnsName(d.as_str().try_into().map_err(|source| Error::Crypto {
                    what: "encode a DNS name",
                    source,
                })?)
            }
        })
    }
}

impl fmt::Display for SanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SanName::Dns(d) => f.write_str(d),
            SanName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The error for a name given as a URL or with a port
/// (`https://milvus.example.com`, `milvus.example.com:19530`,
/// `[::1]:19530`), saying what to pass instead; None for anything else.
/// A certificate names hosts only: a dNSName or iPAddress SAN has no scheme
/// and no port (RFC 5280 4.2.1.6), and clients compare just the host.
pub(crate) fn url_or_port_error(option: &'static str, s: &str) -> Option<Error> {
    let (scheme, rest) = match s.find("://") {
        Some(i) => (true, &s[i + 3..]),
        None => (false, s),
    };
    let (path, authority) = match rest.find(['/', '?', '#']) {
        Some(i) => (true, &rest[..i]),
        None => (false, rest),
    };
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, Some(p)),
            Some(_) => return None,
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if !(scheme || path || port.is_some()) || host.is_empty() {
        return None;
    }
    let bare = match IpAddr::from_str(host) {
        Ok(ip) => ip.to_string(),
        Err(_) if check_dns_name(host).is_ok() => host.to_ascii_lowercase(),
        Err(_) => return None,
    };
    let what = match (scheme || path, port.is_some()) {
        (true, _) => "is a URL",
        (false, _) => "has a port",
    };
    Some(Error::invalid(
        option,
        s,
        format!(
            "{what}, but a certificate names only the host (no scheme, port or path): \
             pass {option} {bare}"
        ),
    ))
}

/// A DNS name as RFC 1034 3.5 / RFC 1123 2.1 allow it in a certificate, with
/// an optional leading `*.` wildcard label (RFC 6125 6.4.3).
fn check_dns_name(s: &str) -> std::result::Result<(), DnsNameError> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err(DnsNameError::Empty);
    }
    if name.len() > 253 {
        return Err(DnsNameError::TooLong(name.len()));
    }
    let rest = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = rest.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(DnsNameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(DnsNameError::LongLabel(label.len()));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(if c == '*' {
                DnsNameError::Wildcard
            } else {
                DnsNameError::BadChar(c)
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DnsNameError::HyphenAtEnd(label.to_string()));
        }
    }
    // "1.2.3" or "10.0.0.256" are mistyped addresses, not host names.
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DnsNameError::BadAddress);
    }
    Ok(())
}

/// Why a name is not a DNS name a certificate may hold; displayed after the
/// value, with what to do.
#[derive(Debug, PartialEq, Eq)]
enum DnsNameError {
    Empty,
    TooLong(usize),
    EmptyLabel,
    LongLabel(usize),
    BadChar(char),
    /// A `*` other than a whole leftmost label.
    Wildcard,
    HyphenAtEnd(String),
    BadAddress,
}

impl fmt::Display for DnsNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsNameError::Empty => f.write_str("is neither an IP address nor a DNS name"),
            DnsNameError::TooLong(n) => {
                write!(
                    f,
                    "is {n} characters long; a DNS name has at most 253: shorten it"
                )
            }
            DnsNameError::EmptyLabel => f.write_str(
                "has an empty label (two dots in a row, or a leading dot): remove the extra dot",
            ),
            DnsNameError::LongLabel(n) => write!(
                f,
                "has a label of {n} characters; a DNS label has at most 63: shorten it"
            ),
            DnsNameError::Wildcard => f.write_str(
                "has a '*' that is not the whole leftmost label; a wildcard name is \
                 `*.example.com` (RFC 6125 6.4.3), which matches one label only",
            ),
            DnsNameError::BadChar(c) => write!(
                f,
                "contains {c:?}, which is not allowed in a DNS name \
                 (letters, digits, '-' and '_' only; use an IP literal for an address)"
            ),
            DnsNameError::HyphenAtEnd(label) => write!(
                f,
                "has a label {label:?} that starts or ends with '-': remove the '-'"
            ),
            DnsNameError::BadAddress => {
                f.write_str("looks like an IP address but is not a valid one: check the address")
            }
        }
    }
}

/// The server certificate's names: the common name first (as gen.sh's
/// `DNS = $CommonName`), then every `--san`, without duplicates.
pub(crate) fn server_names(common_name: &str, sans: &[SanName]) -> Result<Vec<SanName>> {
    let mut names = vec![SanName::parse("--common-name", common_name)?];
    for san in sans {
        if !names.contains(san) {
            names.push(san.clone());
        }
    }
    Ok(names)
}

/// The names `gen` gives a server whose common name is `localhost`: the
/// name, then the IPv4 and IPv6 loopback addresses, then every `--san`.
///
/// Clients that connect to an address (`https://127.0.0.1:19530`, pymilvus's
/// `uri="https://127.0.0.1:19530"`) match it against iPAddress SANs only, never
/// against a dNSName (RFC 6125 6.2.1, RFC 5280 4.2.1.6), so a certificate
/// naming only `DNS:localhost`, as the guide's gen.sh makes, fails there with
/// "doesn't contain any IP SANs". Any other common name is left as it is:
/// which addresses reach that server is for `--san` to say.
pub(crate) fn gen_server_names(common_name: &str, sans: &[SanName]) -> Result<Vec<SanName>> {
    let mut extra = Vec::new();
    if SanName::parse("--common-name", common_name)? == SanName::Dns("localhost".into()) {
        extra.push(SanName::Ip(IpAddr::from([127, 0, 0, 1])));
        extra.push(SanName::Ip(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
    }
    extra.extend(sans.iter().cloned());
    server_names(common_name, &extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_become_ip_sans() {
        assert_eq!(
            SanName::parse("--san", "10.0.0.5").unwrap(),
            SanName::Ip("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            SanName::parse("--san", "[::1]").unwrap(),
            SanName::Ip("::1".parse().unwrap())
        );
        assert_eq!(
            SanName::parse("--san", "Milvus-Proxy").unwrap(),
            SanName::Dns("milvus-proxy".into())
        );
        assert!(SanName::parse("--san", "*.milvus.svc").is_ok());
    }

    #[test]
    fn bad_names_are_refused() {
        for (bad, why) in [
            ("", DnsNameError::Empty),
            ("a..b", DnsNameError::EmptyLabel),
            ("-a.b", DnsNameError::HyphenAtEnd("-a".into())),
            ("a b", DnsNameError::BadChar(' ')),
            ("*.*.example.com", DnsNameError::Wildcard),
            ("a*.example.com", DnsNameError::Wildcard),
            ("10.0.0.256", DnsNameError::BadAddress),
            ("1.2.3", DnsNameError::BadAddress),
            ("x\u{0}y", DnsNameError::BadChar('\0')),
            ("a*.b", DnsNameError::Wildcard),
            (&"a".repeat(64), DnsNameError::LongLabel(64)),
            (
                &format!("{}.com", "a.".repeat(130)),
                DnsNameError::TooLong(264),
            ),
        ] {
            assert_eq!(check_dns_name(bad), Err(why), "{bad:?}");
            let err = SanName::parse("--san", bad).expect_err(bad).to_string();
            assert!(err.starts_with("invalid --san "), "{err}");
        }
    }

    #[test]
    fn subject_checks() {
        assert!(Subject::default().validate("--common-name").is_ok());
        for (field, value) in [("c", "USA"), ("c", "1A"), ("o", ""), ("l", "a\nb")] {
            let mut s = Subject::default();
            match field {
                "c" => s.country = value.into(),
                "o" => s.organization = value.into(),
                _ => s.locality = value.into(),
            }
            assert!(s.validate("--common-name").is_err(), "{field}={value:?}");
        }
        let s = Subject {
            common_name: "x".repeat(65),
            ..Subject::default()
        };
        assert!(s.validate("--common-name").is_err());
    }

    #[test]
    fn server_names_dedupe_and_keep_cn_first() {
        let sans = [
            SanName::parse("--san", "localhost").unwrap(),
            SanName::parse("--san", "10.0.0.5").unwrap(),
        ];
        let names = server_names("localhost", &sans).unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(names[0], SanName::Dns("localhost".into()));
    }

    #[test]
    fn urls_and_ports_say_what_to_pass_instead() {
        for (given, bare) in [
            ("milvus.example.com:19530", "milvus.example.com"),
            ("https://milvus.example.com", "milvus.example.com"),
            (
                "https://Milvus.Example.com:19530/v2/vectordb",
                "milvus.example.com",
            ),
            ("10.0.0.5:19530", "10.0.0.5"),
            ("[::1]:19530", "::1"),
            ("https://[::1]:19530", "::1"),
            ("tcp://127.0.0.1", "127.0.0.1"),
        ] {
            let err = SanName::parse("--san", given).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!(": pass --san {bare}")),
                "{given}: {err}"
            );
            assert_eq!(SanName::parse("--san", bare).unwrap().to_string(), bare);
        }
        let err = SanName::parse("--server-name", "milvus:19530").unwrap_err();
        assert!(
            err.to_string().contains("pass --server-name milvus"),
            "{err}"
        );
        // Not a URL or host:port: the usual reasons.
        for other in ["a:b", "a b:1", "x:1:2", "https://", ":19530"] {
            let err = SanName::parse("--san", other).unwrap_err().to_string();
            assert!(!err.contains("pass --san"), "{other}: {err}");
        }
    }

    #[test]
    fn localhost_also_names_the_loopback_addresses() {
        let names = gen_server_names("localhost", &[]).unwrap();
        let shown: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["localhost", "127.0.0.1", "::1"]);
        // --san keeps adding, without repeating a loopback given again.
        let sans = [
            SanName::parse("--san", "10.0.0.5").unwrap(),
            SanName::parse("--san", "127.0.0.1").unwrap(),
        ];
        let shown: Vec<String> = gen_server_names("LocalHost", &sans)
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["localhost", "127.0.0.1", "::1", "10.0.0.5"]);
        // Another name gets no addresses it did not ask for.
        let names = gen_server_names("milvus.example.com", &[]).unwrap();
        assert_eq!(names, [SanName::Dns("milvus.example.com".into())]);
    }
}
