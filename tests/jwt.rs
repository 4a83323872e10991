//! The RS256 verifier as a specification: real RSA keys, a real JWKS server on 127.0.0.1,
//! tokens minted by PyJWT (fixtures) and by a Rust test signer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::bounded::within;
use common::child::passes_behind_proxy;
use common::jwt::*;
use common::tls::{fixture_ca, fixture_leaf, tls_server, NOT_X509_PEM};
use runbeam_sdk_blocking::jwt::{
    parse_jwks, KeyPolicy, UnverifiedToken, ValidatorStats, VerifyingKey,
};
use runbeam_sdk_blocking::JwtError;
use runbeam_sdk_blocking::{
    validate_jwt_token, ConfigError, JwtClaims, JwtValidationOptions, JwtValidator, RunbeamError,
};
use serde_json::{json, Value};

fn options(server: &JwksServer) -> JwtValidationOptions {
    JwtValidationOptions::new()
        .with_trusted_issuers(vec![TRUSTED.into()])
        .with_jwks_uri(server.jwks_url())
}

fn validator(server: &JwksServer) -> JwtValidator {
    JwtValidator::new(options(server)).unwrap()
}

/// The JWT error of a rejected token; panics (test failure) on success or another family.
fn rejection(result: Result<JwtClaims, RunbeamError>) -> JwtError {
    match result {
        Err(RunbeamError::Jwt(err)) => err,
        other => panic!("expected a JWT rejection, got {other:?}"),
    }
}

/// The option and reason of a validator refused by `new`; panics (test failure) when it was
/// built or refused for another reason.
fn refused_option(result: Result<JwtValidator, RunbeamError>) -> (&'static str, String) {
    match result {
        Err(RunbeamError::Config(ConfigError::InvalidOption { option, reason })) => {
            (option, reason)
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("accepted"),
    }
}

/// A predicate on the kind of a rejection.
type Expect = fn(&JwtError) -> bool;

fn main_server() -> (Signer, JwksServer) {
    let signer = Signer::main();
    let server = JwksServer::start(jwks(&[signer.jwk()]));
    (signer, server)
}

// ---------------------------------------------------------------- independent implementation

#[test]
fn accepts_tokens_minted_by_pyjwt_at_their_fixed_time() {
    let server = JwksServer::start(fixture("jwks.json"));
    let v = validator(&server);
    let claims = v
        .validate_at(&fixture("accept_pyjwt_basic.jwt"), NOW + 10)
        .unwrap();
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.sub, "user-1");
    assert_eq!(claims.user.as_ref().unwrap().email, "ada@example.com");
    assert_eq!(claims.team.as_ref().unwrap().id, "t1");
    assert_eq!(claims.extra.get("scope"), Some(&json!("gateways:read")));
    assert_eq!(claims.api_base_url(), "https://api.runbeam.io");
    let array = v
        .validate_at(&fixture("accept_pyjwt_aud_array_float_exp.jwt"), NOW + 10)
        .unwrap();
    assert!(array.aud.unwrap().contains("runbeam-cli"));
    assert_eq!(array.exp, (NOW + 3600) as i64);
    assert_eq!(server.requests(), 1, "one fetch serves every token");
}

#[test]
fn rejects_each_hostile_pyjwt_fixture_for_its_reason() {
    let server = JwksServer::start(fixture("jwks.json"));
    let v = validator(&server);
    let unknown = |e: &JwtError| matches!(e, JwtError::UnknownKey(_));
    let cases: [(&str, Expect); 19] = [
        ("reject_expired.jwt", |e| matches!(e, JwtError::Expired)),
        ("reject_not_yet_valid.jwt", |e| {
            matches!(e, JwtError::NotYetValid)
        }),
        ("reject_issued_in_future.jwt", |e| {
            matches!(e, JwtError::IssuedInFuture)
        }),
        ("reject_small_key_1024.jwt", unknown),
        ("reject_exponent_3.jwt", unknown),
        ("reject_key_6144_bits.jwt", unknown),
        ("reject_key_use_enc.jwt", unknown),
        ("reject_key_alg_rs512.jwt", unknown),
        ("reject_signed_by_other_key.jwt", |e| {
            matches!(e, JwtError::BadSignature)
        }),
        ("reject_untrusted_issuer.jwt", |e| {
            matches!(e, JwtError::UntrustedIssuer { .. })
        }),
        ("reject_missing_kid.jwt", |e| {
            matches!(e, JwtError::MissingKid)
        }),
        ("reject_alg_none.jwt", |e| {
            matches!(e, JwtError::Malformed(_))
        }),
        ("reject_alg_ps256.jwt", |e| {
            matches!(e, JwtError::UnsupportedAlg(_))
        }),
        ("reject_alg_rs384.jwt", |e| {
            matches!(e, JwtError::UnsupportedAlg(_))
        }),
        ("reject_alg_hs256_public_key_as_secret.jwt", |e| {
            matches!(e, JwtError::UnsupportedAlg(_))
        }),
        ("reject_crit.jwt", |e| {
            matches!(e, JwtError::UnsupportedCrit)
        }),
        ("reject_duplicate_claim.jwt", |e| {
            matches!(e, JwtError::DuplicateMember(_))
        }),
        ("rfc7515_a2.jws", |e| matches!(e, JwtError::MissingKid)),
        ("accept_pyjwt_basic.jwt", |e| matches!(e, JwtError::Expired)), // at a later time
    ];
    for (file, expected) in cases {
        let at = if file.starts_with("accept") {
            NOW + 7200
        } else {
            NOW + 10
        };
        let err = rejection(v.validate_at(&fixture(file), at));
        assert!(expected(&err), "{file}: got {err:?}");
    }
    // Every fixture named reject_* is in the table above.
    let listed = std::fs::read_dir(fixture_path("")).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("reject_")
    });
    assert_eq!(listed.count(), 17);
}

#[test]
fn keys_skipped_by_the_policy_work_only_with_an_explicit_option() {
    let server = JwksServer::start(fixture("jwks.json"));
    let lax = JwtValidator::new(
        options(&server)
            .dangerous_allow_any_odd_exponent()
            .with_max_key_bits(8192),
    )
    .unwrap();
    lax.validate_at(&fixture("reject_exponent_3.jwt"), NOW)
        .unwrap();
    lax.validate_at(&fixture("reject_key_6144_bits.jwt"), NOW)
        .unwrap();
    // No option lowers the 2048-bit floor.
    let err = rejection(lax.validate_at(&fixture("reject_small_key_1024.jwt"), NOW));
    assert!(matches!(err, JwtError::UnknownKey(_)), "{err:?}");
}

#[test]
fn one_bad_key_does_not_poison_the_set() {
    let set = parse_jwks(fixture("jwks.json").as_bytes()).unwrap();
    assert_eq!((set.len(), set.skipped()), (1, 6));
    assert!(set.get("py-main").is_ok());
}

fn jwk_component(jwk: &Value, name: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap()
}

#[test]
fn key_policy_refuses_small_keys_and_exponents_other_than_65537() {
    let doc: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    let key = |kid: &str| {
        let jwk = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap();
        (jwk_component(jwk, "n"), jwk_component(jwk, "e"))
    };
    let policy = KeyPolicy::default();
    let (n, e) = key("py-small-1024");
    assert!(matches!(
        VerifyingKey::from_components(&n, &e, &policy),
        Err(JwtError::KeyRejected(_))
    ));
    let (n, e) = key("py-e3");
    assert!(matches!(
        VerifyingKey::from_components(&n, &e, &policy),
        Err(JwtError::KeyRejected(_))
    ));
    let (n, _) = key("py-main");
    for bad_e in [&[1u8][..], &[2], &[1, 0, 0, 0, 1], &[]] {
        assert!(matches!(
            VerifyingKey::from_components(&n, bad_e, &policy),
            Err(JwtError::KeyRejected(_))
        ));
    }
    let mut padded = vec![0, 0];
    padded.extend_from_slice(&n);
    assert_eq!(
        VerifyingKey::from_components(&padded, &[1, 0, 1], &policy)
            .unwrap()
            .bits(),
        2048
    );
}

/// A fixture JWK (as JSON and as a key under the default policy) and a fixture JWS split into
/// signing input and decoded signature.
fn rfc_vector(jwk_file: &str, jws_file: &str) -> (Value, VerifyingKey, String, Vec<u8>) {
    let jwk: Value = serde_json::from_str(&fixture(jwk_file)).unwrap();
    let key = VerifyingKey::from_components(
        &jwk_component(&jwk, "n"),
        &jwk_component(&jwk, "e"),
        &KeyPolicy::default(),
    )
    .unwrap();
    let jws = fixture(jws_file);
    let (input, sig) = jws.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    (jwk, key, input.to_owned(), sig)
}

#[test]
fn rfc7515_a2_verifies_at_the_rs256_layer() {
    let (_, key, input, sig) = rfc_vector("rfc7515_a2_jwk.json", "rfc7515_a2.jws");
    key.verify(input.as_bytes(), &sig).unwrap();
    let mut tampered = sig.clone();
    tampered[10] ^= 1;
    assert!(matches!(
        key.verify(input.as_bytes(), &tampered),
        Err(JwtError::BadSignature)
    ));
    assert!(matches!(
        key.verify(b"x", &sig),
        Err(JwtError::BadSignature)
    ));
    assert!(matches!(
        key.verify(input.as_bytes(), &sig[1..]),
        Err(JwtError::BadSignature)
    ));
}

#[test]
fn rfc7517_a1_key_set_yields_its_one_rs256_key() {
    // An EC encryption key (skipped) and an RS256 key (kid 2011-04-29).
    let set = parse_jwks(fixture("rfc7517_a1_jwks.json").as_bytes()).unwrap();
    assert_eq!((set.len(), set.skipped()), (1, 1));
    assert_eq!(set.get("2011-04-29").unwrap().bits(), 2048);
    assert!(matches!(set.get("1"), Err(JwtError::UnknownKey(_))));
}

#[test]
fn rfc7520_4_1_verifies_as_a_signature_but_is_not_a_jwt() {
    let (jwk, key, input, sig) = rfc_vector("rfc7520_3_3_jwk.json", "rfc7520_4_1.jws");
    key.verify(input.as_bytes(), &sig).unwrap();
    let jws = fixture("rfc7520_4_1.jws");
    // Its payload is prose, not a claims object: refused by the parser, before any fetch.
    assert!(matches!(
        UnverifiedToken::parse(&jws),
        Err(JwtError::Malformed("claims are not a JSON object"))
    ));
    let server = JwksServer::start(jwks(&[jwk]));
    let v =
        JwtValidator::new(JwtValidationOptions::new().with_jwks_uri(server.jwks_url())).unwrap();
    let err = rejection(v.validate(&jws));
    assert!(matches!(err, JwtError::Malformed(_)), "{err:?}");
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------- header attacks

#[test]
fn accepts_a_token_from_the_rust_signer() {
    let (signer, server) = main_server();
    let claims = validator(&server)
        .validate_at(&signer.token(&claims()), NOW)
        .unwrap();
    assert_eq!(claims.sub, "user-1");
    assert_eq!(server.paths(), vec!["/api/.well-known/jwks.json"]);
}

#[test]
fn rejects_every_alg_but_exact_rs256_even_with_a_valid_rs256_signature() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for alg in [
        json!("none"),
        json!("HS256"),
        json!("PS256"),
        json!("RS384"),
        json!("RS512"),
        json!("rs256"),
        json!("RS256 "),
        json!(["RS256"]),
        Value::Null,
    ] {
        let mut header = json!({"kid": signer.kid});
        if !alg.is_null() {
            header["alg"] = alg.clone();
        }
        let err = rejection(v.validate_at(&signer.sign(&header, &claims()), NOW));
        assert!(matches!(err, JwtError::UnsupportedAlg(_)), "{alg}: {err:?}");
    }
    assert_eq!(server.requests(), 0, "alg is checked before any key lookup");
}

