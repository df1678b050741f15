//! Our certificates against the guide's (fixtures/openssl/guide, made by its
//! gen.sh), field by field. Every difference must be listed in docs/migration.md's
//! "Differences from the guide's gen.sh" table, and every listed difference
//! must exist: the documentation cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::common::*;
use x509_parser::objects::{oid_registry, oid2abbrev};
use x509_parser::prelude::*;

fn render_name(name: &X509Name<'_>) -> String {
    name.iter_attributes()
        .map(|a| {
            let ty = oid2abbrev(a.attr_type(), oid_registry()).unwrap_or("?");
            format!(
                "{ty}={}<{:?}>",
                a.as_str().unwrap_or("?"),
                a.attr_value().header.tag()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn ext_name(e: &X509Extension<'_>) -> String {
    match e.parsed_extension() {
        ParsedExtension::BasicConstraints(_) => "basicConstraints",
        ParsedExtension::KeyUsage(_) => "keyUsage",
        ParsedExtension::ExtendedKeyUsage(_) => "extendedKeyUsage",
        ParsedExtension::SubjectAlternativeName(_) => "subjectAltName",
        ParsedExtension::SubjectKeyIdentifier(_) => "subjectKeyIdentifier",
        ParsedExtension::AuthorityKeyIdentifier(_) => "authorityKeyIdentifier",
        _ => return format!("other({})", e.oid),
    }
    .to_string()
}

fn ext_value(
    e: &X509Extension<'_>,
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> String {
    let v = match e.parsed_extension() {
        ParsedExtension::BasicConstraints(bc) => {
            format!("CA:{} pathlen:{:?}", bc.ca, bc.path_len_constraint)
        }
        ParsedExtension::KeyUsage(ku) => ku.to_string(),
        ParsedExtension::ExtendedKeyUsage(eku) => {
            let mut v = Vec::new();
            if eku.server_auth {
                v.push("serverAuth")
            }
            if eku.client_auth {
                v.push("clientAuth")
            }
            if eku.any {
                v.push("any")
            }
            if !eku.other.is_empty() {
                v.push("other")
            }
            v.join(",")
        }
        ParsedExtension::SubjectAlternativeName(san) => format!("{:?}", san.general_names),
        ParsedExtension::SubjectKeyIdentifier(k) => {
            if k.0 == method1_key_id(cert) {
                "method1".into()
            } else {
                "other".into()
            }
        }
        ParsedExtension::AuthorityKeyIdentifier(a) => format!(
            "keyid={} issuer={} serial={}",
            match &a.key_identifier {
                Some(k) if Some(k.0.to_vec()) == ski(issuer) => "issuer-ski",
                Some(_) => "other",
                None => "absent",
            },
            a.authority_cert_issuer.is_some(),
            a.authority_cert_serial.is_some()
        ),
        other => format!("{other:?}"),
    };
    format!("critical={} {v}", e.critical)
}

fn serial_num(c: &X509Certificate<'_>) -> Vec<u8> {
    let r = c.raw_serial();
    r[r.iter().position(|b| *b != 0).unwrap_or(r.len())..].to_vec()
}

/// Whether `cur` = `prev` + 1 (big-endian magnitudes).
fn is_next(prev: &[u8], cur: &[u8]) -> bool {
    let mut v = prev.to_vec();
    for b in v.iter_mut().rev() {
        let (n, overflow) = b.overflowing_add(1);
        *b = n;
        if !overflow {
            return v == cur;
        }
    }
    v.insert(0, 1);
    v == cur
}

/// A comparable description of the set in `dir`: `role.field` -> value.
fn profile(dir: &Path) -> BTreeMap<String, String> {
    let ders: Vec<Vec<u8>> = ["ca.pem", "server.pem", "client.pem"]
        .iter()
        .map(|f| cert_der(&dir.join(f)))
        .collect();
    let certs: Vec<X509Certificate<'_>> = ders.iter().map(|d| parse(d)).collect();
    let mut p = BTreeMap::new();
    for (i, role) in ["ca", "server", "client"].iter().enumerate() {
        let c = &certs[i];
        let issuer = &certs[0];
        let mut put = |k: &str, v: String| {
            p.insert(format!("{role}.{k}"), v);
        };
        put("version", format!("{:?}", c.version()));
        put("signature", c.signature_algorithm.algorithm.to_id_string());
        put("subject", render_name(c.subject()));
        put("issuer", render_name(c.issuer()));
        put(
            "issuerMatchesCaSubject",
            (c.issuer().as_raw() == issuer.subject().as_raw()).to_string(),
        );
        let span = c.validity().not_after.to_datetime() - c.validity().not_before.to_datetime();
        put("validityDays", span.whole_days().to_string());
        put(
            "key",
            milvus_certs::CertInfo::from_der(&ders[i]).unwrap().key,
        );
        put("signatureVerifies", signature_ok(c, issuer).to_string());
        put(
            "serial",
            match i {
                0 => format!(
                    "random, {} octets",
                    if c.raw_serial().len() >= 16 {
                        "16-20"
                    } else {
                        "few"
                    }
                ),
                _ if is_next(&serial_num(&certs[i - 1]), &serial_num(c)) => "previous+1".into(),
                _ => "unrelated".into(),
            },
        );
        let key_pem = fs::read_to_string(dir.join(format!("{role}.key"))).unwrap();
        put("keyFile", key_pem.lines().next().unwrap().to_string());
        let mut order = Vec::new();
        for known in [
            "basicConstraints",
            "keyUsage",
            "extendedKeyUsage",
            "subjectAltName",
            "subjectKeyIdentifier",
            "authorityKeyIdentifier",
        ] {
            let found = c.extensions().iter().find(|e| ext_name(e) == known);
            put(
                known,
                found
                    .map(|e| ext_value(e, c, issuer))
                    .unwrap_or_else(|| "absent".into()),
            );
        }
        for e in c.extensions() {
            order.push(ext_name(e));
        }
        put("extensions", order.join(","));
    }
    let srl = fs::read_to_string(dir.join("ca.srl")).unwrap();
    let client_hex: String = serial_num(&certs[2])
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let srl_form = if srl == format!("{client_hex}\n") {
        "client serial, OpenSSL format"
    } else {
        "other"
    };
    p.insert("ca.srl".into(), srl_form.into());
    p
}

/// The `role.field` keys listed in docs/migration.md's differences table.
fn readme_differences() -> BTreeSet<String> {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migration.md"))
            .unwrap();
    let section = readme
        .split("## Differences from the guide's gen.sh")
        .nth(1)
        .expect("docs/migration.md has a 'Differences from the guide's gen.sh' section");
    let section = section.split("\n#").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn differences_from_the_guide_are_exactly_those_the_readme_lists() {
    let ours = gen_dir(&[]);
    let mine = profile(ours.path());
    let guide = profile(&fixtures().join("openssl/guide"));
    assert_eq!(
        mine.keys().collect::<Vec<_>>(),
        guide.keys().collect::<Vec<_>>()
    );
    let differing: BTreeSet<String> = mine
        .iter()
        .filter(|(k, v)| guide[*k] != **v)
        .map(|(k, _)| k.clone())
        .collect();
    let listed = readme_differences();
    let unlisted: Vec<_> = differing
        .difference(&listed)
        .map(|k| format!("{k}: ours {:?}, guide {:?}", mine[k], guide[k]))
        .collect();
    let stale: Vec<_> = listed.difference(&differing).collect();
    assert!(
        unlisted.is_empty(),
        "differences not listed in docs/migration.md:\n{}",
        unlisted.join("\n")
    );
    assert!(
        stale.is_empty(),
        "docs/migration.md lists differences that do not exist: {stale:?}"
    );
    // The things that must not differ, spelled out.
    for same in [
        "server.subject",
        "client.subject",
        "server.extendedKeyUsage",
        "ca.key",
        "server.key",
        "server.keyFile",
        "ca.srl",
        "server.validityDays",
        "ca.validityDays",
        "server.signature",
    ] {
        assert_eq!(mine[same], guide[same], "{same}");
    }
}
