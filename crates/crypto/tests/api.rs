//! Behaviour of the public API: envelopes, key wrapping, keyed hashes, signatures, redaction.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_crypto::{
    CryptoError, DataKey, MasterKey, Signature, SigningKey, Suite, VerifyingKey, WrappedKey,
};

const SUITES: [Suite; 2] = [Suite::Sm, Suite::International];
const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn suite_codes_round_trip() {
    for suite in SUITES {
        assert_eq!(Suite::parse(suite.code()), Some(suite));
    }
    assert_eq!(Suite::parse("SM2"), None);
    assert_eq!(Suite::default(), Suite::Sm);
}

#[test]
fn seal_open_round_trip() {
    for suite in SUITES {
        let key = DataKey::generate(suite);
        let envelope = key.seal("张三 盗窃罪".as_bytes(), b"record-1");
        // version, suite, 12-byte nonce, ciphertext, 16-byte tag
        assert_eq!(envelope.len(), 2 + 12 + "张三 盗窃罪".len() + 16);
        assert_eq!(envelope[0], 1);
        assert_eq!(
            key.open(&envelope, b"record-1").unwrap(),
            "张三 盗窃罪".as_bytes()
        );
        assert_eq!(key.open(&key.seal(b"", b""), b"").unwrap(), b"");
    }
}

#[test]
fn every_flipped_byte_fails_to_open() {
    for suite in SUITES {
        let key = DataKey::generate(suite);
        let envelope = key.seal(b"sealed record", b"aad");
        for i in 0..envelope.len() {
            for bit in [0x01, 0x80] {
                let mut tampered = envelope.clone();
                tampered[i] ^= bit;
                assert!(
                    key.open(&tampered, b"aad").is_err(),
                    "byte {i} bit {bit:#x}"
                );
            }
        }
        for len in 0..envelope.len() {
            assert!(
                key.open(&envelope[..len], b"aad").is_err(),
                "truncated to {len}"
            );
        }
        let mut extended = envelope.clone();
        extended.push(0);
        assert!(key.open(&extended, b"aad").is_err());
    }
}

