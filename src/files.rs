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

/// All seven, in the order `gen` writes and reports them.
pub const ALL: [&str; 7] = [
    CA_KEY, CA_PEM, CA_SRL, SERVER_KEY, SERVER_PEM, CLIENT_KEY, CLIENT_PEM,
];

/// Whether milvus-certs writes a file of this name into a certificate
/// directory: the journal of an interrupted write may name only these.
pub fn is_managed(name: &str) -> bool {
    ALL.contains(&name)
}
