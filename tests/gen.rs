//! `milvus-certs gen`: every field of every file, real peers, refusals.

use std::fs;
use std::path::Path;

use rustls::pki_types::PrivateKeyDer;

use crate::common::*;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::oid_registry as oids;
use x509_parser::prelude::*;

fn subject_attrs(name: &X509Name<'_>) -> Vec<(String, Tag, String)> {
    name.iter_rdn()
        .map(|rdn| {
            let attrs: Vec<_> = rdn.iter().collect();
            assert_eq!(attrs.len(), 1, "multi-valued RDN");
            let a = attrs[0];
            let short = x509_parser::objects::oid2abbrev(
                a.attr_type(),
                x509_parser::objects::oid_registry(),
            )
            .unwrap_or("?")
            .to_string();
            (
                short,
                a.attr_value().header.tag(),
                a.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn key_usage(cert: &X509Certificate<'_>) -> (bool, KeyUsage) {
    let ext = cert
        .get_extension_unique(&oids::OID_X509_EXT_KEY_USAGE)
        .unwrap()
        .expect("keyUsage present");
    match ext.parsed_extension() {
        ParsedExtension::KeyUsage(ku) => (ext.critical, *ku),
        _ => unreachable!(),
    }
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let san = cert
        .subject_alternative_name()
        .unwrap()
        .expect("SAN present");
    assert!(!san.critical, "SAN is critical only with an empty subject");
    san.value
        .general_names
        .iter()
        .map(|g| match g {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(b) if b.len() == 4 => {
                format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            GeneralName::IPAddress(b) => {
                let a: [u8; 16] = (*b).try_into().unwrap();
                format!("IP:{}", std::net::Ipv6Addr::from(a))
            }
            other => panic!("unexpected SAN {other:?}"),
        })
        .collect()
}

fn serial_bytes(cert: &X509Certificate<'_>) -> Vec<u8> {
    let raw = cert.raw_serial();
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    raw[start..].to_vec()
}

/// Big-endian `bytes + n`, written independently of the library's Serial.
fn add(bytes: &[u8], n: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut carry = u16::from(n);
    for b in out.iter_mut().rev() {
        let sum = u16::from(*b) + carry;
        *b = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    if carry > 0 {
        out.insert(0, carry as u8);
    }
    out
}

#[test]
fn gen_writes_the_seven_files_field_by_field() {
    let before = ::time::OffsetDateTime::now_utc();
    let d = gen_dir(&[
        "--common-name",
        "milvus.example.com",
        "--san",
        "10.0.0.5",
        "--san",
        "milvus-proxy",
        "--san",
        "::1",
    ]);
    let after = ::time::OffsetDateTime::now_utc();
    let dir = d.path();
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // The seven, and the lock file (0600, empty: see store::LOCK_FILE).
    let mut seven: Vec<String> = SEVEN.iter().map(|s| s.to_string()).collect();
    seven.push(LOCK_FILE.into());
    seven.sort();
    assert_eq!(
        names, seven,
        "exactly the seven files and the lock, no leftovers"
    );
    assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600);
    assert_eq!(fs::metadata(dir.join(LOCK_FILE)).unwrap().len(), 0);

    let ca_der = cert_der(&dir.join("ca.pem"));
    let ca = parse(&ca_der);
    let server_der = cert_der(&dir.join("server.pem"));
    let server = parse(&server_der);
    let client_der = cert_der(&dir.join("client.pem"));
    let client = parse(&client_der);

    let expected_subject = |cn: &str| {
        vec![
            ("C".to_string(), Tag::PrintableString, "US".to_string()),
            ("ST".into(), Tag::Utf8String, "CA".into()),
            ("L".into(), Tag::Utf8String, "Redwood City".into()),
            ("O".into(), Tag::Utf8String, "zilliz".into()),
            ("OU".into(), Tag::Utf8String, "devops".into()),
            ("CN".into(), Tag::Utf8String, cn.to_string()),
        ]
    };

    // CA
    assert_eq!(ca.version(), X509Version::V3);
    assert_eq!(
        ca.signature_algorithm.algorithm,
        oids::OID_PKCS1_SHA256WITHRSA
    );
    assert_eq!(
        subject_attrs(ca.subject()),
        expected_subject("milvus.example.com CA")
    );
    assert_eq!(ca.subject().as_raw(), ca.issuer().as_raw(), "self-signed");
    assert!(signature_ok(&ca, &ca));
    let bc = ca.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));
    let (crit, ku) = key_usage(&ca);
    assert!(crit);
    assert!(ku.key_cert_sign() && ku.crl_sign());
    assert_eq!(ku.flags, (1 << 5) | (1 << 6), "keyCertSign + cRLSign only");
    assert!(ca.extended_key_usage().unwrap().is_none());
    let ca_ski = ski(&ca).unwrap();
    assert_eq!(ca_ski, method1_key_id(&ca));
    assert_eq!(aki(&ca).unwrap(), ca_ski);
    let span = ca.validity().not_after.to_datetime() - ca.validity().not_before.to_datetime();
    assert_eq!(
        span,
        ::time::Duration::days(36500) + ::time::Duration::minutes(5)
    );
    assert!(ca.validity().not_before.to_datetime() <= before - ::time::Duration::minutes(4));
    assert!(
        ca.validity().not_after.to_datetime()
            >= before.replace_nanosecond(0).unwrap() + ::time::Duration::days(36500)
    );
    assert!(ca.validity().not_after.to_datetime() <= after + ::time::Duration::days(36500));

    // Leaves
    for (cert, eku_server) in [(&server, true), (&client, false)] {
        assert_eq!(cert.version(), X509Version::V3);
        assert_eq!(
            cert.signature_algorithm.algorithm,
            oids::OID_PKCS1_SHA256WITHRSA
        );
        assert_eq!(
            subject_attrs(cert.subject()),
            expected_subject("milvus.example.com")
        );
        assert_eq!(cert.issuer().as_raw(), ca.subject().as_raw());
        assert!(signature_ok(cert, &ca), "signed by the CA");
        assert!(!signature_ok(cert, cert));
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(!bc.value.ca);
        let (_, ku) = key_usage(cert);
        assert!(ku.digital_signature() && ku.non_repudiation() && ku.key_encipherment());
        assert_eq!(
            ku.flags, 0b111,
            "digitalSignature, nonRepudiation, keyEncipherment only"
        );
        let eku = cert.extended_key_usage().unwrap().unwrap();
        assert!(!eku.critical);
        assert_eq!(eku.value.server_auth, eku_server);
        assert_eq!(eku.value.client_auth, !eku_server);
        assert!(eku.value.other.is_empty() && !eku.value.any);
        assert_eq!(
            sans(cert),
            [
                "DNS:milvus.example.com",
                "IP:10.0.0.5",
                "DNS:milvus-proxy",
                "IP:::1"
            ]
        );
        assert_eq!(ski(cert).unwrap(), method1_key_id(cert));
        assert_eq!(aki(cert).unwrap(), ca_ski, "AKI = the CA's SKI");
        let span =
            cert.validity().not_after.to_datetime() - cert.validity().not_before.to_datetime();
        assert_eq!(
            span,
            ::time::Duration::days(3650) + ::time::Duration::minutes(5)
        );
        // UTCTime before 2050 (RFC 5280 4.1.2.5).
        assert!(cert.validity().not_after.to_datetime().year() < 2050);
        match cert.public_key().parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(rsa) => assert_eq!(rsa.key_size(), 2048),
            other => panic!("{other:?}"),
        }
    }
    // The CA's notAfter is past 2050: GeneralizedTime, raw tag 0x18.
    let tbs = ca.tbs_certificate.as_ref();
    assert!(
        tbs.windows(2).any(|w| w == [0x18, 0x0f]),
        "GeneralizedTime for 2126"
    );

    // Serials: random and positive for the CA, then +1, +1; ca.srl = the last.
    let s_ca = serial_bytes(&ca);
    assert!(s_ca.len() <= 20 && s_ca.len() >= 16, "159 random bits");
    assert!(ca.raw_serial()[0] & 0x80 == 0, "positive");
    assert_eq!(
        ca.raw_serial().len(),
        s_ca.len(),
        "no superfluous sign octet"
    );
    assert_eq!(serial_bytes(&server), add(&s_ca, 1));
    assert_eq!(serial_bytes(&client), add(&s_ca, 2));
    let srl = fs::read_to_string(dir.join("ca.srl")).unwrap();
    let expected: String = serial_bytes(&client)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(
        srl,
        format!("{expected}\n"),
        "OpenSSL's format: uppercase, even digits, newline"
    );

    // Keys: PKCS#8 PEM, each matching its certificate.
    for (k, c) in [
        ("ca.key", &ca),
        ("server.key", &server),
        ("client.key", &client),
    ] {
        let text = fs::read_to_string(dir.join(k)).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{k}");
        let kp = rcgen::KeyPair::from_pem(&text).unwrap();
        assert_eq!(
            kp.public_key_raw(),
            &c.public_key().subject_public_key.data[..],
            "{k}"
        );
        assert_eq!(mode(&dir.join(k)), 0o600, "{k}");
    }
    for f in ["ca.pem", "server.pem", "client.pem", "ca.srl"] {
        assert_eq!(mode(&dir.join(f)), 0o644, "{f}");
    }
}

#[test]
fn modes_hold_whatever_the_umask() {
    for umask in ["000", "077", "027"] {
        let d = tempfile::tempdir().unwrap();
        shell_ok(
            "sh",
            d.path(),
            &format!("umask {umask} && exec \"$BIN\" gen --dir cert --key-type ecdsa-p256"),
            &[],
        );
        let dir = d.path().join("cert");
        for f in SEVEN {
            let want = if f.ends_with(".key") { 0o600 } else { 0o644 };
            assert_eq!(mode(&dir.join(f)), want, "{f} under umask {umask}");
        }
    }
}

#[test]
fn openssl_verifies_server_and_client_strictly() {
    let d = gen_dir(&["--san", "10.1.2.3", "--san", "milvus-proxy"]);
    let dir = d.path();
    for strict in [false, true] {
        let mut base = vec!["verify", "-CAfile", "ca.pem"];
        if strict {
            base.push("-x509_strict");
        }
        let with = |extra: &[&'static str]| {
            let mut a = base.clone();
            a.extend_from_slice(extra);
            a
        };
        assert!(openssl_ok(
            dir,
            &with(&[
                "-purpose",
                "sslserver",
                "-verify_hostname",
                "localhost",
                "server.pem"
            ])
        ));
        assert!(openssl_ok(
            dir,
            &with(&[
                "-purpose",
                "sslserver",
                "-verify_hostname",
                "milvus-proxy",
                "server.pem"
            ])
        ));
        assert!(openssl_ok(
            dir,
            &with(&[
                "-purpose",
                "sslserver",
                "-verify_ip",
                "10.1.2.3",
                "server.pem"
            ])
        ));
        assert!(openssl_ok(
            dir,
            &with(&["-purpose", "sslclient", "client.pem"])
        ));
        // ... and it can fail: wrong name, wrong purpose.
        assert!(!openssl_ok(
            dir,
            &with(&[
                "-purpose",
                "sslserver",
                "-verify_hostname",
                "other",
                "server.pem"
            ])
        ));
        assert!(!openssl_ok(
            dir,
            &with(&["-purpose", "sslclient", "server.pem"])
        ));
        assert!(!openssl_ok(
            dir,
            &with(&["-purpose", "sslserver", "client.pem"])
        ));
    }
    // OpenSSL reads our PKCS#8 keys and they match the certificates.
    for (k, c) in [
        ("server.key", "server.pem"),
        ("client.key", "client.pem"),
        ("ca.key", "ca.pem"),
    ] {
        let pk = openssl(dir, &["pkey", "-in", k, "-pubout"]);
        let cp = openssl(dir, &["x509", "-in", c, "-noout", "-pubkey"]);
        assert!(pk.status.success());
        assert_eq!(pk.stdout, cp.stdout, "{k} matches {c}");
    }
}

#[test]
fn rustls_handshakes_one_way_and_mutual() {
    let d = gen_dir(&["--common-name", "milvus.example.com", "--san", "127.0.0.1"]);
    let dir = d.path();
    let ca = dir.join("ca.pem");
    let client_files = (dir.join("client.pem"), dir.join("client.key"));
    let client_pair = Some((client_files.0.as_path(), client_files.1.as_path()));

    // tlsMode 1: one-way.
    handshake(
        server_config(dir, None),
        client_config(&ca, None),
        "milvus.example.com",
    )
    .unwrap();
    handshake(
        server_config(dir, None),
        client_config(&ca, None),
        "127.0.0.1",
    )
    .unwrap();
    let wrong = handshake(
        server_config(dir, None),
        client_config(&ca, None),
        "milvus-proxy",
    );
    assert!(wrong.is_err(), "a name not on the certificate must fail");

    // tlsMode 2: mutual, client certificate verified against ca.pem.
    handshake(
        server_config(dir, Some(&ca)),
        client_config(&ca, client_pair),
        "milvus.example.com",
    )
    .unwrap();
    let anonymous = handshake(
        server_config(dir, Some(&ca)),
        client_config(&ca, None),
        "milvus.example.com",
    );
    assert!(
        anonymous.is_err(),
        "tlsMode 2 requires a client certificate"
    );

    // The guide's client.pem (serverAuth only) is rejected in tlsMode 2, even
    // by a server trusting the guide's own CA.
    let guide = fixtures().join("openssl/guide");
    let guide_client = handshake(
        server_config(&guide, Some(&guide.join("ca.pem"))),
        client_config(
            &guide.join("ca.pem"),
            Some((&guide.join("client.pem"), &guide.join("client.key"))),
        ),
        "localhost",
    );
    let err = guide_client.unwrap_err().to_string();
    assert!(
        err.contains("ExtendedKeyUsage") || err.contains("key usage") || err.contains("Usage"),
        "{err}"
    );
    // ... while ours, under the same conditions, is accepted.
    handshake(
        server_config(dir, Some(&ca)),
        client_config(&ca, client_pair),
        "127.0.0.1",
    )
    .unwrap();
}

#[test]
fn every_key_type_works() {
    for (kt, sig_oid) in [
        ("rsa3072", oids::OID_PKCS1_SHA256WITHRSA),
        ("rsa4096", oids::OID_PKCS1_SHA256WITHRSA),
        ("ecdsa-p256", oids::OID_SIG_ECDSA_WITH_SHA256),
        ("ecdsa-p384", oids::OID_SIG_ECDSA_WITH_SHA384),
        ("ed25519", oids::OID_SIG_ED25519),
    ] {
        let d = gen_dir(&["--key-type", kt]);
        let dir = d.path();
        let ca_der = cert_der(&dir.join("ca.pem"));
        let ca = parse(&ca_der);
        let server_der = cert_der(&dir.join("server.pem"));
        let server = parse(&server_der);
        assert_eq!(server.signature_algorithm.algorithm, sig_oid, "{kt}");
        assert!(signature_ok(&server, &ca), "{kt}");
        let desc = milvus_certs::CertInfo::from_der(&server_der).unwrap().key;
        assert_eq!(desc, kt);
        let (_, ku) = key_usage(&server);
        assert_eq!(
            ku.key_encipherment(),
            kt.starts_with("rsa"),
            "{kt}: keyEncipherment only for RSA"
        );
        assert!(openssl_verify_server(dir, "localhost"), "{kt}");
        assert!(
            openssl_verify(dir, &["-purpose", "sslclient"], "client.pem"),
            "{kt}"
        );
        assert_milvus_tls_works(dir, &dir.join("ca.pem"), &["localhost"]);
    }
}

#[test]
fn existing_files_are_refused_byte_for_byte_without_force() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let before = snapshot(dir);
    let out = run(dir, &["gen", "--dir", "."]);
    assert_one_error_line(&out, 1, &["ca.key", "server.pem", "--force"]);
    assert_eq!(snapshot(dir), before);

    // Even one of the seven is enough to refuse.
    let d2 = tempfile::tempdir().unwrap();
    fs::write(d2.path().join("ca.srl"), "01\n").unwrap();
    let out = run(d2.path(), &["gen"]);
    assert_one_error_line(&out, 1, &["ca.srl", "--force"]);
    assert_eq!(fs::read_dir(d2.path()).unwrap().count(), 1);
}

#[test]
fn force_replaces_everything_and_keeps_a_backup() {
    let d = gen_dir(&[]);
    let dir = d.path();
    let before = snapshot(dir);
    let out = run_ok(dir, &["gen", "--force", "--common-name", "milvus-proxy"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let backups: Vec<_> = fs::read_dir(dir.join("backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert!(
        stdout.contains(
            &backups[0]
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        )
    );
    assert_eq!(mode(&dir.join("backup")), 0o700);
    assert_eq!(mode(&backups[0]), 0o700);
    for f in SEVEN {
        let (m, bytes) = &before[std::path::Path::new(f)];
        assert_eq!(
            &fs::read(backups[0].join(f)).unwrap(),
            bytes,
            "backup of {f}"
        );
        assert_eq!(
            mode(&backups[0].join(f)),
            *m,
            "{f} keeps its mode in the backup"
        );
        assert_ne!(&fs::read(dir.join(f)).unwrap(), bytes, "{f} was replaced");
    }
    let server_der = cert_der(&dir.join("server.pem"));
    assert_eq!(sans(&parse(&server_der)), ["DNS:milvus-proxy"]);

    // --no-backup keeps nothing more.
    run_ok(dir, &["gen", "--force", "--no-backup"]);
    assert_eq!(fs::read_dir(dir.join("backup")).unwrap().count(), 1);
}

#[test]
fn bad_values_are_refused_before_anything_is_written() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--country", "USA"], &["--country", "two-letter"]),
        (&["--country", "1A"], &["--country"]),
        (&["--days", "0"], &["--days", "between 1 and 36500"]),
        (&["--days", "99999"], &["--days"]),
        (&["--ca-days", "0"], &["--ca-days"]),
        (&["--organization", ""], &["--organization", "empty"]),
        (&["--common-name", ""], &["--common-name"]),
        (
            &["--common-name", "bad name"],
            &["--common-name", "not allowed"],
        ),
        (&["--san", "10.0.0.256"], &["--san", "IP address"]),
        (&["--san", "a..b"], &["--san", "empty label"]),
        (&["--san=-x.example"], &["--san", "starts or ends"]),
        (
            &["--locality", "a\u{1b}[31mred"],
            &["--locality", "control characters"],
        ),
        (
            &["--common-name", &"a".repeat(65)],
            &["--common-name", "at most 64"],
        ),
        (
            &["--ca-common-name", &"a".repeat(65)],
            &["--ca-common-name"],
        ),
    ];
    for (args, needles) in cases {
        let d = tempfile::tempdir().unwrap();
        let mut all = vec!["gen", "--dir", "cert"];
        all.extend_from_slice(args);
        let out = run(d.path(), &all);
        // An invalid value is a usage error: exit 2, as documented.
        assert_one_error_line(&out, 2, needles);
        assert!(
            !d.path().join("cert").exists(),
            "{args:?} created the directory"
        );
    }
    // Usage errors come from clap, exit 2.
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), &["gen", "--key-type", "rsa1024"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rsa2048"));
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn leaf_validity_is_capped_at_the_ca_with_a_warning() {
    let d = gen_dir(&["--days", "400", "--ca-days", "30", "--key-type", "ed25519"]);
    let ca_der = cert_der(&d.path().join("ca.pem"));
    let server_der = cert_der(&d.path().join("server.pem"));
    assert_eq!(
        parse(&server_der).validity().not_after,
        parse(&ca_der).validity().not_after
    );
    let out = run_ok(
        d.path(),
        &[
            "gen",
            "--force",
            "--no-backup",
            "--days",
            "400",
            "--ca-days",
            "30",
            "--key-type",
            "ed25519",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("warning: --days 400 would outlive the CA")
    );
}

/// Issue 16: the default server name `localhost` also names the loopback
/// addresses, so `https://127.0.0.1:19530` and `https://[::1]:19530` work
/// with the default files (clients match an address against IP SANs only,
/// RFC 6125 6.2.1), and gen's summary lists the names.
#[test]
fn the_default_names_cover_the_loopback_addresses() {
    let d = tempfile::tempdir().unwrap();
    let out = run_ok(d.path(), &["gen"]);
    let dir = d.path();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Server names: localhost, 127.0.0.1, ::1\n"),
        "{stdout}"
    );
    for file in ["server.pem", "client.pem"] {
        let der = cert_der(&dir.join(file));
        assert_eq!(
            sans(&parse(&der)),
            ["DNS:localhost", "IP:127.0.0.1", "IP:::1"],
            "{file}"
        );
    }

    // rustls, both Milvus modes, by name and by both addresses (and a
    // name not on the certificate still fails).
    assert_milvus_tls_works(dir, &dir.join("ca.pem"), &["localhost", "127.0.0.1", "::1"]);
    let other_ip = handshake(
        server_config(dir, None),
        client_config(&dir.join("ca.pem"), None),
        "10.9.9.9",
    );
    assert!(
        other_ip.is_err(),
        "an address not on the certificate must fail"
    );

    // OpenSSL, strict: the certificate check, then a real connection.
    for ip in ["127.0.0.1", "::1"] {
        assert!(
            openssl_verify(
                dir,
                &["-x509_strict", "-purpose", "sslserver", "-verify_ip", ip],
                "server.pem"
            ),
            "{ip}"
        );
    }
    let v4 = s_server(dir, &[]);
    let lo4 = std::net::Ipv4Addr::LOCALHOST.into();
    assert!(s_client_verify_ip(dir, &v4, lo4, "127.0.0.1"));
    assert!(!s_client_verify_ip(dir, &v4, lo4, "10.9.9.9"));
    drop(v4);
    if ipv6_loopback_available() {
        let lo6 = std::net::Ipv6Addr::LOCALHOST.into();
        let v6 = s_server_on(dir, lo6, &[]);
        assert!(s_client_verify_ip(dir, &v6, lo6, "::1"));
        assert!(!s_client_verify_ip(dir, &v6, lo6, "10.9.9.9"));
    }

    // --san keeps adding; another common name gets no addresses it did not ask for.
    let d = gen_dir(&["--san", "10.0.0.5"]);
    let der = cert_der(&d.path().join("server.pem"));
    assert_eq!(
        sans(&parse(&der)),
        ["DNS:localhost", "IP:127.0.0.1", "IP:::1", "IP:10.0.0.5"]
    );
    let d = gen_dir(&["--common-name", "milvus.example.com"]);
    let der = cert_der(&d.path().join("server.pem"));
    assert_eq!(sans(&parse(&der)), ["DNS:milvus.example.com"]);
}

/// Issue 16: `gen --force` over a CA warns that clients trusting the old
/// ca.pem will fail, and points to `renew` (new leaves, same CA), with a
/// command that works when copied; replacing only leaves does not warn.
#[test]
fn replacing_a_ca_warns_and_points_to_renew() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("my certs");
    run_ok(d.path(), &["gen", "--dir", "my certs"]);
    let old_ca = fs::read(dir.join("ca.pem")).unwrap();

    // Without --force: refused, and renew is offered.
    let out = run(d.path(), &["gen", "--dir", "my certs"]);
    assert_one_error_line(&out, 1, &["--force", "milvus-certs renew --dir 'my certs'"]);

    let out = run_ok(d.path(), &["gen", "--dir", "my certs", "--force"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    let w = warnings[0];
    assert!(
        w.starts_with("warning: made a new CA in my certs/, replacing the old one: "),
        "{w}"
    );
    assert!(w.contains("\"unknown authority\""), "{w}");
    let backup = fs::read_dir(dir.join("backup"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(fs::read(backup.join("ca.pem")).unwrap(), old_ca);
    assert!(
        w.contains(&format!(
            "kept in {}/",
            backup.strip_prefix(d.path()).unwrap().display()
        )),
        "{w}"
    );
    assert_ne!(fs::read(dir.join("ca.pem")).unwrap(), old_ca, "a new CA");

    // The command it names works as copied, and keeps the (new) CA.
    let cmd = w.split('`').nth(1).unwrap();
    assert_eq!(cmd, "milvus-certs renew --dir 'my certs'");
    let ca_now = fs::read(dir.join("ca.pem")).unwrap();
    shell_ok(
        "sh",
        d.path(),
        &cmd.replacen("milvus-certs", "\"$BIN\"", 1),
        &[],
    );
    assert_eq!(fs::read(dir.join("ca.pem")).unwrap(), ca_now);

    // --no-backup: no backup to point at.
    let out = run_ok(
        d.path(),
        &["gen", "--dir", "my certs", "--force", "--no-backup"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("replacing the old one") && !stderr.contains("kept in"),
        "{stderr}"
    );

    // Only leaves in the way (no CA): nothing to warn about.
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("server.pem"), "old").unwrap();
    let out = run_ok(d.path(), &["gen", "--force"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// The Ed25519 keys gen and renew write are PKCS#8 v1, as `openssl genpkey
/// -algorithm ED25519` writes them, so OpenSSL 3.0 and Python `cryptography`
/// read them, and a real OpenSSL handshake (mutual TLS) works with them.
#[test]
fn ed25519_keys_are_pkcs8_v1_that_openssl_and_python_read() {
    let d = tempfile::tempdir().unwrap();
    let out = run_ok(d.path(), &["gen", "--dir", ".", "--key-type", "ed25519"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: --key-type ed25519: pymilvus and other grpcio-based clients cannot use Ed25519 TLS"), "{stderr}");
    assert_ed25519_files_usable(d.path());

    let out = run_ok(d.path(), &["renew", "--dir", ".", "--no-backup"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("grpcio-based clients cannot use Ed25519"),
        "{stderr}"
    );
    assert_ed25519_files_usable(d.path());
}

fn assert_ed25519_files_usable(dir: &Path) {
    const V1_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    for name in ["ca.key", "server.key", "client.key"] {
        let PrivateKeyDer::Pkcs8(der) = key(&dir.join(name)) else {
            panic!("{name} is not PKCS#8");
        };
        let der = der.secret_pkcs8_der();
        assert_eq!(der.len(), 48, "{name}");
        assert_eq!(der[..16], V1_PREFIX, "{name}");
        let out = openssl(dir, &["pkey", "-in", name, "-noout", "-text"]);
        assert!(
            out.status.success(),
            "openssl pkey {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("ED25519 Private-Key"));
    }
    let py = [
        "import sys",
        "from cryptography.hazmat.primitives.serialization import load_pem_private_key",
        "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey",
        "for f in sys.argv[1:]:",
        "    k = load_pem_private_key(open(f, 'rb').read(), None)",
        "    assert isinstance(k, Ed25519PrivateKey), f",
        "print('ok')",
    ]
    .join("\n");
    let out = shell_ok(
        "sh",
        dir,
        "python3 -c \"$PY\" ca.key server.key client.key",
        &[("PY", &py)],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");

    // tlsMode 2 with OpenSSL on both ends.
    let server = s_server(dir, &["-Verify", "1", "-CAfile", "ca.pem"]);
    let port = server.port.to_string();
    let out = shell_ok(
        "sh",
        dir,
        "openssl s_client -connect 127.0.0.1:$PORT -servername localhost -verify_hostname localhost \
         -CAfile ca.pem -cert client.pem -key client.key -verify_return_error -brief </dev/null 2>&1",
        &[("PORT", &port)],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verification: OK"), "{text}");
    assert!(text.contains("Signature type: ed25519"), "{text}");
}
