//! Random plaintexts and associated data round-trip; any single-byte change to an envelope fails.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

use fengcun_crypto::{DataKey, MasterKey, Suite};
use proptest::prelude::*;

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Sm), Just(Suite::International)]
}

proptest! {
    #[test]
    fn seal_open_round_trips(
        suite in suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        aad in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let key = DataKey::generate(suite);
        let envelope = key.seal(&plaintext, &aad);
        prop_assert_eq!(key.open(&envelope, &aad).unwrap(), plaintext);
    }

    #[test]
    fn any_single_byte_change_fails(
        suite in suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..256),
        aad in proptest::collection::vec(any::<u8>(), 0..32),
        position in any::<prop::sample::Index>(),
        delta in 1..=255u8,
    ) {
        let key = DataKey::generate(suite);
        let mut envelope = key.seal(&plaintext, &aad);
        let i = position.index(envelope.len());
        envelope[i] = envelope[i].wrapping_add(delta);
        prop_assert!(key.open(&envelope, &aad).is_err());
    }

    #[test]
    fn aad_is_bound(
        suite in suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..64),
        aad in proptest::collection::vec(any::<u8>(), 0..32),
        other in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        prop_assume!(aad != other);
        let key = DataKey::generate(suite);
        prop_assert!(key.open(&key.seal(&plaintext, &aad), &other).is_err());
    }

    #[test]
    fn wrapped_keys_round_trip(
        master_suite in suite(),
        data_suite in suite(),
        context in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let master = MasterKey::generate().with_suite(master_suite);
        let key = DataKey::generate(data_suite);
        let envelope = key.seal(&plaintext, &context);
        let unwrapped = master.unwrap(&master.wrap(&key, &context), &context).unwrap();
        prop_assert_eq!(unwrapped.open(&envelope, &context).unwrap(), plaintext);
    }
}
