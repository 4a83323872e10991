//! [`JwtClaims`] and the claim checks, with the clock passed in (pure).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::JwtError;
use super::json::RawClaims;
use crate::identity::{TeamInfo, UserInfo};
use crate::origin::Origin;

/// Largest NumericDate accepted: 9999-12-31T23:59:59Z.
const MAX_NUMERIC_DATE: u64 = 253_402_300_799;

/// The `aud` claim: one audience or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "runbeam-cli"`.
    One(String),
    /// `"aud": ["runbeam-cli", "runbeam-api"]`.
    Many(Vec<String>),
}

impl Audience {
    /// True when `name` is (one of) the audience(s), compared exactly.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Audience::One(one) => one == name,
            Audience::Many(many) => many.iter().any(|a| a == name),
        }
    }
}

/// The verified claims of a Runbeam JWT. Built only from a token whose signature verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwtClaims {
    /// Issuer (`iss`): a URL on the Runbeam API, often with a path.
    pub iss: String,
    /// Subject (`sub`), never empty.
    pub sub: String,
    /// Audience (`aud`), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiry (`exp`), seconds since the Unix epoch.
    pub exp: i64,
    /// Issued-at (`iat`), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not-before (`nbf`), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The Runbeam user the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInfo>,
    /// The user's team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamInfo>,
    /// Every other claim, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JwtClaims {
    /// `scheme://host[:port]` of `iss` (the port only when not the scheme's default); `iss`
    /// unchanged when it does not parse as a URL.
    pub fn api_base_url(&self) -> String {
        Origin::parse(&self.iss)
            .map(|origin| origin.to_string())
            .unwrap_or_else(|_| self.iss.clone())
    }

    /// True when `exp` is before the current time (no leeway).
    pub fn is_expired(&self) -> bool {
        self.exp < i64::try_from(crate::time::unix_now()).unwrap_or(i64::MAX)
    }

    /// Any claim by name, typed ones included (`claim("sub")`, `claim("scope")`).
    pub fn claim(&self, name: &str) -> Option<Value> {
        match name {
            "iss" | "sub" | "aud" | "exp" | "iat" | "nbf" | "user" | "team" => {
                serde_json::to_value(self).ok()?.get(name).cloned()
            }
            _ => self.extra.get(name).cloned(),
        }
    }
}

/// The date rules, in whole seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeRules {
    /// Clock skew allowed for `exp`, `nbf`, `iat` and the max age.
    pub leeway: u64,
    /// With `with_max_age`: `iat` is required and may be at most this old (plus leeway).
    pub max_age: Option<u64>,
    /// With `with_min_remaining`: `exp` must be at least this far ahead (no leeway).
    pub min_remaining: Option<u64>,
}

/// The checks applied to verified claims.
pub(crate) struct ClaimRules<'a> {
    pub times: TimeRules,
    pub audience: &'a [String],
    pub required: &'a [String],
}

/// Checks verified claims at time `now` and builds [`JwtClaims`] from them without
/// re-parsing: required claims are looked up in the raw payload, dates must be NumericDates.
pub(crate) fn check_claims(
    mut raw: RawClaims,
    now: u64,
    rules: &ClaimRules<'_>,
) -> Result<JwtClaims, JwtError> {
    for name in rules.required {
        if !raw.is_set(name) {
            return Err(JwtError::MissingClaim(name.clone()));
        }
    }
    let (exp, nbf, iat) = dates(&raw)?;
    check_times(exp, nbf, iat, now, &rules.times)?;
    let iss = take_string(raw.iss.take(), "iss")?;
    let sub = take_string(raw.sub.take(), "sub")?;
    let aud = raw.aud.take().map(audience).transpose()?;
    if !rules.audience.is_empty() {
        let aud = aud
            .as_ref()
            .ok_or_else(|| JwtError::MissingClaim("aud".into()))?;
        if !rules.audience.iter().any(|wanted| aud.contains(wanted)) {
            return Err(JwtError::AudienceMismatch);
        }
    }
    Ok(JwtClaims {
        iss,
        sub,
        aud,
        exp: as_i64(exp),
        iat: iat.map(as_i64),
        nbf: nbf.map(as_i64),
        user: take_typed(raw.user.take(), "user")?,
        team: take_typed(raw.team.take(), "team")?,
        extra: raw.extra,
    })
}

/// `exp` (required), `nbf` and `iat` as NumericDates.
fn dates(raw: &RawClaims) -> Result<(u64, Option<u64>, Option<u64>), JwtError> {
    let exp = numeric_date(raw.exp.as_ref(), "exp")?
        .ok_or_else(|| JwtError::MissingClaim("exp".into()))?;
    let nbf = numeric_date(raw.nbf.as_ref(), "nbf")?;
    let iat = numeric_date(raw.iat.as_ref(), "iat")?;
    Ok((exp, nbf, iat))
}

