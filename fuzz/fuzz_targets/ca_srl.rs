//! `ca.srl`, OpenSSL's serial file: hex digits and a newline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use milvus_certs::Serial;

fuzz_target!(|data: &[u8]| {
    if let Ok(serial) = Serial::parse_srl(data) {
        // What we write back must parse to the same serial.
        let again = Serial::parse_srl(serial.to_srl().as_bytes()).expect("to_srl parses");
        assert_eq!(again.as_bytes(), serial.as_bytes());
        let _ = serial.next();
    }
});
