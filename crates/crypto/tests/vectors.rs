//! Known-answer tests: published standard vectors, and values computed by independent
//! implementations (Python's `hashlib`/`hmac`/`cryptography`, OpenSSL 3.0) so that the formats this
//! crate stores — keyed hashes, wrapped keys, envelopes, keys and signatures — cannot drift
//! unnoticed.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use aes_gcm::aead::{Aead, KeyInit, Payload};
use fengcun_crypto::{MasterKey, Signature, SigningKey, Suite, VerifyingKey, WrappedKey, hash};
use sm4::cipher::BlockCipherEncrypt;

fn hex(text: &str) -> Vec<u8> {
    base16ct::mixed::decode_vec(text).unwrap()
}

#[test]
fn sm3_abc_matches_gb_t_32905() {
    assert_eq!(
        hash(Suite::Sm, b"abc").to_vec(),
        hex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    );
}

#[test]
fn sha256_abc_matches_fips_180() {
    assert_eq!(
        hash(Suite::International, b"abc").to_vec(),
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

#[test]
fn sm4_block_matches_gb_t_32907() {
    let key = hex("0123456789abcdeffedcba9876543210");
    let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
    let mut block = sm4::cipher::Block::<sm4::Sm4>::try_from(&key[..]).unwrap();
    cipher.encrypt_block(&mut block);
    assert_eq!(block.to_vec(), hex("681edf34d206965e86b3e94f536e4246"));
}

/// RFC 8998 Appendix A.1: proves that `AesGcm<Sm4, U12>` is SM4-GCM as the rest of the world
/// computes it, not merely self-consistent.
#[test]
fn sm4_gcm_matches_rfc_8998() {
    type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;
    let cipher = Sm4Gcm::new_from_slice(&hex("0123456789ABCDEFFEDCBA9876543210")).unwrap();
    let nonce = aes_gcm::Nonce::try_from(&hex("00001234567800000000ABCD")[..]).unwrap();
    let plaintext = hex(concat!(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    ));
    let aad = hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(
        sealed,
        hex(concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC",
        ))
    );
}

const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Keyed hashes are stored as indexes, so their derivation is frozen. Expected values computed
/// with Python: `HMAC-H(HKDF-H(salt=None, ikm=master, info="fengcun-crypto/v1/keyed-hash/" +
/// domain, L=32), data)`.
#[test]
fn keyed_hash_matches_independent_computation() {
    let sm = MasterKey::from_hex(MASTER).unwrap();
    assert_eq!(
        sm.keyed_hash("id-number", b"110101199003074477").to_vec(),
        hex("d351ad10875b14a7b52f9f69e2d6e7d75646db9de950694ab9f8c7dc8ce9e2b8")
    );
    let international = sm.with_suite(Suite::International);
    assert_eq!(
        international
            .keyed_hash("id-number", b"110101199003074477")
            .to_vec(),
        hex("5cb3ad308ca59af3663dd6b64843252f07da7c1c839d10aa1507f56e3962313b")
    );
    // The hasher a store holds starts each hash from a copy of its keyed state: the same
    // values, however many hashes it has made before.
    let hasher = MasterKey::from_hex(MASTER)
        .unwrap()
        .keyed_hasher("id-number");
    for _ in 0..3 {
        assert_eq!(
            hasher.hash(b"110101199003074477").to_vec(),
            hex("d351ad10875b14a7b52f9f69e2d6e7d75646db9de950694ab9f8c7dc8ce9e2b8")
        );
    }
    let hasher = international.keyed_hasher("id-number");
    assert_ne!(hasher.hash(b"another"), hasher.hash(b"110101199003074477"));
    assert_eq!(
        hasher.hash(b"110101199003074477").to_vec(),
        hex("5cb3ad308ca59af3663dd6b64843252f07da7c1c839d10aa1507f56e3962313b")
    );
}

/// A wrapped key and a sealed record built by Python's `cryptography` (SM4-GCM / AES-GCM) with
/// fixed nonces, following the documented envelope format: the key-wrapping key is
/// `HKDF-H(master, info="fengcun-crypto/v1/key-wrap")`, the wrapped plaintext is
/// `suite byte ‖ data key`, GCM's associated data is `header ‖ aad`.
#[test]
fn envelopes_from_an_independent_implementation_open() {
    // Each envelope: header (version, suite), nonce, ciphertext ‖ tag.
    let cases = [
        (
            Suite::Sm,
            concat!(
                "0101",
                "010101010101010101010101",
                "0648f24e60dc8e7fec885cef98feda5b7cd26188940eaaa16eff9fef49596afcdb"
            ),
            concat!(
                "0101",
                "020202020202020202020202",
                "4c693945d6871c98339c3e64170f495deb1ab9caa5c803b068984475"
            ),
        ),
        (
            Suite::International,
            concat!(
                "0102",
                "010101010101010101010101",
                "52df42a87755e6e81653db39e1d78d8a61c19e2de4c0d3ff37e88c8011dd50608d1bc824575422ed6fcd55037d1c32845c"
            ),
            concat!(
                "0102",
                "020202020202020202020202",
                "6efce369f3e2acf42201881de42bfde5cb03e002d6d1a9fa6277298b"
            ),
        ),
    ];
    for (suite, wrapped, sealed) in cases {
        let master = MasterKey::from_hex(MASTER).unwrap().with_suite(suite);
        let data_key = master
            .unwrap(&WrappedKey(hex(wrapped)), b"record-42")
            .unwrap();
        assert_eq!(data_key.suite(), suite);
        let plaintext = data_key.open(&hex(sealed), b"record-42").unwrap();
        assert_eq!(String::from_utf8(plaintext).unwrap(), "封存记录");
    }
}

/// Test-only key pair generated with `openssl genpkey -algorithm SM2` (OpenSSL 3.0.19).
const OPENSSL_SM2_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgR7CXcqqHDjim2cKx
gOQTUc9TggnNE+T/l6CCFxrBbUmhRANCAAQ5auXMtuLRp2T8ntamD7cpNr1o5Jb8
Az1leBPnj1i27SnHcRkP6nU8bKNO7BBarxeWtyMZFmB+BPcc2zWgnbuU
-----END PRIVATE KEY-----
";
const OPENSSL_SM2_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEOWrlzLbi0adk/J7Wpg+3KTa9aOSW
/AM9ZXgT549Ytu0px3EZD+p1PGyjTuwQWq8XlrcjGRZgfgT3HNs1oJ27lA==
-----END PUBLIC KEY-----
";
/// `openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678` of
/// "fengcun interop", DER converted to `r ‖ s`.
const OPENSSL_SM2_SIGNATURE: &str = concat!(
    "AE9A9B76B8FA54106DE5BCB4D24066E85683E3FD0D653B9C3B4CF431398C4221",
    "9284A9596F138DE0635EC4ACA94CFA6F7D5C1E530E0E6F3AD687D8153F007E1D",
);

/// Test-only key pair generated with `openssl genpkey -algorithm ED25519`.
const OPENSSL_ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAQuDnPA1tUXw1iVwn0RCfRbcnbsxj/uYevEqJjoRPzz
-----END PRIVATE KEY-----
";
const OPENSSL_ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAoajk5RLXXK40e6UNcHwnD6tORnIu/OuX+Kq0TdvJoYs=
-----END PUBLIC KEY-----
";
/// `openssl pkeyutl -sign -rawin` of "fengcun interop".
const OPENSSL_ED25519_SIGNATURE: &str = concat!(
    "6e543a82b53c25487c6184521440fd5ce01b8a2a713c0a2c6b40007c8e0b5932",
    "aa161be9ba7f7efb6c380f5c0038b3fad3b29115adb134e3e2774beca0cbe90e",
);

#[test]
fn openssl_keys_and_signatures_are_understood() {
    let cases = [
        (
            Suite::Sm,
            OPENSSL_SM2_PRIVATE,
            OPENSSL_SM2_PUBLIC,
            OPENSSL_SM2_SIGNATURE,
        ),
        (
            Suite::International,
            OPENSSL_ED25519_PRIVATE,
            OPENSSL_ED25519_PUBLIC,
            OPENSSL_ED25519_SIGNATURE,
        ),
    ];
    for (suite, private, public, signature) in cases {
        let signing = SigningKey::from_pkcs8_pem(private).unwrap();
        assert_eq!(signing.suite(), suite);
        // Same SubjectPublicKeyInfo bytes as OpenSSL writes.
        assert_eq!(signing.verifying_key().to_text(), public);
        let verifying = VerifyingKey::from_text(public).unwrap();
        assert_eq!(verifying, signing.verifying_key());
        verifying
            .verify(b"fengcun interop", &Signature(hex(signature)))
            .unwrap();
        assert!(
            verifying
                .verify(b"fengcun interoq", &Signature(hex(signature)))
                .is_err()
        );
        // Our signatures verify under the key OpenSSL generated.
        let ours = signing.sign(b"fengcun");
        verifying.verify(b"fengcun", &ours).unwrap();
        // And we write private keys exactly as OpenSSL does (PKCS#8 v1), so it can read ours.
        assert_eq!(*signing.to_pkcs8_pem().unwrap(), private);
    }
}
