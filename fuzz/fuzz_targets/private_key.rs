//! Private key files (`ca.key`, `server.key`, `client.key`): PKCS#8,
//! PKCS#1, SEC1, encrypted or not, in PEM.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use milvus_certs::fuzz::private_key;

fuzz_target!(|data: &[u8]| {
    let _ = private_key(Path::new("fuzz.key"), data);
});
