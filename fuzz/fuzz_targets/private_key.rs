//! Private key files (`ca.key`, `server.key`, `client.key`): PKCS#8,
//! PKCS#1, SEC1, encrypted or not, in PEM.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use milvus_certs::keys::parse_private_key;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = parse_private_key(Path::new("fuzz.key"), data) {
        let _ = milvus_certs::keys::key_identifier(&key);
    }
});