/// Whether the dates of claims whose signature did not verify would pass at `now`. Decides
/// only whether the failure is worth looking for a rotated key (a token its own dates rule
/// out is rejected whatever key signed it), never whether a token is accepted.
pub(crate) fn unverified_dates_hold(raw: &RawClaims, now: u64, rules: &TimeRules) -> bool {
    dates(raw).is_ok_and(|(exp, nbf, iat)| check_times(exp, nbf, iat, now, rules).is_ok())
}

/// `exp`, `nbf` and `iat` against `now`, with `leeway` seconds of clock skew either way,
/// then the optional age and remaining-lifetime policies.
fn check_times(
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    now: u64,
    rules: &TimeRules,
) -> Result<(), JwtError> {
    let leeway = rules.leeway;
    if exp.saturating_add(leeway) <= now {
        return Err(JwtError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(JwtError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(JwtError::IssuedInFuture);
    }
    if let Some(max_age) = rules.max_age {
        // Without `iat` the age is unknown, so a max-age policy cannot be met.
        let iat = iat.ok_or_else(|| JwtError::MissingClaim("iat".into()))?;
        if iat.saturating_add(max_age).saturating_add(leeway) < now {
            return Err(JwtError::TooOld);
        }
    }
    if let Some(min_remaining) = rules.min_remaining {
        // Our own clock decides what is left: leeway widens validity, never this margin.
        if exp < now.saturating_add(min_remaining) {
            return Err(JwtError::ExpiresTooSoon);
        }
    }
    Ok(())
}

/// The time checks again, for claims that already passed [`check_claims`] at another time
/// (a verified-token cache hit).
pub(crate) fn recheck_times(
    claims: &JwtClaims,
    now: u64,
    rules: &TimeRules,
) -> Result<(), JwtError> {
    // These dates came from u64 NumericDates, so they are never negative.
    let date = |value: i64| u64::try_from(value).unwrap_or(0);
    check_times(
        date(claims.exp),
        claims.nbf.map(date),
        claims.iat.map(date),
        now,
        rules,
    )
}

fn as_i64(date: u64) -> i64 {
    // NumericDates are at most MAX_NUMERIC_DATE, far below i64::MAX.
    i64::try_from(date).unwrap_or(i64::MAX)
}

/// A NumericDate: a non-negative integer, or a finite non-negative float floored; at most year
/// 9999. Any other JSON type is a format error even for optional claims.
fn numeric_date(value: Option<&Value>, name: &'static str) -> Result<Option<u64>, JwtError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let number = value.as_number().ok_or(JwtError::ClaimFormat(name))?;
    let seconds = if let Some(int) = number.as_u64() {
        int
    } else if number.is_i64() {
        return Err(JwtError::ClaimFormat(name));
    } else {
        match number.as_f64() {
            Some(float)
                if float.is_finite() && float >= 0.0 && float <= MAX_NUMERIC_DATE as f64 =>
            {
                // In range and finite, so the cast is exact after flooring.
                float.floor() as u64
            }
            _ => return Err(JwtError::ClaimFormat(name)),
        }
    };
    if seconds > MAX_NUMERIC_DATE {
        return Err(JwtError::ClaimFormat(name));
    }
    Ok(Some(seconds))
}

fn take_string(value: Option<Value>, name: &'static str) -> Result<String, JwtError> {
    match value {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(JwtError::MissingClaim(name.into()))
        }
        Some(_) => Err(JwtError::ClaimFormat(name)),
    }
}

fn audience(value: Value) -> Result<Audience, JwtError> {
    match value {
        Value::String(one) => Ok(Audience::One(one)),
        Value::Array(items) if !items.is_empty() => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(JwtError::ClaimFormat("aud")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Audience::Many),
        _ => Err(JwtError::ClaimFormat("aud")),
    }
}

/// A `user` or `team` claim: the record read while parsing, or the value as sent converted
/// now (`null` counting as absent).
fn take_typed<T: serde::de::DeserializeOwned>(
    sent: Option<Result<T, Value>>,
    name: &'static str,
) -> Result<Option<T>, JwtError> {
    match sent {
        None | Some(Err(Value::Null)) => Ok(None),
        Some(Ok(record)) => Ok(Some(record)),
        Some(Err(value)) => serde_json::from_value(value)
            .map(Some)
            .map_err(|_| JwtError::ClaimFormat(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::json::parse_claims;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;

    fn rules() -> ClaimRules<'static> {
        ClaimRules {
            times: TimeRules {
                leeway: 60,
                max_age: None,
                min_remaining: None,
            },
            audience: &[],
            required: &[],
        }
    }

    fn claims(extra: Value) -> RawClaims {
        let mut base = json!({"iss": "https://api.runbeam.io/x", "sub": "u1", "exp": NOW + 3600});
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
            base.extend(extra);
        }
        base.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        parse_claims(base.to_string().as_bytes()).ok().unwrap()
    }

    #[test]
    fn numeric_dates_accept_integers_and_floored_floats_only() {
        assert_eq!(numeric_date(Some(&json!(5)), "exp").unwrap(), Some(5));
        assert_eq!(numeric_date(Some(&json!(5.9)), "exp").unwrap(), Some(5));
        for bad in [
            json!(-1),
            json!(-0.5),
            json!("5"),
            json!(true),
            json!(null),
            json!([1]),
            json!(1e300),
            json!(253_402_300_800u64),
            json!(u64::MAX),
        ] {
            assert!(
                matches!(
                    numeric_date(Some(&bad), "exp"),
                    Err(JwtError::ClaimFormat("exp"))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn time_checks_apply_leeway_symmetrically() {
        let at = |c: Value| check_claims(claims(c), NOW, &rules());
        assert!(at(json!({"exp": NOW - 30})).is_ok());
        assert!(matches!(
            at(json!({"exp": NOW - 60})),
            Err(JwtError::Expired)
        ));
        assert!(at(json!({"nbf": NOW + 60})).is_ok());
        assert!(matches!(
            at(json!({"nbf": NOW + 61})),
            Err(JwtError::NotYetValid)
        ));
        assert!(at(json!({"iat": NOW + 60})).is_ok());
        assert!(matches!(
            at(json!({"iat": NOW + 61})),
            Err(JwtError::IssuedInFuture)
        ));
        let mut no_exp = claims(json!({}));
        no_exp.exp = None;
        assert!(
            matches!(check_claims(no_exp, NOW, &rules()), Err(JwtError::MissingClaim(n)) if n == "exp")
        );
    }

    #[test]
    fn extra_claims_stay_reachable_and_api_base_url_is_the_origin() {
        let c = check_claims(
            claims(json!({"scope": "a b", "iss": "https://api.runbeam.io:8443/api/cli/x"})),
            NOW,
            &rules(),
        )
        .unwrap();
        assert_eq!(c.extra.get("scope"), Some(&json!("a b")));
        assert_eq!(c.claim("sub"), Some(json!("u1")));
        assert_eq!(c.api_base_url(), "https://api.runbeam.io:8443");
        let odd = JwtClaims {
            iss: "joe".into(),
            ..c
        };
        assert_eq!(odd.api_base_url(), "joe");
        assert!(odd.is_expired(), "exp in 2023 is in the past");
    }

    /// `user` or `team` as the claims held it before records were read directly: the value
    /// as sent, converted.
    fn from_sent<T: serde::de::DeserializeOwned>(sent: Option<&Value>) -> Option<Option<T>> {
        match sent {
            None | Some(Value::Null) => Some(None),
            Some(value) => serde_json::from_value(value.clone()).ok().map(Some),
        }
    }

    #[test]
    fn claims_read_in_one_pass_give_the_verdicts_of_a_value() {
        use crate::identity::{TeamInfo, UserInfo};
        use crate::jwt::json::tests::{hostile_values, objects_around};
        use crate::jwt::json::{parse_object, ObjectError};

        for name in ["user", "team", "iss", "exp", "scope"] {
            for value in hostile_values() {
                for payload in objects_around(name, &value) {
                    let shown = String::from_utf8_lossy(&payload);
                    let (old, new) = (parse_object(&payload), parse_claims(&payload));
                    let (old, mut new) = match (old, new) {
                        (Ok(old), Ok(new)) => (old, new),
                        (Err(ObjectError::Invalid), Err(ObjectError::Invalid))
                        | (Err(ObjectError::Duplicate), Err(ObjectError::Duplicate)) => continue,
                        _ => panic!("verdicts differ on {shown}"),
                    };
                    for member in ["iss", "sub", "exp", "user", "team", "scope", "a", "b"] {
                        let set = old.get(member).is_some_and(|value| !value.is_null());
                        assert_eq!(new.is_set(member), set, "{member} in {shown}");
                    }
                    assert_eq!(new.iss.as_ref(), old.get("iss"), "{shown}");
                    assert_eq!(new.exp.as_ref(), old.get("exp"), "{shown}");
                    assert_eq!(new.extra.get("scope"), old.get("scope"), "{shown}");
                    let user = take_typed::<UserInfo>(new.user.take(), "user").ok();
                    assert_eq!(user, from_sent(old.get("user")), "{shown}");
                    let team = take_typed::<TeamInfo>(new.team.take(), "team").ok();
                    assert_eq!(team, from_sent(old.get("team")), "{shown}");
                }
            }
        }
    }
}
