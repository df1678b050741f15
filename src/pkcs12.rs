//! PKCS#12 key and trust stores (RFC 7292) for Java-based servers such as
//! Kafka (`ssl.keystore.type=PKCS12`), written with aws-lc-rs, the crate's
//! one crypto backend.
//!
//! The layout is the one OpenSSL 3 writes by default and JDK 12+ reads:
//! - the private key in a `pkcs8ShroudedKeyBag`, encrypted with PBES2
//!   (RFC 8018: PBKDF2-HMAC-SHA256, AES-256-CBC);
//! - certificates in plain `certBag`s (they are public);
//! - an integrity MAC, HMAC-SHA256 keyed by the PKCS#12 key derivation of
//!   RFC 7292 appendix B.2.
//!
//! A trust store's certificates carry Oracle's "trusted key usage" attribute:
//! without it the JDK's PKCS12 KeyStore skips a certificate that has no key
//! (JDK-8185141; OpenSSL 3.2 added `pkcs12 -jdktrust` for the same reason).

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::{digest, hmac, pbkdf2, rand};
use yasna::models::ObjectIdentifier;
use yasna::{DERWriter, Tag};

use crate::error::{Error, Result};

/// Iterations of PBKDF2 and of the MAC key derivation (the JDK's default).
const ITERATIONS: u32 = 10_000;

const ID_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
const PBES2: &[u64] = &[1, 2, 840, 113549, 1, 5, 13];
const PBKDF2: &[u64] = &[1, 2, 840, 113549, 1, 5, 12];
const HMAC_WITH_SHA256: &[u64] = &[1, 2, 840, 113549, 2, 9];
const AES_256_CBC: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 1, 42];
const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const KEY_BAG_SHROUDED: &[u64] = &[1, 2, 840, 113549, 1, 12, 10, 1, 2];
const CERT_BAG: &[u64] = &[1, 2, 840, 113549, 1, 12, 10, 1, 3];
const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113549, 1, 9, 22, 1];
const FRIENDLY_NAME: &[u64] = &[1, 2, 840, 113549, 1, 9, 20];
const LOCAL_KEY_ID: &[u64] = &[1, 2, 840, 113549, 1, 9, 21];
/// Oracle's trustedKeyUsage attribute, valued anyExtendedKeyUsage.
const ORACLE_TRUSTED_KEY_USAGE: &[u64] = &[2, 16, 840, 1, 113894, 746875, 1, 1];
const ANY_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37, 0];

fn oid(parts: &[u64]) -> ObjectIdentifier {
    ObjectIdentifier::from_slice(parts)
}

fn crypto_error(what: &'static str) -> impl FnOnce(aws_lc_rs::error::Unspecified) -> Error {
    move |_| Error::Store {
        what,
        reason: "the cryptographic library refused it".into(),
    }
}

/// A key store: `key_pkcs8` (a PKCS#8 DER private key) under `alias`, with
/// its certificate chain (leaf first, then the CA), protected by `password`.
pub(crate) fn keystore(
    alias: &str,
    key_pkcs8: &[u8],
    chain: &[&[u8]],
    password: &str,
) -> Result<Vec<u8>> {
    let Some(leaf) = chain.first() else {
        return Err(Error::Store {
            what: "a key store",
            reason: "it needs at least the key's certificate".into(),
        });
    };
    let key_id = digest::digest(&digest::SHA256, leaf).as_ref().to_vec();
    let shrouded = encrypt_key(key_pkcs8, password)?;
    let certs = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            for (i, cert) in chain.iter().enumerate() {
                let attrs = if i == 0 {
                    Attrs::Key {
                        alias,
                        key_id: &key_id,
                    }
                } else {
                    Attrs::None
                };
                cert_bag(w.next(), cert, attrs);
            }
        })
    });
    let keys = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(KEY_BAG_SHROUDED));
                w.next()
                    .write_tagged(Tag::context(0), |w| w.write_der(&shrouded));
                write_attrs(
                    w.next(),
                    Attrs::Key {
                        alias,
                        key_id: &key_id,
                    },
                );
            })
        })
    });
    pfx(&[certs, keys], password)
}

/// A trust store: each certificate under its alias, trusted for any purpose.
pub(crate) fn truststore(certs: &[(&str, &[u8])], password: &str) -> Result<Vec<u8>> {
    let bags = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            for (alias, cert) in certs {
                cert_bag(w.next(), cert, Attrs::Trusted { alias });
            }
        })
    });
    pfx(&[bags], password)
}

#[derive(Clone, Copy)]
enum Attrs<'a> {
    None,
    Key { alias: &'a str, key_id: &'a [u8] },
    Trusted { alias: &'a str },
}

fn write_attrs(w: DERWriter<'_>, attrs: Attrs<'_>) {
    let attr = |w: DERWriter<'_>, id: &[u64], value: &dyn Fn(DERWriter<'_>)| {
        w.write_sequence(|w| {
            w.next().write_oid(&oid(id));
            w.next().write_set(|w| value(w.next()));
        })
    };
    match attrs {
        Attrs::None => {}
        Attrs::Key { alias, key_id } => w.write_set(|w| {
            attr(w.next(), FRIENDLY_NAME, &|w| w.write_bmp_string(alias));
            attr(w.next(), LOCAL_KEY_ID, &|w| w.write_bytes(key_id));
        }),
        Attrs::Trusted { alias } => w.write_set(|w| {
            attr(w.next(), FRIENDLY_NAME, &|w| w.write_bmp_string(alias));
            attr(w.next(), ORACLE_TRUSTED_KEY_USAGE, &|w| {
                w.write_oid(&oid(ANY_EXTENDED_KEY_USAGE))
            });
        }),
    }
}

