//! The names of the files in a certificate directory (the guide's seven).

/// The CA's private key.
pub const CA_KEY: &str = "ca.key";
/// The CA certificate, which Milvus and clients trust.
pub const CA_PEM: &str = "ca.pem";
/// The last serial number the CA issued (OpenSSL's `-CAserial` file).
pub const CA_SRL: &str = "ca.srl";
/// Milvus's private key.
pub const SERVER_KEY: &str = "server.key";
/// Milvus's certificate.
pub const SERVER_PEM: &str = "server.pem";
/// The client's private key (`tlsMode: 2`).
pub const CLIENT_KEY: &str = "client.key";
/// The client's certificate (`tlsMode: 2`).
pub const CLIENT_PEM: &str = "client.pem";

/// The trust bundle `export --s3` writes: this machine's public roots, then
/// `ca.pem` (Milvus 2.3's C++ storage trusts only the system bundle).
pub(crate) const CA_BUNDLE: &str = "ca-bundle.crt";

/// All seven, in the order `gen` writes and reports them.
pub(crate) const ALL: [&str; 7] = [
    CA_KEY, CA_PEM, CA_SRL, SERVER_KEY, SERVER_PEM, CLIENT_KEY, CLIENT_PEM,
];

/// Names `add NAME` may not take: the guide's three certificates, and the
/// backup folder.
pub(crate) const RESERVED: [&str; 4] = ["ca", "server", "client", "backup"];

/// Whether `name` may name a certificate made by `milvus-certs add`: one
/// lowercase DNS label (RFC 1123: a-z, 0-9 and '-', not at either end, at
/// most 63 characters), none of [`RESERVED`]. So its files are plain names
/// in the directory (no '.', '/', or leading '-'), never one of the seven.
pub(crate) fn is_added_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !RESERVED.contains(&name)
}

/// The certificate file of an added certificate `NAME`: `NAME.pem`.
pub(crate) fn added_cert(name: &str) -> String {
    format!("{name}.pem")
}

/// The key file of an added certificate `NAME`: `NAME.key`.
pub(crate) fn added_key(name: &str) -> String {
    format!("{name}.key")
}

/// The NAME of `NAME.pem`, when it is a name `add` makes.
pub(crate) fn added_name_of_cert(file: &str) -> Option<&str> {
    file.strip_suffix(".pem").filter(|n| is_added_name(n))
}

/// Whether milvus-certs writes a file of this name into a certificate
/// directory: the journal of an interrupted write may name only these (the
/// seven, and `NAME.pem`/`NAME.key` of a certificate made by `add`).
pub(crate) fn is_managed(name: &str) -> bool {
    ALL.contains(&name)
        || name
            .strip_suffix(".pem")
            .or_else(|| name.strip_suffix(".key"))
            .is_some_and(is_added_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_names_are_plain_lowercase_labels() {
        for ok in ["etcd", "etcd-client", "s3", "kafka-client", "a", "x1"] {
            assert!(is_added_name(ok), "{ok}");
            assert!(is_managed(&added_cert(ok)) && is_managed(&added_key(ok)));
        }
        let long = "a".repeat(64);
        for bad in [
            "", "ca", "server", "client", "backup", "-x", "x-", "Etcd", "a.b", "a/b", "..",
            "COMMIT", "a_b", " a", &long,
        ] {
            assert!(!is_added_name(bad), "{bad:?}");
        }
        for bad in [
            "COMMIT",
            "etcd.crt",
            "etcd.pem.tmp",
            "../etcd.pem",
            ".pem",
            "backup.key",
        ] {
            assert!(!is_managed(bad), "{bad:?}");
        }
        assert!(ALL.iter().all(|f| is_managed(f)));
    }
}