#[test]
fn wrong_aad_or_key_fails() {
    for suite in SUITES {
        let key = DataKey::generate(suite);
        let envelope = key.seal(b"sealed record", b"record-1");
        assert_eq!(
            key.open(&envelope, b"record-2"),
            Err(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            key.open(&envelope, b""),
            Err(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            DataKey::generate(suite).open(&envelope, b"record-1"),
            Err(CryptoError::AuthenticationFailed)
        );
    }
}

#[test]
fn header_errors_are_specific() {
    let sm = DataKey::generate(Suite::Sm);
    let international = DataKey::generate(Suite::International);
    let envelope = sm.seal(b"x", b"");
    assert_eq!(
        international.open(&envelope, b""),
        Err(CryptoError::WrongSuite {
            expected: Suite::International,
            found: Suite::Sm
        })
    );
    let mut future = envelope.clone();
    future[0] = 2;
    assert_eq!(
        sm.open(&future, b""),
        Err(CryptoError::UnsupportedVersion(2))
    );
    assert!(matches!(sm.open(&[], b""), Err(CryptoError::Malformed(_))));
    assert!(matches!(
        sm.open(&envelope[..20], b""),
        Err(CryptoError::Malformed(_))
    ));
}

#[test]
fn seals_of_the_same_plaintext_differ() {
    for suite in SUITES {
        let key = DataKey::generate(suite);
        let a = key.seal(b"same", b"aad");
        let b = key.seal(b"same", b"aad");
        assert_ne!(a, b);
        assert_ne!(a[2..14], b[2..14], "nonces must differ");
    }
}

#[test]
fn wrap_unwrap_round_trip() {
    for master_suite in SUITES {
        let master = MasterKey::generate().with_suite(master_suite);
        for data_suite in SUITES {
            let key = DataKey::generate(data_suite);
            let envelope = key.seal(b"record", b"r1");
            let wrapped = master.wrap(&key, b"r1");
            assert_eq!(wrapped.0[1], master.wrap(&key, b"x").0[1]);
            let unwrapped = master.unwrap(&wrapped, b"r1").unwrap();
            assert_eq!(unwrapped.suite(), data_suite);
            assert_eq!(unwrapped.open(&envelope, b"r1").unwrap(), b"record");
        }
    }
}

#[test]
fn unwrap_with_another_master_or_context_fails() {
    for suite in SUITES {
        let master = MasterKey::generate().with_suite(suite);
        let wrapped = master.wrap(&DataKey::generate(suite), b"record-1");
        let other = MasterKey::generate().with_suite(suite);
        assert_eq!(
            other.unwrap(&wrapped, b"record-1").unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        assert_eq!(
            master.unwrap(&wrapped, b"record-2").unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        let mut tampered = wrapped.0.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(master.unwrap(&WrappedKey(tampered), b"record-1").is_err());
    }
    // The same material under the other suite is another master key.
    let sm = MasterKey::from_hex(MASTER).unwrap();
    let wrapped = sm.wrap(&DataKey::generate(Suite::Sm), b"r");
    assert!(
        sm.clone()
            .with_suite(Suite::International)
            .unwrap(&wrapped, b"r")
            .is_err()
    );
}

#[test]
fn a_data_key_cannot_open_a_wrapped_key_and_vice_versa() {
    // Wrapped keys and data envelopes share a format but never a key.
    let master = MasterKey::generate();
    let data_key = DataKey::generate(Suite::Sm);
    let wrapped = master.wrap(&data_key, b"r");
    assert!(data_key.open(&wrapped.0, b"r").is_err());
}

#[test]
fn master_key_hex() {
    let key = MasterKey::from_hex(MASTER).unwrap();
    assert_eq!(key.to_hex(), MASTER);
    assert_eq!(key.suite(), Suite::Sm);
    let upper = MasterKey::from_hex(&format!("{}\n", MASTER.to_uppercase())).unwrap();
    assert_eq!(upper.to_hex(), MASTER);
    let generated = MasterKey::generate();
    assert_eq!(
        MasterKey::from_hex(&generated.to_hex()).unwrap().to_hex(),
        generated.to_hex()
    );
    for bad in [
        "",
        &MASTER[..62],
        &format!("{MASTER}00"),
        &MASTER.replace('0', "g"),
    ] {
        assert!(
            matches!(
                MasterKey::from_hex(bad),
                Err(CryptoError::BadKeyEncoding(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn keyed_hash_is_deterministic_and_separated() {
    for suite in SUITES {
        let master = MasterKey::generate().with_suite(suite);
        let id = b"110101199003074477";
        assert_eq!(master.keyed_hash("id", id), master.keyed_hash("id", id));
        assert_ne!(master.keyed_hash("id", id), master.keyed_hash("name", id));
        assert_ne!(
            master.keyed_hash("id", id),
            master.keyed_hash("id", b"110101199003074478")
        );
        let other = MasterKey::generate().with_suite(suite);
        assert_ne!(master.keyed_hash("id", id), other.keyed_hash("id", id));
        // Not the plain hash.
        assert_ne!(master.keyed_hash("id", id), fengcun_crypto::hash(suite, id));
    }
    let sm = MasterKey::from_hex(MASTER).unwrap();
    let international = sm.clone().with_suite(Suite::International);
    assert_ne!(
        sm.keyed_hash("id", b"x"),
        international.keyed_hash("id", b"x")
    );
}

#[test]
fn sign_verify_round_trip() {
    for suite in SUITES {
        let key = SigningKey::generate(suite);
        assert_eq!(key.suite(), suite);
        let public = key.verifying_key();
        assert_eq!(public.suite(), suite);
        let signature = key.sign("封存证明 #42".as_bytes());
        assert_eq!(signature.0.len(), 64);
        public
            .verify("封存证明 #42".as_bytes(), &signature)
            .unwrap();
    }
}

#[test]
fn flipped_message_or_signature_fails() {
    for suite in SUITES {
        let key = SigningKey::generate(suite);
        let public = key.verifying_key();
        let message = b"certificate body".to_vec();
        let signature = key.sign(&message);
        for i in 0..message.len() {
            let mut tampered = message.clone();
            tampered[i] ^= 1;
            assert_eq!(
                public.verify(&tampered, &signature),
                Err(CryptoError::BadSignature)
            );
        }
        for i in 0..signature.0.len() {
            let mut tampered = signature.clone();
            tampered.0[i] ^= 1;
            assert_eq!(
                public.verify(&message, &tampered),
                Err(CryptoError::BadSignature)
            );
        }
        assert!(
            public
                .verify(&message, &Signature(signature.0[..63].to_vec()))
                .is_err()
        );
        let stranger = SigningKey::generate(suite).verifying_key();
        assert!(stranger.verify(&message, &signature).is_err());
    }
    // A signature of one suite never verifies under the other.
    let sm = SigningKey::generate(Suite::Sm);
    let ed = SigningKey::generate(Suite::International);
    assert!(ed.verifying_key().verify(b"m", &sm.sign(b"m")).is_err());
    assert!(sm.verifying_key().verify(b"m", &ed.sign(b"m")).is_err());
}

#[test]
fn keys_round_trip_through_text() {
    for suite in SUITES {
        let key = SigningKey::generate(suite);
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.suite(), suite);
        assert_eq!(again.verifying_key(), key.verifying_key());

        let text = key.verifying_key().to_text();
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let public = VerifyingKey::from_text(&text).unwrap();
        assert_eq!(public, key.verifying_key());
        public.verify(b"m", &again.sign(b"m")).unwrap();

        let signature = key.sign(b"m");
        let token = signature.to_base64url();
        assert!(!token.contains(['+', '/', '=']));
        assert_eq!(Signature::from_base64url(&token).unwrap(), signature);
    }
    assert!(matches!(
        SigningKey::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        ),
        Err(CryptoError::BadKeyEncoding(_))
    ));
    assert!(matches!(
        VerifyingKey::from_text("hello"),
        Err(CryptoError::BadKeyEncoding(_))
    ));
    assert!(Signature::from_base64url("not base64!").is_err());
}

/// Every way the material could be printed: lowercase and uppercase hex, and the decimal list
/// that a derived `Debug` of a byte array would produce.
fn assert_not_leaked(debug: &str, material: &[u8]) {
    let lower = base16ct::lower::encode_string(material);
    let upper = base16ct::upper::encode_string(material);
    let decimal = format!("{:?}", &material[..4]);
    let decimal = decimal.trim_end_matches(']');
    for needle in [&lower[..8], &upper[..8], decimal] {
        assert!(!debug.contains(needle), "{debug:?} contains {needle:?}");
    }
}

#[test]
fn debug_output_is_redacted() {
    let master = MasterKey::from_hex(MASTER).unwrap();
    let debug = format!("{master:?} {master:#?}");
    assert_eq!(format!("{master:?}"), "MasterKey(redacted)");
    assert_not_leaked(&debug, &base16ct::lower::decode_vec(MASTER).unwrap());

    // A data key whose bytes are known (a0 a1 a2 …): the Python-built wrapped key of vectors.rs.
    let wrapped = WrappedKey(
        base16ct::lower::decode_vec(concat!(
            "0101",
            "010101010101010101010101",
            "0648f24e60dc8e7fec885cef98feda5b7cd26188940eaaa16eff9fef49596afcdb"
        ))
        .unwrap(),
    );
    let data_key = master.unwrap(&wrapped, b"record-42").unwrap();
    let debug = format!("{data_key:?} {data_key:#?}");
    assert_eq!(format!("{data_key:?}"), "DataKey(sm, redacted)");
    assert_not_leaked(&debug, &(0xa0..0xb0).collect::<Vec<u8>>());

    // Signing keys with known secrets: OpenSSL-generated (see vectors.rs).
    let cases = [
        (
            "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgR7CXcqqHDjim2cKx
gOQTUc9TggnNE+T/l6CCFxrBbUmhRANCAAQ5auXMtuLRp2T8ntamD7cpNr1o5Jb8
Az1leBPnj1i27SnHcRkP6nU8bKNO7BBarxeWtyMZFmB+BPcc2zWgnbuU
-----END PRIVATE KEY-----
",
            "47b09772aa870e38a6d9c2b180e41351cf538209cd13e4ff97a082171ac16d49",
        ),
        (
            "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAQuDnPA1tUXw1iVwn0RCfRbcnbsxj/uYevEqJjoRPzz
-----END PRIVATE KEY-----
",
            "042e0e73c0d6d517c35895c27d1109f45b7276ecc63fee61ebc4a898e844fcf3",
        ),
    ];
    for ((pem, secret), expected) in cases.into_iter().zip(["sm", "international"]) {
        let key = SigningKey::from_pkcs8_pem(pem).unwrap();
        let debug = format!("{key:?} {key:#?}");
        assert_eq!(
            format!("{key:?}"),
            format!("SigningKey({expected}, redacted)")
        );
        assert_not_leaked(&debug, &base16ct::lower::decode_vec(secret).unwrap());
    }
}

#[test]
fn errors_name_no_secret() {
    let message = CryptoError::AuthenticationFailed.to_string();
    assert!(message.contains("authentication failed"));
    let message = CryptoError::WrongSuite {
        expected: Suite::Sm,
        found: Suite::International,
    }
    .to_string();
    assert_eq!(
        message,
        "wrong suite: the key is sm, the data is international"
    );
}

#[test]
fn the_pre_derived_forms_agree_with_the_master_key() {
    for suite in [
        fengcun_crypto::Suite::Sm,
        fengcun_crypto::Suite::International,
    ] {
        let master = fengcun_crypto::MasterKey::generate().with_suite(suite);
        let hasher = master.keyed_hasher("fengcun/person");
        assert_eq!(
            hasher.hash(b"id:110105199003070025"),
            master.keyed_hash("fengcun/person", b"id:110105199003070025")
        );
        assert_ne!(
            hasher.hash(b"id:110105199003070025"),
            master.keyed_hash("other", b"id:110105199003070025")
        );
        let key = fengcun_crypto::DataKey::generate(suite);
        let wrapper = master.key_wrapper();
        let wrapped = wrapper.wrap(&key, b"ctx");
        let by_master = master.unwrap(&wrapped, b"ctx").unwrap();
        let sealed = by_master.seal(b"secret", b"aad");
        assert_eq!(key.open(&sealed, b"aad").unwrap(), b"secret");
        assert!(
            wrapper
                .unwrap(&master.wrap(&key, b"ctx"), b"other")
                .is_err()
        );
        assert!(!format!("{hasher:?} {wrapper:?}").contains(&master.to_hex()[..8]));
    }
}

#[test]
fn a_master_key_wrapped_under_another_comes_back_whole_and_only_there() {
    let old = MasterKey::generate().with_suite(Suite::International);
    let new = MasterKey::generate();
    let wrapped = new.wrap_master(&old, b"generation-1");
    let back = new.unwrap_master(&wrapped, b"generation-1").unwrap();
    assert_eq!(back.to_hex(), old.to_hex());
    assert_eq!(back.suite(), Suite::International);
    assert_eq!(back.key_id(), old.key_id());
    assert_ne!(old.key_id(), new.key_id());
    assert_eq!(old.key_id().len(), 16);
    assert!(new.unwrap_master(&wrapped, b"generation-2").is_err());
    assert!(old.unwrap_master(&wrapped, b"generation-1").is_err());
}