fn cert_bag(w: DERWriter<'_>, cert: &[u8], attrs: Attrs<'_>) {
    w.write_sequence(|w| {
        w.next().write_oid(&oid(CERT_BAG));
        w.next().write_tagged(Tag::context(0), |w| {
            w.write_sequence(|w| {
                w.next().write_oid(&oid(X509_CERTIFICATE));
                w.next()
                    .write_tagged(Tag::context(0), |w| w.write_bytes(cert));
            })
        });
        if !matches!(attrs, Attrs::None) {
            write_attrs(w.next(), attrs);
        }
    })
}

/// EncryptedPrivateKeyInfo (RFC 5958) with PBES2 (RFC 8018 section 6.2).
/// PBKDF2 takes the password's UTF-8 bytes, as OpenSSL and the JDK do.
fn encrypt_key(key_pkcs8: &[u8], password: &str) -> Result<Vec<u8>> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt).map_err(crypto_error("make a salt"))?;
    let mut key = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN),
        &salt,
        password.as_bytes(),
        &mut key,
    );
    let cipher = UnboundCipherKey::new(&AES_256, &key)
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(crypto_error("encrypt the private key"))?;
    let mut data = key_pkcs8.to_vec();
    let context = cipher
        .encrypt(&mut data)
        .map_err(crypto_error("encrypt the private key"))?;
    let iv: &[u8] = (&context)
        .try_into()
        .map_err(crypto_error("encrypt the private key"))?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(PBES2));
                w.next().write_sequence(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(PBKDF2));
                        w.next().write_sequence(|w| {
                            w.next().write_bytes(&salt);
                            w.next().write_u32(ITERATIONS);
                            w.next().write_sequence(|w| {
                                w.next().write_oid(&oid(HMAC_WITH_SHA256));
                                w.next().write_null();
                            });
                        });
                    });
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(AES_256_CBC));
                        w.next().write_bytes(iv);
                    });
                });
            });
            w.next().write_bytes(&data);
        })
    }))
}

/// The PFX: an AuthenticatedSafe of `id-data` ContentInfos, one per
/// SafeContents, and its MAC.
fn pfx(safe_contents: &[Vec<u8>], password: &str) -> Result<Vec<u8>> {
    let auth_safe = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            for contents in safe_contents {
                data_content_info(w.next(), contents);
            }
        })
    });
    let mut salt = [0u8; 16];
    rand::fill(&mut salt).map_err(crypto_error("make a salt"))?;
    let mac_key = pkcs12_kdf_sha256(password, &salt, 3, ITERATIONS);
    let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &auth_safe);
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(3);
            data_content_info(w.next(), &auth_safe);
            w.next().write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(SHA256));
                        w.next().write_null();
                    });
                    w.next().write_bytes(mac.as_ref());
                });
                w.next().write_bytes(&salt);
                w.next().write_u32(ITERATIONS);
            });
        })
    }))
}

fn data_content_info(w: DERWriter<'_>, content: &[u8]) {
    w.write_sequence(|w| {
        w.next().write_oid(&oid(ID_DATA));
        w.next()
            .write_tagged(Tag::context(0), |w| w.write_bytes(content));
    })
}

/// The PKCS#12 key derivation (RFC 7292 appendix B.2) with SHA-256, for a
/// 32-byte key (one hash block, so only A_1 is needed). The password is a
/// BMPString with its two-byte terminator (appendix B.1).
fn pkcs12_kdf_sha256(password: &str, salt: &[u8], id: u8, iterations: u32) -> [u8; 32] {
    const V: usize = 64;
    let mut pass: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    pass.extend_from_slice(&[0, 0]);
    let stretch = |s: &[u8]| -> Vec<u8> {
        if s.is_empty() {
            return Vec::new();
        }
        let len = V * s.len().div_ceil(V);
        s.iter().copied().cycle().take(len).collect()
    };
    let mut input = vec![id; V];
    input.extend(stretch(salt));
    input.extend(stretch(&pass));
    let mut a = digest::digest(&digest::SHA256, &input);
    for _ in 1..iterations {
        a = digest::digest(&digest::SHA256, a.as_ref());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(a.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7292's KDF against a value computed with OpenSSL's
    /// PKCS12_key_gen_uni (SHA-256, ID 3, "password", salt 01..08, 2048
    /// iterations) would need OpenSSL here; the round trip through
    /// `openssl pkcs12` and `keytool` is in the integration tests. This
    /// checks the parts that are easy to get wrong: the BMP password with
    /// its terminator and the block stretching.
    #[test]
    fn kdf_depends_on_every_input() {
        let a = pkcs12_kdf_sha256("secret", b"salt", 3, 2);
        assert_ne!(a, pkcs12_kdf_sha256("secreu", b"salt", 3, 2));
        assert_ne!(a, pkcs12_kdf_sha256("secret", b"salu", 3, 2));
        assert_ne!(a, pkcs12_kdf_sha256("secret", b"salt", 1, 2));
        assert_ne!(a, pkcs12_kdf_sha256("secret", b"salt", 3, 3));
        assert_eq!(a, pkcs12_kdf_sha256("secret", b"salt", 3, 2));
    }
}
