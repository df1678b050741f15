//! A whole certificate directory as `inspect --dir` and `renew` read it: the
//! input is split into ca.pem, ca.key, ca.srl, server.pem and server.key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milvus_certs::inspect::{InspectOptions, inspect};
use time::OffsetDateTime;

const FILES: [&str; 5] = ["ca.pem", "ca.key", "ca.srl", "server.pem", "server.key"];

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    // Parts are separated by a NUL byte, which PEM never contains.
    for (name, part) in FILES.iter().zip(data.split(|&b| b == 0)) {
        std::fs::write(dir.path().join(name), part).unwrap();
    }
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let opts = InspectOptions {
        dir: Some(dir.path().to_path_buf()),
        paths: Vec::new(),
        warn_days: 30,
        server_names: Vec::new(),
        read_only: true,
        ..InspectOptions::default()
    };
    let _ = inspect(&opts, now);
    let _ = milvus_certs::fuzz::load_ca(dir.path(), now);
});
