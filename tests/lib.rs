//! The integration tests: one test binary (linking one is much faster than
//! fourteen), one module per command or concern. Each runs the real
//! `milvus-certs` binary against real peers (openssl, rustls, keytool, the
//! Milvus server); `common` holds the shared helpers and the `Test` builder.

// Nothing imports this crate: its `pub` helpers are for its own modules.
#![allow(unreachable_pub)]
// Tests say on stderr what they saw (seeds, counts, SKIPPED).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

mod add;
mod cli;
mod crash;
mod doctor;
mod etcd;
mod export;
mod faults;
mod folders;
mod r#gen;
mod guide_compat;
mod hardening;
mod inspect;
mod kafka;
mod milvus;
mod outputs;
mod pkcs12;
mod properties;
mod renew;
mod schedule;
mod security;
mod stack;
mod stack_milvus;
