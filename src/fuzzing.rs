//! Entry points of the fuzz targets in `fuzz/`: each feeds untrusted bytes to one pure parser
//! and says whether they parsed. Public only in fuzz builds (`--cfg fuzzing`, which cargo-fuzz
//! sets); the tests below replay every checked-in seed through the same functions in a plain
//! `cargo test`, so a regression on any input the fuzzers found interesting fails there too.

use std::time::Duration;

/// The compact-JWS parser (`jwt::unverified`).
pub fn parse_token(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| crate::jwt::UnverifiedToken::parse(text).is_ok())
}

/// The quick reader of JWT headers and claims sets (`jwt/json/scan.rs`) against
/// `serde_json`: wherever the quick reader reads the bytes, both must read the same (a
/// difference panics). `true` when the quick reader read them.
pub fn token_json(data: &[u8]) -> bool {
    crate::jwt::json::read_as_serde_json_reads(data)
}

/// The JWKS parser, with the default key policy.
pub fn parse_jwks(data: &[u8]) -> bool {
    crate::jwt::parse_jwks(data).is_ok()
}

/// The stored machine-token decoder (JSON shape, RFC 3339 expiry). Its only error is
/// [`StorageError::Corrupt`](crate::StorageError::Corrupt).
pub fn stored_token(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    match crate::MachineToken::from_json(text) {
        Ok(token) => {
            let _ = (
                token.expires_at_unix(),
                token.is_expired(),
                token.needs_renewal(),
            );
            true
        }
        Err(e) => {
            assert!(
                matches!(e, crate::StorageError::Corrupt { .. }),
                "decoding failed with {e:?}"
            );
            false
        }
    }
}

/// The Laravel error-body parser; `true` when a message was found.
pub fn parse_error_body(data: &[u8]) -> bool {
    crate::api::ErrorBody::parse(data).message.is_some()
}

/// The base-URL rule; `true` when `data` is a usable base URL (which then ends in `/api`).
pub fn normalize_base_url(data: &[u8]) -> bool {
    let base = std::str::from_utf8(data)
        .ok()
        .and_then(|text| crate::client::normalize_base_url(text).ok());
    if let Some(base) = &base {
        assert!(base.ends_with("/api"), "{base}");
    }
    base.is_some()
}

/// Numbers a server sends: the text as a `Retry-After` header and as a page of a list (meta
/// numbers, `links.next`). Whatever it is, no arithmetic panics and no wait exceeds the
/// retry budget; `true` when the page parsed.
pub fn server_numbers(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let policy = crate::RetryPolicy::new();
    let retry_after = crate::client::parse_retry_after(&text, crate::time::now().0);
    for waited in [Duration::ZERO, Duration::MAX] {
        if let Some(wait) = policy.wait(1, retry_after, waited) {
            assert!(wait <= Duration::from_secs(10));
        }
    }
    match serde_json::from_slice::<crate::api::PaginatedResponse<serde_json::Value>>(data) {
        Ok(page) => {
            let current = page.meta.as_ref().and_then(|m| m.current_page).unwrap_or(1);
            if let Some(next) = crate::client::paging::following_page(current, &page) {
                assert!(next > current);
            }
            true
        }
        Err(_) => false,
    }
}

/// The RS256 step against `rsa`'s own `pkcs1v15_verify`, its reference. The first byte picks
/// the key: even, the fixtures' 2048-bit `py-main` key, then the signature (256 bytes) and
/// the message; odd, a modulus from the next `k` bytes (top and low bits forced) with an
/// exponent picked by bits 1..=3 and `k` by bits 4..=5 (256, 384 or 512 bytes, the sizes
/// with a copy of the loop of their own, or 264 for the general one), then signature (`k`
/// bytes) and message. Both verifiers must give the same verdict, and for a signature below
/// the modulus the square-and-multiply result must equal crypto-bigint's general
/// exponentiation. `true` when ours accepted.
pub fn rs256_verify(data: &[u8]) -> bool {
    use crypto_bigint::modular::BoxedMontyForm;
    use rsa::traits::PublicKeyParts as _;

    const SIZES: [usize; 4] = [256, 384, 512, 264];
    const EXPONENTS: [u64; 8] = [65_537, 3, 5, 17, 257, 0xffff_ffff, 0x8000_0001, 65_537];
    let Some((&flags, rest)) = data.split_first() else {
        return false;
    };
    let (n, exponent, rest) = if flags & 1 == 0 {
        (fixture_modulus(), 65_537, rest)
    } else {
        let k = SIZES[usize::from(flags >> 4) & 3];
        let (n, rest) = rest.split_at(rest.len().min(k));
        let mut n = n.to_vec();
        n.resize(k, 0x5a);
        n[0] |= 0x80;
        n[k - 1] |= 1;
        (n, EXPONENTS[usize::from(flags >> 1) & 7], rest)
    };
    let k = n.len();
    let (signature, message) = rest.split_at(rest.len().min(k));
    let e = exponent.to_be_bytes();
    let policy = crate::jwt::KeyPolicy::default().dangerous_allow_any_odd_exponent();
    let ours = crate::jwt::VerifyingKey::from_components(&n, &e, &policy);
    let reference = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(&n),
        rsa::BoxedUint::from(exponent),
        crate::jwt::MIN_KEY_BITS..=crate::jwt::DEFAULT_MAX_KEY_BITS,
    );
    let (Ok(ours), Ok(reference)) = (ours, reference) else {
        panic!("a {k}-byte odd modulus with an odd exponent is refused by one side");
    };
    let accepted = ours.verify(message, signature).is_ok();
    let expected = reference
        .pkcs1v15_verify::<sha2::Sha256>(message, signature)
        .is_ok();
    assert_eq!(accepted, expected, "verdict differs from rsa's");
    if let Some(image) = ours.operation().rsavp1(signature) {
        let params = reference.n_params();
        let s = rsa::BoxedUint::from_be_slice(signature, params.bits_precision())
            .unwrap_or_else(|_| panic!("{k} bytes fit the modulus's precision"));
        let full = BoxedMontyForm::new(s, params)
            .pow(&rsa::BoxedUint::from(exponent))
            .retrieve()
            .to_be_bytes();
        assert_eq!(image[..], full[full.len() - k..], "s^e mod n differs");
    }
    accepted
}