#[test]
fn rejects_crit_in_any_form_and_b64() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for (name, value) in [
        ("crit", json!([])),
        ("crit", json!(["exp"])),
        ("b64", json!(false)),
        ("b64", json!(true)),
    ] {
        let mut header = json!({"alg": "RS256", "kid": signer.kid});
        header[name] = value;
        let err = rejection(v.validate_at(&signer.sign(&header, &claims()), NOW));
        assert!(
            matches!(err, JwtError::UnsupportedCrit),
            "{header}: {err:?}"
        );
    }
}

#[test]
fn ignores_jku_x5u_jwk_and_x5c_in_the_header() {
    let (_, server) = main_server();
    let attacker = Signer::other().with_kid("attacker");
    let attacker_server = JwksServer::start(jwks(&[attacker.jwk()]));
    let v = validator(&server);
    let header = json!({"alg": "RS256", "kid": "attacker", "jku": attacker_server.jwks_url(),
        "x5u": attacker_server.jwks_url(), "jwk": attacker.jwk(), "x5c": ["MIIB"]});
    let err = rejection(v.validate_at(&attacker.sign(&header, &claims()), NOW));
    assert!(matches!(err, JwtError::UnknownKey(_)), "{err:?}");
    // Same attack naming the trusted kid: the trusted key does not verify it.
    let header = json!({"alg": "RS256", "kid": "rust-main", "jku": attacker_server.jwks_url(), "jwk": attacker.jwk()});
    let err = rejection(v.validate_at(&attacker.sign(&header, &claims()), NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    assert_eq!(attacker_server.requests(), 0);
}

#[test]
fn requires_a_kid_string_of_1_to_256_bytes() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for kid in [Value::Null, json!(""), json!(7), json!("k".repeat(257))] {
        let mut header = json!({"alg": "RS256"});
        if !kid.is_null() {
            header["kid"] = kid.clone();
        }
        let err = rejection(v.validate_at(&signer.sign(&header, &claims()), NOW));
        assert!(matches!(err, JwtError::MissingKid), "{kid}: {err:?}");
    }
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------- expected typ (opt-in)

#[test]
fn an_expected_typ_is_compared_as_a_media_type_and_ignored_when_not_configured() {
    let (signer, server) = main_server();
    let with_typ = |typ: Value| {
        let mut header = json!({"alg": "RS256", "kid": "rust-main"});
        if !typ.is_null() {
            header["typ"] = typ;
        }
        signer.sign(&header, &claims())
    };
    let v = JwtValidator::new(options(&server).with_expected_typ("JWT")).unwrap();
    for typ in ["JWT", "jwt", "application/jwt", "Application/JWT"] {
        v.validate_at(&with_typ(json!(typ)), NOW)
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    // at+jwt tokens (RFC 9068) and typ-less tokens are other types, refused before any fetch.
    let (_, cold_server) = main_server();
    let cold = JwtValidator::new(options(&cold_server).with_expected_typ("jwt")).unwrap();
    for typ in [
        json!("at+jwt"),
        json!("application/at+jwt"),
        json!("JOSE"),
        json!(7),
        Value::Null,
    ] {
        let err = rejection(cold.validate_at(&with_typ(typ.clone()), NOW));
        assert!(matches!(err, JwtError::UnexpectedType(_)), "{typ}: {err:?}");
    }
    assert_eq!(cold_server.requests(), 0);
    // Expecting a structured type: the `application/` prefix stays optional.
    let at = JwtValidator::new(options(&server).with_expected_typ("application/at+jwt")).unwrap();
    at.validate_at(&with_typ(json!("at+JWT")), NOW).unwrap();
    // Without the option any typ (or none) passes, as before.
    let plain = validator(&server);
    for typ in [json!("at+jwt"), json!(7), Value::Null] {
        plain
            .validate_at(&with_typ(typ.clone()), NOW)
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
}

// ---------------------------------------------------------------- tokens without kid (opt-in)

/// RFC 7515 A.2's `exp` is 1300819380 (2011-03-22); the tests validate a minute before it.
const A2_NOW: u64 = 1_300_819_320;

/// The RFC 7515 A.2.1 key that signs RFC 7515 A.2, served as a one-key JWKS. The fixture JWK has
/// no `kid` and a JWKS skips kid-less JWKs, so it is published under a `kid` that the (kid-less)
/// A.2 token cannot name.
fn rfc7515_a2_jwks() -> String {
    let mut jwk: Value = serde_json::from_str(&fixture("rfc7515_a2_jwk.json")).unwrap();
    jwk["kid"] = json!("rfc7515-a2");
    jwks(&[jwk])
}

/// Trust anchored on the JWKS URI alone (`iss` may be any string, such as A.2's `joe`: trusted
/// issuers must be URLs), with the single-key opt-in.
fn kidless_validator(server: &JwksServer) -> JwtValidator {
    JwtValidator::new(
        JwtValidationOptions::new()
            .with_jwks_uri(server.jwks_url())
            .dangerous_allow_missing_kid_if_single_key(),
    )
    .unwrap()
}

/// `signer`'s token for the standard claims, with a header that has no `kid`.
fn kidless_token(signer: &Signer) -> String {
    signer.sign(&json!({"alg": "RS256", "typ": "JWT"}), &claims())
}

#[test]
fn rfc7515_a2_passes_the_validator_only_with_the_single_key_opt_in() {
    let server = JwksServer::start(rfc7515_a2_jwks());
    let a2 = fixture("rfc7515_a2.jws");
    // Defaults: no kid, no key lookup, no fetch.
    let strict =
        JwtValidator::new(JwtValidationOptions::new().with_jwks_uri(server.jwks_url())).unwrap();
    let err = rejection(strict.validate_at(&a2, A2_NOW));
    assert!(matches!(err, JwtError::MissingKid), "{err:?}");
    assert_eq!(server.requests(), 0);

    // Opt-in: the single key verifies the RFC's signature and the claims are checked. A.2 has
    // no `sub`, which this crate requires (as upstream does), so the first claim check after the
    // RSA verify is what stops it; everything before it (kid, `iss` `joe`, key, signature,
    // `exp` at the injected time) passed.
    let lax = kidless_validator(&server);
    let err = rejection(lax.validate_at(&a2, A2_NOW));
    assert!(
        matches!(err, JwtError::MissingClaim(ref name) if name == "sub"),
        "{err:?}"
    );
    // The signature is really checked against that key, and the clock really is the injected one.
    let (input, sig) = a2.rsplit_once('.').unwrap();
    let mut sig = b64_decode(sig);
    sig[0] ^= 1;
    let tampered = format!("{input}.{}", b64(&sig));
    let err = rejection(lax.validate_at(&tampered, A2_NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    let err = rejection(lax.validate_at(&a2, NOW));
    assert!(matches!(err, JwtError::Expired), "{err:?}");
    assert_eq!(
        server.requests(),
        1,
        "one cold fetch, no refetch for kid-less tokens"
    );
}

#[test]
fn the_single_key_opt_in_accepts_a_kidless_token_and_leaves_tokens_with_a_kid_alone() {
    let (signer, server) = main_server();
    let v = kidless_validator(&server);
    let accepted = v.validate_at(&kidless_token(&signer), NOW).unwrap();
    assert_eq!(accepted.sub, "user-1");
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    // A kid that names no key never falls back to the single key.
    let err = rejection(v.validate_at(&Signer::main().with_kid("nope").token(&claims()), NOW));
    assert!(matches!(err, JwtError::UnknownKey(_)), "{err:?}");
    // A kid that is present but not a string of 1..=256 bytes is not "missing".
    for kid in [Value::Null, json!(""), json!(7), json!("k".repeat(257))] {
        let header = json!({"alg": "RS256", "kid": kid});
        let err = rejection(v.validate_at(&signer.sign(&header, &claims()), NOW));
        assert!(matches!(err, JwtError::MissingKid), "{kid}: {err:?}");
    }
    // Without the opt-in, the same kid-less token is refused before any fetch.
    let (_, other_server) = main_server();
    let err = rejection(validator(&other_server).validate_at(&kidless_token(&signer), NOW));
    assert!(matches!(err, JwtError::MissingKid), "{err:?}");
    assert_eq!(other_server.requests(), 0);
}

#[test]
fn a_kidless_token_is_refused_when_the_set_has_two_usable_keys() {
    let signer = Signer::main();
    let token = kidless_token(&signer);
    for keys in [
        vec![signer.jwk(), Signer::other().jwk()],
        // Two keys under one kid are still two keys.
        vec![signer.jwk(), Signer::other().with_kid("rust-main").jwk()],
    ] {
        let server = JwksServer::start(jwks(&keys));
        let v = kidless_validator(&server);
        for _ in 0..3 {
            let err = rejection(v.validate_at(&token, NOW));
            assert!(matches!(err, JwtError::MissingKid), "{err:?}");
        }
        assert_eq!(server.requests(), 1, "a kid-less miss never refetches");
    }
}

#[test]
fn a_kidless_token_must_verify_with_the_single_key() {
    let server = JwksServer::start(jwks(&[Signer::other().jwk()]));
    let err =
        rejection(kidless_validator(&server).validate_at(&kidless_token(&Signer::main()), NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
}

// ---------------------------------------------------------------- issuer trust

#[test]
fn rejects_lookalike_issuers_without_fetching() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for iss in [
        "https://api.runbeam.io.evil.com",
        "https://api.runbeam.io@evil.com",
        "https://api.runbeam.io:444/x",
        "http://api.runbeam.io/x",
        "https://evil.com/https://api.runbeam.io",
        "api.runbeam.io",
        "",
    ] {
        let err = rejection(v.validate_at(&signer.token(&claims_with(json!({"iss": iss}))), NOW));
        assert!(
            matches!(err, JwtError::UntrustedIssuer { .. }),
            "{iss}: {err:?}"
        );
    }
    assert_eq!(server.requests(), 0);
    // Same origin, any path and host case: trusted.
    v.validate_at(
        &signer.token(&claims_with(json!({"iss": "https://API.runbeam.io/other"}))),
        NOW,
    )
    .unwrap();
}

#[test]
fn a_prefix_match_would_send_the_fetch_to_the_attacker_but_origin_match_does_not() {
    let (signer, server) = main_server();
    let attacker = JwksServer::start(jwks(&[signer.jwk()]));
    // Trust the loopback issuer by origin only; keys from its well-known path.
    let v = JwtValidator::new(
        JwtValidationOptions::new().with_trusted_issuers(vec![server.origin().into()]),
    )
    .unwrap();
    let attacker_host = attacker.origin().trim_start_matches("http://");
    for iss in [
        format!("{}@{attacker_host}", server.origin()),
        format!("{}0", server.origin()),
    ] {
        let err = rejection(v.validate_at(&signer.token(&claims_with(json!({"iss": iss}))), NOW));
        assert!(
            matches!(err, JwtError::UntrustedIssuer { .. }),
            "{iss}: {err:?}"
        );
    }
    assert_eq!((attacker.requests(), server.requests()), (0, 0));
    let ok = claims_with(json!({"iss": format!("{}/api/cli/check-login/1", server.origin())}));
    v.validate_at(&signer.token(&ok), NOW).unwrap();
    assert_eq!(server.paths(), vec!["/api/.well-known/jwks.json"]);
}

#[test]
fn an_issuer_configured_with_a_path_must_match_exactly() {
    let (signer, server) = main_server();
    let v = JwtValidator::new(
        JwtValidationOptions::new()
            .with_trusted_issuers(vec!["https://api.runbeam.io/tenant-a".into()])
            .with_jwks_uri(server.jwks_url()),
    )
    .unwrap();
    let token = |iss: &str| signer.token(&claims_with(json!({"iss": iss})));
    v.validate_at(&token("https://api.runbeam.io/tenant-a"), NOW)
        .unwrap();
    for iss in [
        "https://api.runbeam.io/tenant-b",
        "https://api.runbeam.io/tenant-a/x",
        "https://api.runbeam.io",
    ] {
        assert!(
            matches!(
                rejection(v.validate_at(&token(iss), NOW)),
                JwtError::UntrustedIssuer { .. }
            ),
            "{iss}"
        );
    }
}

#[test]
fn refuses_to_build_without_trust_or_over_plain_http() {
    for options in [
        JwtValidationOptions::new(),
        JwtValidationOptions::new().with_jwks_uri("http://keys.example.com/jwks.json".into()),
        JwtValidationOptions::new().with_trusted_issuers(vec!["http://api.runbeam.io".into()]),
        JwtValidationOptions::new().with_trusted_issuers(vec!["https://a@api.runbeam.io".into()]),
    ] {
        assert!(matches!(
            JwtValidator::new(options),
            Err(RunbeamError::Config(_))
        ));
    }
}

#[test]
fn validate_jwt_token_trusts_only_the_environment_and_says_how_to_trust() {
    // The only test touching RUNBEAM_* variables, so no other test races with it.
    let (signer, server) = main_server();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token_from = |iss: String| {
        signer.token(&claims_with(
            json!({"iss": iss, "iat": now, "exp": now + 600}),
        ))
    };
    std::env::remove_var("RUNBEAM_API_URL");
    std::env::remove_var("RUNBEAM_TRUSTED_ISSUERS");
    let local = token_from(format!("{}/api/cli/check-login/1", server.origin()));
    let err = rejection(validate_jwt_token(&local, 24));
    assert!(err.to_string().contains("RUNBEAM_TRUSTED_ISSUERS"), "{err}");
    assert_eq!(server.requests(), 0);

    std::env::set_var(
        "RUNBEAM_TRUSTED_ISSUERS",
        format!("https://other.example, {}", server.origin()),
    );
    validate_jwt_token(&local, 24).unwrap();
    assert_eq!(server.requests(), 1);
    let evil = token_from(format!("{}.evil.com/x", server.origin()));
    let err = rejection(validate_jwt_token(&evil, 24));
    assert!(
        matches!(err, JwtError::UntrustedIssuer { .. })
            && err.to_string().contains("RUNBEAM_TRUSTED_ISSUERS")
    );
    assert_eq!(server.requests(), 1);

    std::env::remove_var("RUNBEAM_TRUSTED_ISSUERS");
    std::env::set_var("RUNBEAM_API_URL", format!("{}/api", server.origin()));
    validate_jwt_token(&local, 24).unwrap();
    std::env::set_var("RUNBEAM_API_URL", "not a url");
    assert!(matches!(
        validate_jwt_token(&local, 24),
        Err(RunbeamError::Config(ConfigError::InvalidEnv { .. }))
    ));
    std::env::remove_var("RUNBEAM_API_URL");
}

// ---------------------------------------------------------------- structure and encoding

#[test]
fn rejects_duplicate_members_in_header_and_claims() {
    let (signer, server) = main_server();
    let v = validator(&server);
    let header =
        b64(format!(r#"{{"alg":"RS256","kid":"{}","alg":"RS256"}}"#, signer.kid).as_bytes());
    let payload = b64(claims().to_string().as_bytes());
    let err = rejection(v.validate_at(&signer.sign_segments(&header, &payload), NOW));
    assert!(
        matches!(err, JwtError::DuplicateMember("header")),
        "{err:?}"
    );
    let good_header = b64(json!({"alg": "RS256", "kid": signer.kid})
        .to_string()
        .as_bytes());
    let dup = format!(
        r#"{{"iss":"{ISS}","sub":"u","exp":{},"role":"user","role":"admin"}}"#,
        NOW + 60
    );
    let err = rejection(v.validate_at(
        &signer.sign_segments(&good_header, &b64(dup.as_bytes())),
        NOW,
    ));
    assert!(
        matches!(err, JwtError::DuplicateMember("claims")),
        "{err:?}"
    );
}

#[test]
fn rejects_padding_standard_alphabet_and_non_canonical_base64() {
    let (signer, server) = main_server();
    let v = validator(&server);
    let token = signer.token(&claims());
    v.validate_at(&token, NOW).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(
        sig.len(),
        342,
        "2048-bit signature: last char carries 2 bits"
    );
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    let non_canonical = alphabet.chars().nth(index | 0b0001).unwrap();
    let variants = [
        format!("{input}.{sig}=="),
        format!("{input}.{}{non_canonical}", &sig[..341]),
        format!("{input}.{}", sig.replace('-', "+").replace('_', "/")),
        format!("{input}. {sig}"),
        format!("{input}..{sig}"),
        input.to_string(),
        format!("{}=.{}", input.replace('.', "=."), sig),
    ];
    for variant in variants {
        if variant == token {
            continue;
        }
        let err = rejection(v.validate_at(&variant, NOW));
        assert!(matches!(err, JwtError::Malformed(_)), "{err:?}");
    }
}

#[test]
fn caps_token_size_before_decoding() {
    let (signer, server) = main_server();
    let big = signer.token(&claims_with(json!({"blob": "x".repeat(20_000)})));
    let err = rejection(validator(&server).validate_at(&big, NOW));
    assert!(
        matches!(err, JwtError::TooLarge { max: 16384, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests(), 0);
    let roomy = JwtValidator::new(options(&server).with_max_token_bytes(1 << 16)).unwrap();
    roomy.validate_at(&big, NOW).unwrap();
    let huge = "a".repeat(70_000);
    assert!(matches!(
        rejection(roomy.validate_at(&huge, NOW)),
        JwtError::TooLarge { max: 65536, .. }
    ));
}

#[test]
fn deep_json_is_a_typed_error_not_a_crash() {
    let (signer, server) = main_server();
    let header = b64(json!({"alg": "RS256", "kid": signer.kid})
        .to_string()
        .as_bytes());
    let deep = format!(
        r#"{{"iss":"{ISS}","x":{}{}}}"#,
        "[".repeat(3000),
        "]".repeat(3000)
    );
    let err = rejection(
        validator(&server).validate_at(&signer.sign_segments(&header, &b64(deep.as_bytes())), NOW),
    );
    assert!(matches!(err, JwtError::Malformed(_)), "{err:?}");
}

#[test]
fn parser_exposes_only_unverified_views() {
    let signer = Signer::main();
    let token = signer.token(&claims());
    let parsed = UnverifiedToken::parse(&token).unwrap();
    assert_eq!(parsed.unverified_kid(), Some("rust-main"));
    assert_eq!(parsed.unverified_issuer(), Some(ISS));
    assert_eq!(parsed.unverified_typ(), Some("JWT"));
    for name in ["iss", "user", "exp"] {
        assert_eq!(
            parsed.unverified_claim(name),
            Some(&claims()[name]),
            "{name}"
        );
    }
    assert_eq!(parsed.unverified_claim("team"), None);
    assert_eq!(format!("{parsed:?}"), "UnverifiedToken([redacted])");
    // A missing kid is the validator's decision (it depends on the options), not the parser's.
    let a2 = fixture("rfc7515_a2.jws");
    assert_eq!(UnverifiedToken::parse(&a2).unwrap().unverified_kid(), None);
}

// ---------------------------------------------------------------- claims and time

#[test]
fn time_claims_use_the_leeway_which_is_at_most_300_seconds() {
    let (signer, server) = main_server();
    let at = |v: &JwtValidator, c: Value| v.validate_at(&signer.token(&claims_with(c)), NOW);
    let default = validator(&server);
    at(&default, json!({"exp": NOW - 30})).unwrap();
    assert!(matches!(
        rejection(at(&default, json!({"exp": NOW - 61}))),
        JwtError::Expired
    ));
    assert!(matches!(
        rejection(at(&default, json!({"nbf": NOW + 61}))),
        JwtError::NotYetValid
    ));
    assert!(matches!(
        rejection(at(&default, json!({"iat": NOW + 61}))),
        JwtError::IssuedInFuture
    ));
    let strict = JwtValidator::new(options(&server).with_leeway_seconds(0)).unwrap();
    assert!(matches!(
        rejection(at(&strict, json!({"exp": NOW - 1}))),
        JwtError::Expired
    ));
    assert!(matches!(
        rejection(at(&strict, json!({"nbf": NOW + 1}))),
        JwtError::NotYetValid
    ));
    let widest = JwtValidator::new(options(&server).with_leeway(Duration::from_secs(300))).unwrap();
    at(&widest, json!({"exp": NOW - 299})).unwrap();
    assert!(matches!(
        rejection(at(&widest, json!({"exp": NOW - 301}))),
        JwtError::Expired
    ));
}

#[test]
fn max_age_rejects_tokens_issued_too_long_ago_and_tokens_without_iat() {
    let (signer, server) = main_server();
    let v = JwtValidator::new(
        options(&server)
            .with_leeway_seconds(10)
            .with_max_age(Duration::from_secs(600)),
    )
    .unwrap();
    let token = signer.token(&claims_with(json!({"iat": NOW, "exp": NOW + 7200})));
    v.validate_at(&token, NOW + 600).unwrap();
    v.validate_at(&token, NOW + 610).unwrap();
    assert!(matches!(
        rejection(v.validate_at(&token, NOW + 611)),
        JwtError::TooOld
    ));
    let no_iat = signer.token(&claims_with(json!({"iat": null})));
    assert!(matches!(
        rejection(v.validate_at(&no_iat, NOW)),
        JwtError::MissingClaim(name) if name == "iat"
    ));
    // Without the option, age and a missing iat do not matter.
    validator(&server).validate_at(&no_iat, NOW).unwrap();
    validator(&server).validate_at(&token, NOW + 3600).unwrap();
}

#[test]
fn min_remaining_rejects_tokens_about_to_expire_without_leeway() {
    let (signer, server) = main_server();
    let v =
        JwtValidator::new(options(&server).with_min_remaining(Duration::from_secs(300))).unwrap();
    let token = signer.token(&claims_with(json!({"exp": NOW + 1000})));
    v.validate_at(&token, NOW + 700).unwrap();
    assert!(matches!(
        rejection(v.validate_at(&token, NOW + 701)),
        JwtError::ExpiresTooSoon
    ));
    // Past exp the older, more precise reason wins.
    assert!(matches!(
        rejection(v.validate_at(&token, NOW + 1100)),
        JwtError::Expired
    ));
    validator(&server).validate_at(&token, NOW + 990).unwrap();
}

#[test]
fn a_verified_token_cache_hit_still_applies_max_age_and_min_remaining() {
    let (signer, server) = main_server();
    let token = signer.token(&claims_with(json!({"iat": NOW, "exp": NOW + 1000})));
    let cached = |policy: JwtValidationOptions| {
        let v = JwtValidator::new(policy.with_verified_token_cache(10).with_leeway_seconds(0));
        let v = v.unwrap();
        v.validate_at(&token, NOW).unwrap();
        assert_eq!(v.cached_token_count(), 1);
        v
    };
    let old = cached(options(&server).with_max_age(Duration::from_secs(100)));
    assert!(matches!(
        rejection(old.validate_at(&token, NOW + 101)),
        JwtError::TooOld
    ));
    let soon = cached(options(&server).with_min_remaining(Duration::from_secs(100)));
    assert!(matches!(
        rejection(soon.validate_at(&token, NOW + 901)),
        JwtError::ExpiresTooSoon
    ));
}

#[test]
fn options_out_of_range_are_refused_by_new_not_clamped() {
    let (_, server) = main_server();
    let refused = |options| refused_option(JwtValidator::new(options)).0;
    assert_eq!(refused(options(&server).with_leeway_seconds(301)), "leeway");
    assert_eq!(
        refused(options(&server).with_jwks_refresh_cooldown(Duration::from_secs(4))),
        "jwks_refresh_cooldown"
    );
    assert_eq!(
        refused(options(&server).with_max_token_bytes(0)),
        "max_token_bytes"
    );
    assert_eq!(
        refused(options(&server).with_max_token_bytes(65_537)),
        "max_token_bytes"
    );
    assert_eq!(
        refused(options(&server).with_max_key_bits(1024)),
        "max_key_bits"
    );
    assert_eq!(
        refused(options(&server).with_max_key_bits(8193)),
        "max_key_bits"
    );
    assert_eq!(
        refused(options(&server).with_verified_token_cache(10_001)),
        "verified_token_cache"
    );
    // The edges themselves are fine, and the Duration and number forms agree.
    for ok in [
        options(&server).with_leeway_seconds(300),
        options(&server).with_jwks_refresh_cooldown_seconds(5),
        options(&server).with_max_token_bytes(65_536),
        options(&server).with_max_key_bits(8192),
        options(&server).with_verified_token_cache(10_000),
    ] {
        JwtValidator::new(ok).unwrap();
    }
    assert_eq!(
        options(&server).with_jwks_cache_duration_hours(2),
        options(&server).with_jwks_cache_duration(Duration::from_secs(7200))
    );
}

#[test]
fn a_trusted_issuer_given_as_origin_slash_api_trusts_the_origin_like_runbeam_api_url() {
    let (signer, server) = main_server();
    let iss = format!("{}/api/cli/check-login/abc", server.origin());
    let token = signer.token(&claims_with(json!({ "iss": iss })));
    for issuer in [
        format!("{}/api", server.origin()),
        format!("{}/api/", server.origin()),
    ] {
        let v = JwtValidator::new(JwtValidationOptions::new().with_trusted_issuers(vec![issuer]))
            .unwrap();
        v.validate_at(&token, NOW).unwrap();
    }
    let exact = format!("{}/api/other", server.origin());
    let v =
        JwtValidator::new(JwtValidationOptions::new().with_trusted_issuers(vec![exact])).unwrap();
    assert!(matches!(
        rejection(v.validate_at(&token, NOW)),
        JwtError::UntrustedIssuer { .. }
    ));
}

#[test]
fn date_claims_must_be_numeric_dates() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for (name, value) in [
        ("exp", json!("1800003600")),
        ("exp", json!(-1)),
        ("nbf", json!(true)),
        ("iat", json!(1e300)),
        ("exp", json!(253_402_300_800u64)),
    ] {
        let err =
            rejection(v.validate_at(&signer.token(&claims_with(json!({ name: value }))), NOW));
        assert!(
            matches!(err, JwtError::ClaimFormat(n) if n == name),
            "{name}={value}: {err:?}"
        );
    }
    let err = rejection(v.validate_at(&signer.token(&claims_with(json!({"exp": null}))), NOW));
    assert!(
        matches!(err, JwtError::MissingClaim(ref n) if n == "exp"),
        "{err:?}"
    );
}

#[test]
fn audience_is_checked_only_when_configured() {
    let (signer, server) = main_server();
    let token = |aud: Value| signer.token(&claims_with(json!({ "aud": aud })));
    let open = validator(&server);
    open.validate_at(&token(json!("runbeam-cli")), NOW).unwrap();
    let api =
        JwtValidator::new(options(&server).with_audience(vec!["runbeam-api".into()])).unwrap();
    api.validate_at(&token(json!("runbeam-api")), NOW).unwrap();
    api.validate_at(&token(json!(["x", "runbeam-api"])), NOW)
        .unwrap();
    assert!(matches!(
        rejection(api.validate_at(&token(json!("runbeam-cli")), NOW)),
        JwtError::AudienceMismatch
    ));
    assert!(matches!(
        rejection(api.validate_at(&token(json!(["runbeam-apix"])), NOW)),
        JwtError::AudienceMismatch
    ));
    assert!(matches!(
        rejection(api.validate_at(&token(Value::Null), NOW)),
        JwtError::MissingClaim(_)
    ));
    for bad in [json!(5), json!([]), json!(["runbeam-api", 5])] {
        assert!(matches!(
            rejection(api.validate_at(&token(bad), NOW)),
            JwtError::ClaimFormat("aud")
        ));
    }
}

#[test]
fn required_claims_are_read_from_the_raw_payload() {
    let (signer, server) = main_server();
    let v = JwtValidator::new(
        options(&server).with_required_claims(vec!["scope".into(), "aud".into()]),
    )
    .unwrap();
    let ok = v
        .validate_at(
            &signer.token(&claims_with(json!({"scope": "a", "aud": "x"}))),
            NOW,
        )
        .unwrap();
    assert_eq!(ok.extra["scope"], "a");
    for missing in [
        json!({"aud": "x"}),
        json!({"scope": null, "aud": "x"}),
        json!({"scope": "a"}),
    ] {
        let err = rejection(v.validate_at(&signer.token(&claims_with(missing.clone())), NOW));
        assert!(
            matches!(err, JwtError::MissingClaim(_)),
            "{missing}: {err:?}"
        );
    }
}

#[test]
fn subject_must_be_a_non_empty_string() {
    let (signer, server) = main_server();
    let v = validator(&server);
    for sub in [json!(""), Value::Null] {
        assert!(matches!(
            rejection(v.validate_at(&signer.token(&claims_with(json!({"sub": sub}))), NOW)),
            JwtError::MissingClaim(_)
        ));
    }
    assert!(matches!(
        rejection(v.validate_at(&signer.token(&claims_with(json!({"sub": 5}))), NOW)),
        JwtError::ClaimFormat("sub")
    ));
}

// ---------------------------------------------------------------- JWKS cache and fetching

/// Validates `token` on `count` threads at once; each must accept it as `user-1`'s.
fn validated_by_threads(v: &Arc<JwtValidator>, token: &Arc<String>, count: usize) {
    let threads: Vec<_> = (0..count)
        .map(|_| {
            let (v, token) = (Arc::clone(v), Arc::clone(token));
            std::thread::spawn(move || v.validate_at(&token, NOW).map(|c| c.sub))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), "user-1");
    }
}

#[test]
fn sixteen_threads_on_a_cold_cache_cause_one_fetch() {
    let (signer, server) = main_server();
    server.set_delay(Duration::from_millis(300));
    let v = Arc::new(validator(&server));
    let token = Arc::new(signer.token(&claims()));
    validated_by_threads(&v, &token, 16);
    assert_eq!(server.requests(), 1);
}

#[test]
fn fifty_unknown_kids_cause_at_most_two_fetches_and_known_kids_keep_working() {
    let (signer, server) = main_server();
    let v = validator(&server);
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    let other = Signer::other();
    for i in 0..50 {
        let token = other.sign(
            &json!({"alg": "RS256", "kid": format!("unknown-{i}")}),
            &claims(),
        );
        assert!(matches!(
            rejection(v.validate_at(&token, NOW)),
            JwtError::UnknownKey(_)
        ));
        v.validate_at(&signer.token(&claims()), NOW).unwrap();
    }
    assert!(server.requests() <= 2, "{} fetches", server.requests());
}

#[test]
fn bad_signatures_and_expired_tokens_never_refetch() {
    let (signer, server) = main_server();
    let v = validator(&server);
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    let forged = Signer::other().with_kid("rust-main").token(&claims());
    let expired = signer.token(&claims_with(json!({"exp": NOW - 3600})));
    for _ in 0..20 {
        assert!(matches!(
            rejection(v.validate_at(&forged, NOW)),
            JwtError::BadSignature
        ));
        assert!(matches!(
            rejection(v.validate_at(&expired, NOW)),
            JwtError::Expired
        ));
    }
    assert_eq!(server.requests(), 1);
}

#[test]
fn rotation_is_picked_up_after_the_cooldown_and_removed_kids_stop_verifying() {
    let time = TestTime::default();
    let (old, server) = main_server();
    let v = JwtValidator::new(short_cooldown(&time, &server)).unwrap();
    v.validate_at(&old.token(&claims()), NOW).unwrap();
    let new = Signer::other();
    server.set_reply(200, jwks(&[new.jwk()]));
    assert!(matches!(
        rejection(v.validate_at(&new.token(&claims()), NOW)),
        JwtError::UnknownKey(_)
    ));
    assert_eq!(
        server.requests(),
        1,
        "inside the cooldown an unknown kid fails at once"
    );
    time.pass(PAST_COOLDOWN);
    v.validate_at(&new.token(&claims()), NOW).unwrap();
    assert_eq!(server.requests(), 2);
    assert!(matches!(
        rejection(v.validate_at(&old.token(&claims()), NOW)),
        JwtError::UnknownKey(_)
    ));
}

/// `server`'s options with the shortest refresh cooldown (5 s), timed by `time`.
fn short_cooldown(time: &TestTime, server: &JwksServer) -> JwtValidationOptions {
    time.options(options(server))
        .with_jwks_refresh_cooldown_seconds(5)
}

/// `signer`'s header and `claims` under a signature made for other bytes: a forgery that is
/// well-formed, names a published `kid` and holds dates that pass, made without any RSA work.
fn forged(signer: &Signer, claims: &Value, signature: &str) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": signer.kid});
    let (header, claims) = (
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
    );
    format!("{header}.{claims}.{signature}")
}

#[test]
fn a_key_replaced_under_its_kid_is_refetched_once_past_the_cooldown() {
    let time = TestTime::default();
    let (old, server) = main_server();
    let v =
        JwtValidator::new(short_cooldown(&time, &server).with_verified_token_cache(10)).unwrap();
    let old_token = old.token(&claims());
    v.validate_at(&old_token, NOW).unwrap();
    v.validate_at(&old_token, NOW).unwrap();
    assert_eq!(v.stats().token_cache_hits, 1);
    // The issuer replaces its key and keeps the kid.
    let new = Signer::other().with_kid(&old.kid);
    server.set_reply(200, jwks(&[new.jwk()]));
    let new_token = new.token(&claims_with(json!({"sub": "user-2"})));
    let err = rejection(v.validate_at(&new_token, NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    assert_eq!(
        server.requests(),
        1,
        "a set fetched within the cooldown is not refetched"
    );
    time.pass(PAST_COOLDOWN);
    assert_eq!(v.validate_at(&new_token, NOW).unwrap().sub, "user-2");
    assert_eq!(server.requests(), 2);
    let stats = v.stats();
    assert_eq!(
        (stats.fetches, stats.rejected_signature),
        (2, 1),
        "{stats:?}"
    );
    // The replaced key verified the cached token: the cache no longer serves it.
    let err = rejection(v.validate_at(&old_token, NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    assert_eq!(v.cached_token_count(), 1, "only the new token");
    assert_eq!(server.requests(), 2, "the refetch opened a new cooldown");
}

#[test]
fn a_thousand_forged_signatures_cost_at_most_one_fetch_per_cooldown() {
    let time = TestTime::default();
    let (signer, server) = main_server();
    let v = Arc::new(JwtValidator::new(short_cooldown(&time, &server)).unwrap());
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    let token = signer.token(&claims());
    let signature = token.rsplit('.').next().unwrap();
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..1000)
            .map(|i| {
                forged(
                    &signer,
                    &claims_with(json!({"sub": format!("forger-{i}")})),
                    signature,
                )
            })
            .collect(),
    );
    // A slow server keeps the one fetch in flight while the other threads fail theirs.
    server.set_delay(Duration::from_millis(300));
    let flood = || {
        let started = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (v, tokens) = (Arc::clone(&v), Arc::clone(&tokens));
                std::thread::spawn(move || {
                    for token in tokens.iter().skip(t).step_by(8) {
                        let err = rejection(v.validate_at(token, NOW));
                        assert!(matches!(err, JwtError::BadSignature), "{err:?}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        started.elapsed()
    };
    flood();
    assert_eq!(
        server.requests(),
        1,
        "a set fetched within the cooldown is not refetched"
    );
    time.pass(PAST_COOLDOWN);
    let took = flood();
    let fetched = server.requests() - 1;
    let windows = 1 + (took.as_secs() / 5) as usize;
    eprintln!("1000 forged tokens in {took:?}: {fetched} fetch(es)");
    assert!(
        (1..=windows).contains(&fetched),
        "{fetched} fetches in {took:?}"
    );
    let stats = v.stats();
    assert_eq!(stats.rejected_signature, 2000);
    assert_eq!(stats.fetches as usize, server.requests());
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
}

#[test]
fn threads_needing_a_replaced_key_wait_for_one_fetch() {
    let time = TestTime::default();
    let (old, server) = main_server();
    let v = Arc::new(JwtValidator::new(short_cooldown(&time, &server)).unwrap());
    v.validate_at(&old.token(&claims()), NOW).unwrap();
    let new = Signer::other().with_kid(&old.kid);
    server.set_reply(200, jwks(&[new.jwk()]));
    server.set_delay(Duration::from_millis(300));
    time.pass(PAST_COOLDOWN);
    let token = Arc::new(new.token(&claims()));
    validated_by_threads(&v, &token, 8);
    assert_eq!(server.requests(), 2);
}

#[test]
fn forged_signatures_while_the_issuer_is_down_cost_one_fetch_per_cooldown() {
    let time = TestTime::default();
    let (signer, server) = main_server();
    let v = JwtValidator::new(short_cooldown(&time, &server)).unwrap();
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    server.set_reply(500, "down".into());
    time.pass(PAST_COOLDOWN);
    let token = signer.token(&claims());
    let signature = token.rsplit('.').next().unwrap();
    for i in 0..100 {
        let forgery = forged(
            &signer,
            &claims_with(json!({"sub": format!("forger-{i}")})),
            signature,
        );
        let err = rejection(v.validate_at(&forgery, NOW));
        assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    }
    assert_eq!(
        server.requests(),
        2,
        "one failed refetch, then the cooldown"
    );
    assert_eq!(v.stats().fetch_failures, 1);
    v.validate_at(&token, NOW).unwrap();
}

#[test]
fn a_token_its_own_dates_rule_out_never_refetches_for_a_replaced_key() {
    let time = TestTime::default();
    let (old, server) = main_server();
    let v = JwtValidator::new(short_cooldown(&time, &server)).unwrap();
    v.validate_at(&old.token(&claims()), NOW).unwrap();
    let new = Signer::other().with_kid(&old.kid);
    server.set_reply(200, jwks(&[new.jwk()]));
    time.pass(PAST_COOLDOWN);
    for dates in [
        json!({"exp": NOW - 3600}),
        json!({"nbf": NOW + 3600}),
        json!({"exp": "soon"}),
        json!({"exp": null}),
    ] {
        let err = rejection(v.validate_at(&new.token(&claims_with(dates.clone())), NOW));
        assert!(matches!(err, JwtError::BadSignature), "{dates}: {err:?}");
    }
    assert_eq!(server.requests(), 1);
    v.validate_at(&new.token(&claims()), NOW).unwrap();
    assert_eq!(server.requests(), 2);
}

// ---------------------------------------------------------------- proxies

/// The child's loopback JWKS URL.
const CHILD_JWKS_URL: &str = "RUNBEAM_TEST_CHILD_JWKS_URL";

/// A proxy on 127.0.0.1 that records each request line and answers 502.
fn refusing_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            log.lock().unwrap().push(line.trim_end().to_owned());
            let reply =
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn remote_key_sets_are_fetched_through_the_environment_proxy_and_loopback_ones_never() {
    let (_, server) = main_server();
    let (proxy, seen) = refusing_proxy();
    let env = [(CHILD_JWKS_URL, server.jwks_url())];
    let passed = passes_behind_proxy("child_validates_behind_a_proxy", &proxy, &env);
    assert!(passed, "the child's checks failed");
    assert_eq!(
        server.requests(),
        1,
        "the loopback key set was fetched directly"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        ["CONNECT api.runbeam.io:443 HTTP/1.1"],
        "only the remote key set went through the proxy"
    );
}

/// Child mode of the proxy test; runs only with the proxy environment set by its parent.
#[test]
#[ignore = "child process of remote_key_sets_are_fetched_through_the_environment_proxy_and_loopback_ones_never"]
fn child_validates_behind_a_proxy() {
    let token = Signer::main().token(&claims());
    let loopback = std::env::var(CHILD_JWKS_URL).unwrap();
    let local = JwtValidator::new(
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![TRUSTED.into()])
            .with_jwks_uri(loopback),
    )
    .unwrap();
    local.validate_at(&token, NOW).unwrap();
    // The issuer's own well-known URL: the proxy refuses the tunnel, a typed fetch error.
    let remote =
        JwtValidator::new(JwtValidationOptions::new().with_trusted_issuers(vec![TRUSTED.into()]))
            .unwrap();
    let err = rejection(remote.validate_at(&token, NOW));
    assert!(matches!(err, JwtError::JwksFetch { .. }), "{err:?}");
}

// ---------------------------------------------------------------- verified-token cache (opt-in)

fn caching_validator(server: &JwksServer, max_entries: usize) -> JwtValidator {
    JwtValidator::new(options(server).with_verified_token_cache(max_entries)).unwrap()
}

#[test]
fn the_verified_token_cache_serves_repeats_but_rechecks_the_clock() {
    let (signer, server) = main_server();
    let v = caching_validator(&server, 100);
    let token = signer.token(&claims());
    let first = v.validate_at(&token, NOW).unwrap();
    assert_eq!(v.cached_token_count(), 1);
    assert_eq!(
        v.validate_at(&token, NOW).unwrap(),
        first,
        "a hit gives the same claims"
    );
    assert_eq!(v.cached_token_count(), 1);
    // A hit is still checked against the given time, and an expired entry is dropped.
    let err = rejection(v.validate_at(&token, NOW + 3600 + 61));
    assert!(matches!(err, JwtError::Expired), "{err:?}");
    assert_eq!(v.cached_token_count(), 0);
    v.validate_at(&token, NOW).unwrap();
    let early = signer.token(&claims_with(json!({"nbf": NOW + 300})));
    v.validate_at(&early, NOW + 300).unwrap();
    assert_eq!(v.cached_token_count(), 2);
    let err = rejection(v.validate_at(&early, NOW));
    assert!(matches!(err, JwtError::NotYetValid), "{err:?}");
    let future = signer.token(&claims_with(json!({"iat": NOW + 300})));
    v.validate_at(&future, NOW + 300).unwrap();
    let err = rejection(v.validate_at(&future, NOW));
    assert!(matches!(err, JwtError::IssuedInFuture), "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn tokens_differing_in_one_byte_never_share_a_cache_entry() {
    let (signer, server) = main_server();
    let v = caching_validator(&server, 100);
    let token = signer.token(&claims());
    v.validate_at(&token, NOW).unwrap();
    let (first_dot, last_dot) = (token.find('.').unwrap(), token.rfind('.').unwrap());
    // One position in each segment, plus the very last byte of the signature.
    for at in [1, first_dot + 5, last_dot + 5, token.len() - 2] {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        let err = rejection(v.validate_at(&changed, NOW));
        assert!(
            matches!(err, JwtError::BadSignature | JwtError::Malformed(_)),
            "byte {at}: {err:?}"
        );
    }
    assert_eq!(v.cached_token_count(), 1, "failures are never cached");
}

#[test]
fn the_verified_token_cache_is_bounded_off_by_default_and_skips_long_tokens() {
    let (signer, server) = main_server();
    let v = caching_validator(&server, 2);
    for sub in ["a", "b", "c"] {
        v.validate_at(&signer.token(&claims_with(json!({"sub": sub}))), NOW)
            .unwrap();
    }
    assert_eq!(v.cached_token_count(), 2);
    let long = signer.token(&claims_with(
        json!({"pad": "x".repeat(4096)}), // over the 4 KiB cached-token limit
    ));
    let roomy = caching_validator(&server, 100);
    roomy.validate_at(&long, NOW).unwrap();
    assert_eq!(
        roomy.cached_token_count(),
        0,
        "a token over 4 KiB is not cached"
    );
    let plain = validator(&server);
    plain.validate_at(&signer.token(&claims()), NOW).unwrap();
    assert_eq!(plain.cached_token_count(), 0, "off unless asked for");
}

#[test]
fn a_cached_token_is_verified_again_once_its_key_set_is_refetched() {
    let time = TestTime::default();
    let (signer, server) = main_server();
    // TTL 0: after the 5 s cooldown, the next lookup refetches the set.
    let v = JwtValidator::new(
        short_cooldown(&time, &server)
            .with_jwks_cache_duration_hours(0)
            .with_verified_token_cache(10),
    )
    .unwrap();
    let token = signer.token(&claims());
    v.validate_at(&token, NOW).unwrap();
    // The issuer now publishes ANOTHER key under the same kid: the cached entry must not
    // outlive the key that verified it.
    server.set_reply(200, jwks(&[Signer::other().with_kid("rust-main").jwk()]));
    time.pass(PAST_COOLDOWN);
    let err = rejection(v.validate_at(&token, NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    assert_eq!(server.requests(), 2);
    assert_eq!(v.cached_token_count(), 0);
}

#[test]
fn a_failed_refresh_keeps_serving_the_last_good_keys() {
    let time = TestTime::default();
    let (signer, server) = main_server();
    let v = JwtValidator::new(short_cooldown(&time, &server).with_jwks_cache_duration_hours(0))
        .unwrap();
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    server.set_reply(500, "down".into());
    time.pass(PAST_COOLDOWN);
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    assert_eq!(
        server.requests(),
        2,
        "the expired set was refreshed (and the refresh failed)"
    );
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    assert_eq!(server.requests(), 2, "no retry inside the cooldown");
}

#[test]
fn fetch_failures_are_typed() {
    let signer = Signer::main();
    let token = signer.token(&claims());
    let server = JwksServer::start(String::new());
    let check = |status: u16, body: String, expected: fn(&JwtError) -> bool| {
        server.set_reply(status, body);
        // A fresh validator per case: each starts with a cold cache.
        let err = rejection(validator(&server).validate_at(&token, NOW));
        assert!(expected(&err), "{status}: {err:?}");
    };
    check(500, jwks(&[signer.jwk()]), |e| {
        matches!(e, JwtError::JwksStatus { status: 500, .. })
    });
    check(204, String::new(), |e| {
        matches!(e, JwtError::JwksStatus { status: 204, .. })
    });
    check(200, "<html>".into(), |e| {
        matches!(e, JwtError::JwksInvalid(_))
    });
    check(200, "{\"keys\":{}}".into(), |e| {
        matches!(e, JwtError::JwksInvalid(_))
    });
    check(200, jwks(&vec![signer.jwk(); 101]), |e| {
        matches!(e, JwtError::JwksInvalid("too many keys"))
    });
    check(200, jwks(&[signer.jwk(), signer.jwk()]), |e| {
        matches!(e, JwtError::AmbiguousKey(_))
    });
    check(200, " ".repeat(300 * 1024), |e| {
        matches!(e, JwtError::JwksTooLarge(_))
    });

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let v = JwtValidator::new(
        JwtValidationOptions::new().with_jwks_uri(format!("http://127.0.0.1:{port}/jwks")),
    )
    .unwrap();
    assert!(matches!(
        rejection(v.validate_at(&token, NOW)),
        JwtError::JwksFetch { .. }
    ));
}

#[test]
fn redirects_are_not_followed() {
    let (signer, target) = main_server();
    let server = JwksServer::start(String::new());
    server.set_redirect(&target.jwks_url());
    let err = rejection(validator(&server).validate_at(&signer.token(&claims()), NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(target.requests(), 0);
}

// ---------------------------------------------------------------- no secrets in errors

#[test]
fn no_error_shows_token_or_signature_text() {
    let server = JwksServer::start(fixture("jwks.json"));
    let v = validator(&server);
    let mut tokens: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jwt") || n.ends_with(".jws"))
        .map(|n| fixture(&n))
        .collect();
    let signer = Signer::main();
    tokens.push(signer.token(&claims_with(json!({"iss": "https://evil.example/SECRET-ISS-PATH-THAT-IS-LONG-ENOUGH-TO-BE-CUT-OFF-AT-SIXTY-FOUR-CHARS-XYZ"}))));
    let mut seen = 0;
    for token in &tokens {
        let Err(err) = v.validate_at(token, NOW + 7200) else {
            continue;
        };
        seen += 1;
        let shown = format!("{err} {err:?} {err:#?}");
        for segment in token.split('.').filter(|s| s.len() >= 8) {
            assert!(!shown.contains(segment), "{shown}");
        }
        assert!(
            !shown.contains("XYZ"),
            "attacker text is truncated: {shown}"
        );
    }
    assert!(seen >= 18);
    let debug = format!("{v:?} {:?}", UnverifiedToken::parse(&tokens[0]));
    assert!(
        !tokens[0]
            .split('.')
            .any(|s| s.len() >= 8 && debug.contains(s)),
        "{debug}"
    );
}

#[test]
fn validator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<JwtValidator>();
    assert_send_sync::<JwtClaims>();
}

#[test]
fn jwks_uri_is_used_verbatim() {
    let (signer, server) = main_server();
    let uri = format!("{}/keys/custom.json?v=2", server.origin());
    let v = JwtValidator::new(
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![TRUSTED.into()])
            .with_jwks_uri(uri),
    )
    .unwrap();
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    assert_eq!(server.paths(), vec!["/keys/custom.json?v=2"]);
}

#[test]
fn a_jwks_uri_alone_is_a_trust_anchor_for_any_issuer_it_signs_for() {
    let (signer, server) = main_server();
    let v =
        JwtValidator::new(JwtValidationOptions::new().with_jwks_uri(server.jwks_url())).unwrap();
    let claims = v
        .validate_at(
            &signer.token(&claims_with(json!({"iss": "https://idp.example"}))),
            NOW,
        )
        .unwrap();
    assert_eq!(claims.iss, "https://idp.example");
    let err = rejection(v.validate_at(&signer.token(&claims_with(json!({"iss": null}))), NOW));
    assert!(
        matches!(err, JwtError::MissingClaim(ref n) if n == "iss"),
        "{err:?}"
    );
}

#[test]
fn validate_jwt_token_with_options_uses_the_given_trust() {
    let (signer, server) = main_server();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = signer.token(&claims_with(json!({"iat": now, "exp": now + 600})));
    let claims =
        runbeam_sdk_blocking::validate_jwt_token_with_options(&token, &options(&server)).unwrap();
    assert_eq!(claims.sub, "user-1");
    assert!(!claims.is_expired());
    assert!(matches!(
        runbeam_sdk_blocking::validate_jwt_token_with_options(&token, &JwtValidationOptions::new()),
        Err(RunbeamError::Config(ConfigError::InvalidOption { .. }))
    ));
    let strict = options(&server).with_audience(vec!["runbeam-api".into()]);
    assert!(matches!(
        rejection(runbeam_sdk_blocking::validate_jwt_token_with_options(
            &token, &strict
        )),
        JwtError::MissingClaim(_)
    ));
}

// ---------------------------------------------------------------- static keys (no network)

/// A validator trusting the counting server's origin, so any fetch would be seen there.
fn static_validator(server: &JwksServer, json: &str) -> Result<JwtValidator, RunbeamError> {
    JwtValidator::new(
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![server.origin().into()])
            .with_jwks_json(json),
    )
}

fn server_token(signer: &Signer, server: &JwksServer) -> String {
    let iss = format!("{}/api/cli/x", server.origin());
    signer.token(&claims_with(json!({ "iss": iss })))
}

#[test]
fn a_static_key_set_validates_without_any_request() {
    let (signer, server) = main_server();
    let v = static_validator(&server, &jwks(&[signer.jwk()])).unwrap();
    v.validate_at(&server_token(&signer, &server), NOW).unwrap();
    let unknown = server_token(&Signer::main().with_kid("elsewhere"), &server);
    assert!(matches!(
        rejection(v.validate_at(&unknown, NOW)),
        JwtError::UnknownKey(_)
    ));
    let forged = server_token(&Signer::other().with_kid(&signer.kid), &server);
    assert!(matches!(
        rejection(v.validate_at(&forged, NOW)),
        JwtError::BadSignature
    ));
    // Trust is still checked first.
    let foreign = signer.token(&claims_with(json!({"iss": "https://evil.example"})));
    assert!(matches!(
        rejection(v.validate_at(&foreign, NOW)),
        JwtError::UntrustedIssuer { .. }
    ));
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_static_key_set_alone_is_a_trust_anchor_and_keeps_the_kid_rules() {
    let signer = Signer::main();
    let set = jwks(&[signer.jwk(), signer.jwk()]);
    let v = JwtValidator::new(JwtValidationOptions::new().with_jwks_json(set)).unwrap_err();
    // Two keys under one kid leave no usable key at all.
    assert!(matches!(
        v,
        RunbeamError::Config(ConfigError::InvalidOption {
            option: "jwks_json",
            ..
        })
    ));
    let both = jwks(&[signer.jwk(), Signer::other().jwk()]);
    let v = JwtValidator::new(JwtValidationOptions::new().with_jwks_json(both.clone())).unwrap();
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    let kidless = kidless_token(&signer);
    assert!(matches!(
        rejection(v.validate_at(&kidless, NOW)),
        JwtError::MissingKid
    ));
    let opted = JwtValidationOptions::new()
        .with_jwks_json(jwks(&[signer.jwk()]))
        .dangerous_allow_missing_kid_if_single_key();
    JwtValidator::new(opted)
        .unwrap()
        .validate_at(&kidless, NOW)
        .unwrap();
    let opted_two = JwtValidationOptions::new()
        .with_jwks_json(both)
        .dangerous_allow_missing_kid_if_single_key();
    assert!(matches!(
        rejection(
            JwtValidator::new(opted_two)
                .unwrap()
                .validate_at(&kidless, NOW)
        ),
        JwtError::MissingKid
    ));
}

#[test]
fn a_bad_static_key_set_is_refused_by_new() {
    let (signer, server) = main_server();
    let refused = |json: &str| refused_option(static_validator(&server, json));
    for bad in [
        "",
        "not json",
        "[]",
        r#"{"keys":{}}"#,
        r#"{"keys":[],"keys":[]}"#,
    ] {
        assert_eq!(refused(bad).0, "jwks_json", "{bad}");
    }
    // The key policy applies: e = 3 is refused by default.
    let mut odd = signer.jwk();
    odd["e"] = json!("Aw");
    let (_, reason) = refused(&jwks(&[odd]));
    assert!(reason.contains("no usable key"), "{reason}");
    let both = JwtValidationOptions::new()
        .with_jwks_uri(server.jwks_url())
        .with_jwks_json(jwks(&[signer.jwk()]));
    assert!(matches!(
        JwtValidator::new(both),
        Err(RunbeamError::Config(ConfigError::InvalidOption {
            option: "jwks_json",
            ..
        }))
    ));
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------- stats

#[test]
fn stats_count_fetches_cache_hits_and_rejections_by_kind() {
    let (signer, server) = main_server();
    let v = caching_validator(&server, 10);
    assert_eq!(v.stats(), ValidatorStats::default());
    let token = signer.token(&claims());
    v.validate_at(&token, NOW).unwrap();
    v.validate_at(&token, NOW).unwrap();
    let other = signer.token(&claims_with(json!({"sub": "user-2"})));
    v.validate_at(&other, NOW).unwrap();
    let _ = v.validate_at(&token, NOW + 7200);
    let _ = v.validate_at(&Signer::other().with_kid(&signer.kid).token(&claims()), NOW);
    let _ = v.validate_at("not.a.token", NOW);
    let _ = v.validate_at(
        &signer.token(&claims_with(json!({"iss": "https://evil.example"}))),
        NOW,
    );
    let stats = v.stats();
    assert_eq!(stats.fetches, 1, "{stats:?}");
    assert_eq!(stats.fetch_failures, 0);
    assert_eq!(stats.accepted, 3);
    assert_eq!(stats.token_cache_hits, 1);
    // Every lookup after the first fetch was served from memory: the repeat's key recheck,
    // the second token, the expired repeat and the forged token.
    assert_eq!(stats.key_cache_hits, 4);
    assert_eq!(stats.rejected_time, 1);
    assert_eq!(stats.rejected_signature, 1);
    assert_eq!(stats.rejected_malformed, 1);
    assert_eq!(stats.rejected_issuer, 1);
    assert_eq!(server.requests() as u64, stats.fetches);
}

#[test]
fn stats_count_failed_fetches_and_unknown_kids() {
    let (signer, server) = main_server();
    server.set_reply(500, String::new());
    let v = validator(&server);
    let _ = v.validate_at(&signer.token(&claims()), NOW);
    let stats = v.stats();
    assert_eq!((stats.fetches, stats.fetch_failures), (1, 1));
    assert_eq!(stats.rejected_unavailable, 1);
    let (signer, server) = main_server();
    let v = validator(&server);
    let _ = v.validate_at(&signer.with_kid("nope").token(&claims()), NOW);
    assert_eq!(v.stats().rejected_key, 1);
}

// ---------------------------------------------------------------- HTTP caching

/// Past the shortest refresh cooldown, so that a set past its TTL is fetched again.
const PAST_COOLDOWN: Duration = Duration::from_millis(5100);

fn http_cached(time: &TestTime, server: &JwksServer, min: u64) -> JwtValidator {
    JwtValidator::new(
        short_cooldown(time, server)
            .with_jwks_min_cache_duration(Duration::from_secs(min))
            .with_verified_token_cache(10),
    )
    .unwrap()
}

#[test]
fn a_servers_max_age_shortens_the_ttl_but_never_below_the_minimum() {
    let time = TestTime::default();
    let signer = Signer::main();
    let start = |headers: &[(&str, &str)]| {
        let server = JwksServer::start(jwks(&[signer.jwk()]));
        for (name, value) in headers {
            server.add_header(name, value);
        }
        server
    };
    let short = start(&[("Cache-Control", "public, max-age=1")]);
    let floored = start(&[("Cache-Control", "max-age=1")]);
    let no_cache = start(&[("Cache-Control", "no-cache")]);
    let silent = start(&[]);
    // An hour's max-age, of which a cache on the way already used all but a second.
    let aged = start(&[("Cache-Control", "max-age=3600"), ("Age", "3599")]);
    let validators = [
        http_cached(&time, &short, 1),
        http_cached(&time, &floored, 300),
        http_cached(&time, &no_cache, 300),
        http_cached(&time, &silent, 1),
        http_cached(&time, &aged, 1),
    ];
    let token = signer.token(&claims());
    for v in &validators {
        v.validate_at(&token, NOW).unwrap();
    }
    time.pass(PAST_COOLDOWN);
    for v in &validators {
        v.validate_at(&token, NOW).unwrap();
    }
    assert_eq!(short.requests(), 2, "max-age=1 expired the set");
    assert_eq!(floored.requests(), 1, "the 300 s minimum held");
    assert_eq!(no_cache.requests(), 1, "no-cache is max-age=0, floored");
    assert_eq!(silent.requests(), 1, "without max-age the 24 h TTL holds");
    assert_eq!(aged.requests(), 2, "Age used up the max-age");
}

#[test]
fn no_store_keeps_a_set_only_for_the_minimum_and_sends_no_validators() {
    let time = TestTime::default();
    let (signer, server) = main_server();
    server.add_header("Cache-Control", "no-store, max-age=86400");
    server.set_etag("\"v1\"");
    let v = http_cached(&time, &server, 1);
    let token = signer.token(&claims());
    v.validate_at(&token, NOW).unwrap();
    time.pass(PAST_COOLDOWN);
    v.validate_at(&token, NOW).unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(server.conditionals(), vec![Conditional::default(); 2]);
    assert_eq!(v.stats().not_modified, 0);
}

#[test]
fn a_stale_set_is_revalidated_and_a_304_keeps_it_without_reparsing() {
    let time = TestTime::default();
    let signer = Signer::main();
    let by_etag = JwksServer::start(jwks(&[signer.jwk()]));
    by_etag.set_etag("\"v1\"");
    let by_date = JwksServer::start(jwks(&[signer.jwk()]));
    by_date.set_last_modified("Tue, 01 Dec 2026 10:00:00 GMT");
    for server in [&by_etag, &by_date] {
        server.add_header("Cache-Control", "max-age=1");
    }
    let token = signer.token(&claims());
    let validators = [
        http_cached(&time, &by_etag, 1),
        http_cached(&time, &by_date, 1),
    ];
    for v in &validators {
        v.validate_at(&token, NOW).unwrap();
    }
    time.pass(PAST_COOLDOWN);
    for v in &validators {
        v.validate_at(&token, NOW).unwrap();
        let stats = v.stats();
        assert_eq!((stats.fetches, stats.not_modified), (2, 1), "{stats:?}");
        // The verified token was served from its cache: the 304 kept the very same key.
        assert_eq!(stats.token_cache_hits, 1, "{stats:?}");
    }
    let asked = |server: &JwksServer| server.conditionals()[1].clone();
    assert_eq!(asked(&by_etag).if_none_match.as_deref(), Some("\"v1\""));
    assert_eq!(
        asked(&by_date).if_modified_since.as_deref(),
        Some("Tue, 01 Dec 2026 10:00:00 GMT")
    );
    assert_eq!(by_etag.conditionals()[0], Conditional::default());
}

#[test]
fn a_304_to_an_unconditional_request_is_a_status_error() {
    let (signer, server) = main_server();
    server.set_reply(304, String::new());
    let err = rejection(validator(&server).validate_at(&signer.token(&claims()), NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 304, .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- persistent key-set cache

/// The child's cache directory.
const CHILD_CACHE_DIR: &str = "RUNBEAM_TEST_CHILD_CACHE_DIR";

fn disk_cached(server: &JwksServer, dir: &std::path::Path) -> JwtValidator {
    JwtValidator::new(options(server).with_jwks_cache_dir(dir)).unwrap()
}

/// The record file of `url` in `dir`: the URL's SHA-256 in hex.
fn record_path(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(format!("{hex}.jwks.json"))
}

fn read_record(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Rewrites the record's fetch time to `ago` seconds before now.
fn age_record(path: &std::path::Path, ago: u64) {
    let mut record = read_record(path);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    record["fetched_at"] = json!(now - ago);
    std::fs::write(path, record.to_string()).unwrap();
}

fn spawn_cache_child(server: &JwksServer, dir: &std::path::Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "--test-threads=1",
            "child_validates_with_a_persistent_cache",
        ])
        .env(CHILD_JWKS_URL, server.jwks_url())
        .env(CHILD_CACHE_DIR, dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn run_cache_child(server: &JwksServer, dir: &std::path::Path) -> bool {
    spawn_cache_child(server, dir).wait().unwrap().success()
}

#[test]
fn a_second_process_validates_from_the_persistent_cache_without_fetching() {
    let (_, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("jwks");
    assert!(run_cache_child(&server, &dir), "first child");
    assert_eq!(server.requests(), 1);
    assert!(run_cache_child(&server, &dir), "second child");
    assert_eq!(
        server.requests(),
        1,
        "the second process used the first one's copy"
    );
    let record = read_record(&record_path(&dir, &server.jwks_url()));
    assert_eq!(record["url"], json!(server.jwks_url()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&record_path(&dir, &server.jwks_url())), 0o600);
    }
}

#[test]
fn processes_starting_together_make_one_fetch() {
    let (_, server) = main_server();
    // Slow enough that the second process asks while the first one's request is in flight.
    server.set_delay(Duration::from_secs(2));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("jwks");
    let children = [
        spawn_cache_child(&server, &dir),
        spawn_cache_child(&server, &dir),
    ];
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(
        server.requests(),
        1,
        "the second process waited for the first one's fetch and read its copy"
    );
}

/// Holds the lock file `lock` (as another process would, for ever) and checks that one
/// validation against `server` with a cache in `dir` and a 1 s fetch timeout waits about the
/// timeout, never longer, and then fetches by itself.
fn a_held_lock_only_delays(server: &JwksServer, dir: &std::path::Path, lock: &std::path::Path) {
    let held = std::fs::File::create(lock).unwrap();
    held.lock().unwrap();
    let options = options(server)
        .with_jwks_cache_dir(dir)
        .with_jwks_timeout(Duration::from_secs(1));
    let token = Signer::main().token(&claims());
    let started = Instant::now();
    within(Duration::from_secs(20), "the validation", move || {
        JwtValidator::new(options)
            .unwrap()
            .validate_at(&token, NOW)
            .map(|_| ())
    })
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it waited its turn"
    );
    assert_eq!(server.requests(), 1, "then fetched by itself");
    drop(held);
}

#[test]
fn a_stuck_fetch_lock_delays_a_validation_by_the_timeout_but_never_fails_it() {
    let (_, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let record = record_path(tmp.path(), &server.jwks_url());
    // Another process holding the URL's fetch lock and never letting go.
    let lock = record.with_extension("").with_extension("fetch.lock");
    a_held_lock_only_delays(&server, tmp.path(), &lock);
}

#[test]
fn a_held_write_lock_delays_a_validation_by_the_timeout_but_never_holds_it() {
    let (_, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    // Another process writing to the directory and never letting go.
    a_held_lock_only_delays(&server, tmp.path(), &tmp.path().join(".jwks.lock"));
    assert!(
        !record_path(tmp.path(), &server.jwks_url()).exists(),
        "written without the lock"
    );
}

#[cfg(unix)]
#[test]
#[ignore = "needs root (to chown the lock files to another uid); CI runs it with --ignored"]
fn lock_files_another_user_owns_are_never_waited_for() {
    use common::users::{chown_foreign, require_root};
    require_root();
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let record = record_path(tmp.path(), &server.jwks_url());
    // Another user's lock files, held by them for ever: the fetch turn's and the writers'.
    let held = [
        record.with_extension("").with_extension("fetch.lock"),
        tmp.path().join(".jwks.lock"),
    ]
    .map(|path| {
        let file = std::fs::File::create(&path).unwrap();
        chown_foreign(&path);
        file.lock().unwrap();
        file
    });
    let options = options(&server)
        .with_jwks_cache_dir(tmp.path())
        .with_jwks_timeout(Duration::from_secs(5));
    let token = signer.token(&claims());
    let started = Instant::now();
    within(Duration::from_secs(30), "the validation", move || {
        JwtValidator::new(options)
            .unwrap()
            .validate_at(&token, NOW)
            .map(|_| ())
    })
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "a lock file another user owns was waited for ({:?})",
        started.elapsed()
    );
    assert_eq!(server.requests(), 1, "fetched without the turn");
    assert!(!record.exists(), "written without the writers' lock");
    drop(held);
}

/// Waits until another process holds the fetch lock of `url`'s set in `dir`.
fn until_the_fetch_lock_is_held(dir: &std::path::Path, url: &str) {
    let lock = record_path(dir, url)
        .with_extension("")
        .with_extension("fetch.lock");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(file) = std::fs::File::open(&lock) {
            match file.try_lock() {
                Err(std::fs::TryLockError::WouldBlock) => return,
                // Ours for a moment: closing the file lets go of it (an explicit unlock can
                // fail with a lock violation on Windows when the holder just took its turn).
                Ok(()) => drop(file),
                Err(std::fs::TryLockError::Error(e)) => panic!("{e}"),
            }
        }
        assert!(
            Instant::now() < deadline,
            "the other process never took its turn"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A stale persistent copy of `server`'s set (with `signer`'s key) in `dir`.
fn stale_copy(signer: &Signer, server: &JwksServer, dir: &std::path::Path) {
    disk_cached(server, dir)
        .validate_at(&signer.token(&claims()), NOW)
        .unwrap();
    age_record(&record_path(dir, &server.jwks_url()), 25 * 3600); // past the TTL, inside the stale window
}

#[test]
fn a_process_that_waited_for_a_failed_fetch_serves_the_stale_copy_without_asking_again() {
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    stale_copy(&signer, &server, tmp.path());
    // Another process asks the failing server, slowly, while this one waits its turn.
    server.set_reply(500, "down".into());
    server.set_delay(Duration::from_secs(1));
    let mut other = spawn_cache_child(&server, tmp.path());
    until_the_fetch_lock_is_held(tmp.path(), &server.jwks_url());
    let v = disk_cached(&server, tmp.path());
    v.validate_at(&signer.token(&claims()), NOW).unwrap();
    assert!(
        other.wait().unwrap().success(),
        "the other served its stale copy"
    );
    assert_eq!(
        server.requests(),
        2,
        "no request right after the other process's failed attempt"
    );
    assert_eq!(v.stats().disk_cache_hits, 1);
}

#[test]
fn a_process_that_waited_for_a_fetch_that_stored_nothing_asks_the_issuer_itself() {
    let (old, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    stale_copy(&old, &server, tmp.path());
    // The issuer rotated its key and marks its set `no-store`: the other process's fetch
    // succeeds and leaves no fresh copy behind.
    server.set_reply(200, jwks(&[Signer::other().jwk()]));
    server.add_header("Cache-Control", "no-store");
    server.set_delay(Duration::from_secs(1));
    let mut other = spawn_cache_child(&server, tmp.path());
    until_the_fetch_lock_is_held(tmp.path(), &server.jwks_url());
    let v = disk_cached(&server, tmp.path());
    let err = rejection(v.validate_at(&old.token(&claims()), NOW));
    assert!(matches!(err, JwtError::UnknownKey(_)), "{err:?}");
    assert!(
        !other.wait().unwrap().success(),
        "the other saw the rotation"
    );
    assert_eq!(server.requests(), 3, "this process asked the issuer itself");
    assert_eq!(
        v.stats().disk_cache_hits,
        0,
        "the rotated-out key was not served"
    );
}

/// Child mode of the persistent-cache test; runs only with the environment its parent sets.
#[test]
#[ignore = "child process of a_second_process_validates_from_the_persistent_cache_without_fetching"]
fn child_validates_with_a_persistent_cache() {
    let url = std::env::var(CHILD_JWKS_URL).unwrap();
    let dir = std::env::var(CHILD_CACHE_DIR).unwrap();
    let v = JwtValidator::new(
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![TRUSTED.into()])
            .with_jwks_uri(url)
            .with_jwks_cache_dir(dir),
    )
    .unwrap();
    v.validate_at(&Signer::main().token(&claims()), NOW)
        .unwrap();
}

#[test]
fn a_persistent_copy_is_never_used_past_its_ttl_and_stale_window() {
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let record = record_path(tmp.path(), &server.jwks_url());
    let token = signer.token(&claims());
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(server.requests(), 1);
    // Past the 24 h TTL: fetched again, and the fresh copy replaces the old one.
    age_record(&record, 25 * 3600);
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(server.requests(), 2);
    // Past the TTL with the server down: the copy serves within the 24 h stale window...
    server.set_reply(500, "down".into());
    age_record(&record, 47 * 3600);
    let stale = disk_cached(&server, tmp.path());
    stale.validate_at(&token, NOW).unwrap();
    assert_eq!(server.requests(), 3);
    assert_eq!(stale.stats().disk_cache_hits, 1);
    // ...and never past it.
    age_record(&record, 49 * 3600);
    let err = rejection(disk_cached(&server, tmp.path()).validate_at(&token, NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 500, .. }),
        "{err:?}"
    );
    // A copy dated in the future is not judged fresh either.
    age_record(&record, 0);
    let mut future = read_record(&record);
    future["fetched_at"] = json!(future["fetched_at"].as_u64().unwrap() + 3600);
    std::fs::write(&record, future.to_string()).unwrap();
    let err = rejection(disk_cached(&server, tmp.path()).validate_at(&token, NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 500, .. }),
        "{err:?}"
    );
}

#[test]
fn a_stale_persistent_copy_is_revalidated_and_a_304_makes_it_fresh_again() {
    let (signer, server) = main_server();
    server.set_etag("\"v1\"");
    let tmp = tempfile::tempdir().unwrap();
    let record = record_path(tmp.path(), &server.jwks_url());
    let token = signer.token(&claims());
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(read_record(&record)["etag"], json!("\"v1\""));
    age_record(&record, 25 * 3600);
    let revalidating = disk_cached(&server, tmp.path());
    revalidating.validate_at(&token, NOW).unwrap();
    assert_eq!(revalidating.stats().not_modified, 1);
    assert_eq!(
        server.conditionals()[1].if_none_match.as_deref(),
        Some("\"v1\"")
    );
    // The 304 refreshed the copy: the next process needs no request at all.
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_persistent_copy_must_name_its_url_parse_and_be_private() {
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let token = signer.token(&claims());
    let record = record_path(tmp.path(), &server.jwks_url());
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    // Another URL's record under this URL's name (a copied or swapped file) is ignored.
    let (_, other) = main_server();
    std::fs::copy(&record, record_path(tmp.path(), &other.jwks_url())).unwrap();
    disk_cached(&other, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(other.requests(), 1, "the foreign record was not used");
    // A corrupt record is ignored (and replaced by the next fetch).
    std::fs::write(&record, "{not json").unwrap();
    disk_cached(&server, tmp.path())
        .validate_at(&token, NOW)
        .unwrap();
    assert_eq!(server.requests(), 2);
    // Keys in the record are judged by the loading validator's policy: a copy whose only
    // key is refused gives that key's kid no key, as a fetched set would (with the server
    // down, so the missing kid cannot be fetched instead).
    server.set_reply(500, "down".into());
    let mut small = read_record(&record);
    let mut jwk = signer.jwk();
    jwk["e"] = json!("Aw");
    small["jwks"] = json!(jwks(&[jwk]));
    std::fs::write(&record, small.to_string()).unwrap();
    let err = rejection(disk_cached(&server, tmp.path()).validate_at(&token, NOW));
    assert!(matches!(err, JwtError::UnknownKey(_)), "{err:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        disk_cached(&other, tmp.path())
            .validate_at(&token, NOW)
            .unwrap();
        let theirs = record_path(tmp.path(), &other.jwks_url());
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o644)).unwrap();
        disk_cached(&other, tmp.path())
            .validate_at(&token, NOW)
            .unwrap();
        assert_eq!(
            other.requests(),
            2,
            "a group-readable record is not trusted"
        );
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        disk_cached(&other, tmp.path())
            .validate_at(&token, NOW)
            .unwrap();
        assert_eq!(
            other.requests(),
            3,
            "a world-writable directory is not trusted"
        );
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn a_planted_link_at_the_fetch_lock_is_never_followed() {
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("created-through-the-link");
    let lock = record_path(tmp.path(), &server.jwks_url())
        .with_extension("")
        .with_extension("fetch.lock");
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    disk_cached(&server, tmp.path())
        .validate_at(&signer.token(&claims()), NOW)
        .unwrap();
    assert_eq!(server.requests(), 1, "validated, with a fetch of its own");
    assert!(!target.exists(), "a file was created through the link");
    assert!(std::fs::symlink_metadata(&lock).unwrap().is_symlink());
}

#[cfg(unix)]
#[test]
fn a_fifo_planted_at_a_record_never_holds_a_validation() {
    use std::os::unix::fs::FileTypeExt as _;
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let record = record_path(tmp.path(), &server.jwks_url());
    common::bounded::mkfifo(&record);
    let v = disk_cached(&server, tmp.path());
    let token = signer.token(&claims());
    let v = within(
        Duration::from_secs(20),
        "opening the planted FIFO",
        move || {
            v.validate_at(&token, NOW).unwrap();
            v
        },
    );
    assert_eq!(server.requests(), 1, "validated, with a fetch of its own");
    assert_eq!(v.stats().disk_cache_hits, 0);
    assert!(std::fs::symlink_metadata(&record)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[cfg(unix)]
#[test]
#[ignore = "needs root (to give a directory to another uid); CI runs it with --ignored"]
fn a_cache_directory_link_switched_while_in_use_never_leads_elsewhere() {
    use std::os::unix::fs::{symlink, DirBuilderExt as _};

    use common::users::{chown_foreign, require_root, LinkSwitcher};
    require_root();
    let (signer, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    let [good, evil] = ["good", "evil"].map(|name| {
        let dir = tmp.path().join(name);
        std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        dir
    });
    // Another user's directory, which the cache refuses whenever it is judged.
    chown_foreign(&evil);
    let link = tmp.path().join("jwks");
    symlink(&good, &link).unwrap();
    // That user controls the link and switches it back and forth as fast as they can.
    let switcher = LinkSwitcher::start(&link, &evil, &good);
    let token = signer.token(&claims());
    let failed = within(Duration::from_secs(60), "the validations", move || {
        (0..300)
            .filter(|_| {
                disk_cached(&server, &link)
                    .validate_at(&token, NOW)
                    .is_err()
            })
            .count()
    });
    switcher.stop();
    assert_eq!(failed, 0, "validations failed");
    let planted: Vec<_> = std::fs::read_dir(&evil).unwrap().collect();
    assert!(
        planted.is_empty(),
        "the cache used the other directory: {planted:?}"
    );
}

#[test]
fn no_store_key_sets_are_never_written_to_disk() {
    let (signer, server) = main_server();
    server.add_header("Cache-Control", "no-store");
    let tmp = tempfile::tempdir().unwrap();
    disk_cached(&server, tmp.path())
        .validate_at(&signer.token(&claims()), NOW)
        .unwrap();
    assert!(!record_path(tmp.path(), &server.jwks_url()).exists());
}

// ---------------------------------------------------------------- key-set agent settings

#[test]
fn the_jwks_timeout_bounds_each_key_set_request() {
    let (signer, server) = main_server();
    server.set_delay(Duration::from_secs(3));
    let v =
        JwtValidator::new(options(&server).with_jwks_timeout(Duration::from_millis(300))).unwrap();
    let started = Instant::now();
    let err = rejection(v.validate_at(&signer.token(&claims()), NOW));
    assert!(matches!(err, JwtError::JwksTimeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for bad in [Duration::ZERO, Duration::from_secs(301)] {
        assert!(matches!(
            JwtValidator::new(options(&server).with_jwks_timeout(bad)),
            Err(RunbeamError::Config(ConfigError::InvalidOption {
                option: "jwks_timeout",
                ..
            }))
        ));
    }
}

#[test]
fn a_key_set_behind_a_company_ca_needs_its_root_and_verification_stays_on() {
    let signer = Signer::main();
    let origin = tls_server(&jwks(&[signer.jwk()]));
    let token = signer.token(&claims());
    let over_tls = || {
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![TRUSTED.into()])
            .with_jwks_uri(format!("{origin}/jwks.json"))
    };
    // The bundled roots do not know the fixture CA.
    let err = rejection(
        JwtValidator::new(over_tls())
            .unwrap()
            .validate_at(&token, NOW),
    );
    assert!(matches!(err, JwtError::JwksFetch { .. }), "{err:?}");
    let with_ca = JwtValidator::new(over_tls().with_jwks_root_certificates(&fixture_ca())).unwrap();
    with_ca.validate_at(&token, NOW).unwrap();
    // The given roots replace the bundled ones: the leaf certificate alone is no root.
    let with_leaf =
        JwtValidator::new(over_tls().with_jwks_root_certificates(&fixture_leaf())).unwrap();
    let err = rejection(with_leaf.validate_at(&token, NOW));
    assert!(matches!(err, JwtError::JwksFetch { .. }), "{err:?}");
}

#[test]
fn jwks_root_certificates_must_parse_and_cannot_come_with_a_callers_agent() {
    let (_, server) = main_server();
    let refused = |options| refused_option(JwtValidator::new(options));
    for pem in [
        &b""[..],
        b"not pem",
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        NOT_X509_PEM,
    ] {
        let (option, reason) = refused(options(&server).with_jwks_root_certificates(pem));
        assert_eq!(option, "jwks_root_certificates");
        if pem == NOT_X509_PEM {
            assert!(reason.contains("X.509"), "{reason}");
        }
    }
    let both = options(&server)
        .with_jwks_root_certificates(&fixture_ca())
        .with_jwks_agent(ureq::Agent::new_with_defaults());
    let (option, reason) = refused(both);
    assert_eq!(option, "jwks_root_certificates");
    assert!(reason.contains("jwks_agent"), "{reason}");
}

#[test]
fn a_callers_agent_fetches_every_key_set_and_the_fetch_rules_still_hold() {
    let (signer, server) = main_server();
    let token = signer.token(&claims());
    // A stock agent: follows redirects and turns statuses into errors by default.
    let stock = ureq::Agent::new_with_defaults();
    let v = JwtValidator::new(options(&server).with_jwks_agent(stock.clone())).unwrap();
    v.validate_at(&token, NOW).unwrap();
    let (_, moved) = main_server();
    moved.set_redirect(&server.jwks_url());
    let v = JwtValidator::new(options(&moved).with_jwks_agent(stock.clone())).unwrap();
    let err = rejection(v.validate_at(&token, NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 302, .. }),
        "{err:?}"
    );
    let (_, down) = main_server();
    down.set_reply(503, "busy".into());
    let v = JwtValidator::new(options(&down).with_jwks_agent(stock)).unwrap();
    let err = rejection(v.validate_at(&token, NOW));
    assert!(
        matches!(err, JwtError::JwksStatus { status: 503, .. }),
        "{err:?}"
    );
    // The caller's proxy is used even for a loopback key set, which the built-in agents
    // always fetch directly.
    let (proxy, seen) = refusing_proxy();
    let proxied: ureq::Agent = ureq::Agent::config_builder()
        .proxy(Some(ureq::Proxy::new(&proxy).unwrap()))
        .build()
        .into();
    let (_, behind) = main_server();
    let v = JwtValidator::new(options(&behind).with_jwks_agent(proxied)).unwrap();
    let err = rejection(v.validate_at(&token, NOW));
    // The proxy answers after the request line, so the agent may see the 502 or the
    // closed connection.
    assert!(
        matches!(
            err,
            JwtError::JwksStatus { status: 502, .. } | JwtError::JwksFetch { .. }
        ),
        "{err:?}"
    );
    assert_eq!(behind.requests(), 0);
    assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());
}

#[test]
fn a_fresh_persistent_copy_without_the_tokens_kid_is_checked_with_the_server() {
    let (old, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    disk_cached(&server, tmp.path())
        .validate_at(&old.token(&claims()), NOW)
        .unwrap();
    // The issuer rotates; the next process sees a token signed with the new key.
    let new = Signer::other();
    server.set_reply(200, jwks(&[old.jwk(), new.jwk()]));
    disk_cached(&server, tmp.path())
        .validate_at(&new.token(&claims()), NOW)
        .unwrap();
    assert_eq!(server.requests(), 2);
    // The refreshed copy serves both keys to the process after that, without a request.
    let third = disk_cached(&server, tmp.path());
    third.validate_at(&new.token(&claims()), NOW).unwrap();
    third.validate_at(&old.token(&claims()), NOW).unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(third.stats().disk_cache_hits, 1);
}

#[test]
fn a_persistent_copy_holding_a_replaced_key_is_checked_with_the_server_once() {
    let (old, server) = main_server();
    let tmp = tempfile::tempdir().unwrap();
    disk_cached(&server, tmp.path())
        .validate_at(&old.token(&claims()), NOW)
        .unwrap();
    // The issuer replaces its key under the same kid; the copy on disk is a minute old and
    // fresh for a day.
    let new = Signer::other().with_kid(&old.kid);
    server.set_reply(200, jwks(&[new.jwk()]));
    age_record(&record_path(tmp.path(), &server.jwks_url()), 60);
    let next = JwtValidator::new(
        options(&server)
            .with_jwks_cache_dir(tmp.path())
            .with_jwks_refresh_cooldown_seconds(5),
    )
    .unwrap();
    next.validate_at(&new.token(&claims()), NOW).unwrap();
    assert_eq!(
        server.requests(),
        2,
        "past the copy that still holds the old key"
    );
    assert_eq!(next.stats().disk_cache_hits, 1);
    // The process after that reads the new copy, which the server just sent: a forged
    // signature does not send it back to the server.
    let third = disk_cached(&server, tmp.path());
    let err = rejection(third.validate_at(&old.token(&claims()), NOW));
    assert!(matches!(err, JwtError::BadSignature), "{err:?}");
    third.validate_at(&new.token(&claims()), NOW).unwrap();
    assert_eq!(server.requests(), 2);
}