/// The modulus of the fixtures' `py-main` key (2048 bits), decoded once.
fn fixture_modulus() -> Vec<u8> {
    use base64::Engine as _;
    static MODULUS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    MODULUS
        .get_or_init(|| {
            let jwks: serde_json::Value =
                serde_json::from_str(include_str!("../tests/fixtures/jwt/jwks.json"))
                    .unwrap_or_default();
            let n = jwks["keys"][0]["n"].as_str().unwrap_or_default();
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(n)
                .unwrap_or_default()
        })
        .clone()
}

/// The resource-reference parser; whatever parses prints back to itself (`parse(display(r))
/// == r`). `true` when `data` is a reference.
pub fn resource_reference(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    match crate::api::ResourceReference::parse(text) {
        Ok(reference) => {
            let printed = reference.to_string();
            assert_eq!(
                crate::api::ResourceReference::parse(&printed).as_ref(),
                Ok(&reference),
                "{printed}"
            );
            true
        }
        Err(_) => false,
    }
}

/// The Harmony configuration checker over a (schema, content) pair: `data` is the schema
/// text, a NUL byte, then the content; without a NUL byte, the whole of `data` is checked
/// against the bundled gateway schema. `true` when the content passes.
#[cfg(feature = "validation")]
pub fn validate_toml(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let result = match text.split_once('\0') {
        Some((schema, content)) => crate::validation::validate_toml(content, schema),
        None => crate::validation::validate_config_toml(text),
    };
    if let Err(error) = &result {
        // Bounded whatever the input: the kept failures and the one-line report.
        assert!(error.errors().len() <= crate::validation::MAX_ERRORS + 1);
        assert!(error.report(4096).len() <= 4096);
    }
    result.is_ok()
}

#[cfg(test)]
mod tests {
    //! Seed names state the outcome: `accept_*` must parse; `reject_*` must be refused by the
    //! parser itself, except for `parse_token`, whose `reject_*` seeds are well-formed tokens
    //! that the *validator* refuses (named after the test that uses them).

    use std::path::PathBuf;

    /// Every seed of one target as (file name, bytes), sorted by name.
    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-seeds")
            .join(target);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(path).unwrap())
            })
            .collect();
        seeds.sort();
        seeds
    }

    /// Whether a target's `reject_*` seeds must fail to parse.
    #[derive(PartialEq)]
    enum Rejects {
        RefusedByParser,
        RefusedLater,
    }

    /// Runs `target` over every seed and checks the outcome its name states.
    fn replay(target: &str, min_seeds: usize, rejects: Rejects, parses: fn(&[u8]) -> bool) {
        let seeds = seeds(target);
        assert!(
            seeds.len() >= min_seeds,
            "{target}: only {} seeds",
            seeds.len()
        );
        for (name, data) in &seeds {
            let parsed = parses(data);
            if name.starts_with("accept_") {
                assert!(parsed, "{target}/{name} should parse");
            } else if name.starts_with("reject_") && rejects == Rejects::RefusedByParser {
                assert!(!parsed, "{target}/{name} should be refused");
            }
        }
    }

    #[test]
    fn parse_token_seeds_replay() {
        replay("parse_token", 10, Rejects::RefusedLater, super::parse_token);
    }

    #[test]
    fn token_json_seeds_replay() {
        replay("token_json", 4, Rejects::RefusedByParser, super::token_json);
    }

    #[test]
    fn parse_jwks_seeds_replay() {
        replay("parse_jwks", 5, Rejects::RefusedByParser, super::parse_jwks);
    }

    #[test]
    fn stored_token_seeds_replay() {
        replay(
            "stored_token",
            10,
            Rejects::RefusedByParser,
            super::stored_token,
        );
    }

    #[test]
    fn parse_error_body_seeds_replay() {
        replay(
            "parse_error_body",
            5,
            Rejects::RefusedByParser,
            super::parse_error_body,
        );
    }

    #[test]
    fn normalize_base_url_seeds_replay() {
        replay(
            "normalize_base_url",
            6,
            Rejects::RefusedByParser,
            super::normalize_base_url,
        );
    }

    #[test]
    fn rs256_verify_seeds_replay() {
        replay(
            "rs256_verify",
            4,
            Rejects::RefusedByParser,
            super::rs256_verify,
        );
    }

    #[test]
    fn server_numbers_seeds_replay() {
        replay(
            "server_numbers",
            6,
            Rejects::RefusedByParser,
            super::server_numbers,
        );
    }

    #[cfg(feature = "validation")]
    #[test]
    fn validate_toml_seeds_replay() {
        replay(
            "validate_toml",
            4,
            Rejects::RefusedByParser,
            super::validate_toml,
        );
    }

    #[test]
    fn resource_reference_seeds_replay() {
        replay(
            "resource_reference",
            8,
            Rejects::RefusedByParser,
            super::resource_reference,
        );
    }
}
