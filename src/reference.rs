//! Resource references (`my_ingress`, `runbeam.acme.ingress.name.patient_api`, ...): the pure
//! parser and printer. Below the client (whose errors carry [`ReferenceError`]); resolving
//! one through Runbeam is `api::resolve`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of resource a five-part reference can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ResourceType {
    /// A way into a mesh.
    Ingress,
    /// A way out of a mesh.
    Egress,
    /// A pipeline.
    Pipeline,
    /// An endpoint.
    Endpoint,
    /// A backend.
    Backend,
    /// A mesh.
    Mesh,
}

impl ResourceType {
    /// Every type, in declaration order.
    pub const ALL: [ResourceType; 6] = [
        ResourceType::Ingress,
        ResourceType::Egress,
        ResourceType::Pipeline,
        ResourceType::Endpoint,
        ResourceType::Backend,
        ResourceType::Mesh,
    ];

    /// The name in a reference, e.g. `"ingress"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Ingress => "ingress",
            ResourceType::Egress => "egress",
            ResourceType::Pipeline => "pipeline",
            ResourceType::Endpoint => "endpoint",
            ResourceType::Backend => "backend",
            ResourceType::Mesh => "mesh",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a reference finds its resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LookupBy {
    /// By id (`….id.01JGXYZ123ABC`).
    Id(String),
    /// By name (`….name.fhir_api`, or a bare name).
    Name(String),
}

impl LookupBy {
    /// The id or name.
    pub fn value(&self) -> &str {
        match self {
            LookupBy::Id(v) | LookupBy::Name(v) => v,
        }
    }
}

/// A parsed resource reference. Built only by [`ResourceReference::parse`], so printing it
/// ([`Display`](fmt::Display)) always gives a reference that parses back to the same value,
/// in the shortest of the forms:
///
/// | form | meaning |
/// |---|---|
/// | `NAME` | provider `local`, by name |
/// | `P.name.NAME`, `P.id.ID` | provider `P`, by name / by id |
/// | `P.TEAM.id.ID` | provider `P`, team `TEAM`, by id |
/// | `P.TEAM.TYPE.name.NAME`, `P.TEAM.TYPE.id.ID` | also a [`ResourceType`] |
///
/// ```
/// use runbeam_sdk_blocking::api::{LookupBy, ResourceReference, ResourceType};
///
/// let r = ResourceReference::parse("runbeam.acme_health.ingress.name.patient_api")?;
/// assert_eq!(r.provider(), "runbeam");
/// assert_eq!(r.team(), Some("acme_health"));
/// assert_eq!(r.resource_type(), Some(ResourceType::Ingress));
/// assert_eq!(r.lookup(), &LookupBy::Name("patient_api".into()));
/// assert!(ResourceReference::parse("local.name.fhir_api")?.is_local());
/// assert_eq!(ResourceReference::parse("local.name.fhir_api")?.to_string(), "fhir_api");
/// # Ok::<(), runbeam_sdk_blocking::api::ReferenceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceReference {
    provider: String,
    team: Option<String>,
    resource_type: Option<ResourceType>,
    lookup: LookupBy,
}

/// The provider of bare-name references.
const LOCAL: &str = "local";

/// Why a reference does not parse. Parts are numbered from 1; `offset` is the byte offset
/// where the part starts. The text of a part is not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The number of `.`-separated parts is not 1, 3, 4 or 5.
    #[error("a reference has 1, 3, 4 or 5 dot-separated parts, not {parts}")]
    PartCount {
        /// How many parts there were.
        parts: usize,
    },
    /// A part is empty.
    #[error("part {part} (at byte {offset}) is empty; expected {expected}")]
    EmptyPart {
        /// Which part (1-based).
        part: usize,
        /// Where it starts.
        offset: usize,
        /// What belongs there.
        expected: &'static str,
    },
    /// A part is not one of the words allowed there.
    #[error("part {part} (at byte {offset}) is not valid here; expected {expected}")]
    Unexpected {
        /// Which part (1-based).
        part: usize,
        /// Where it starts.
        offset: usize,
        /// What belongs there.
        expected: &'static str,
    },
}

const PROVIDER: &str = "a provider (e.g. `runbeam`)";
const TEAM: &str = "a team";
const NAME_OR_ID: &str = "`name` or `id`";
const ONLY_ID: &str = "`id` (a four-part reference looks up by id only)";
const TYPE: &str = "a resource type: ingress, egress, pipeline, endpoint, backend or mesh";
const VALUE: &str = "the name or id to look up";
const BARE_NAME: &str = "a resource name";

impl ResourceReference {
    /// Parses a reference. Stricter than upstream: an empty part is an error.
    ///
    /// # Errors
    /// [`ReferenceError`] naming the part, where it starts and what was expected there.
    pub fn parse(text: &str) -> Result<ResourceReference, ReferenceError> {
        let mut offset = 0;
        let parts: Vec<(usize, &str)> = text
            .split('.')
            .map(|part| {
                let start = offset;
                offset += part.len() + 1;
                (start, part)
            })
            .collect();
        let expected: &[&'static str] = match parts.len() {
            1 => &[BARE_NAME],
            3 => &[PROVIDER, NAME_OR_ID, VALUE],
            4 => &[PROVIDER, TEAM, ONLY_ID, VALUE],
            5 => &[PROVIDER, TEAM, TYPE, NAME_OR_ID, VALUE],
            n => return Err(ReferenceError::PartCount { parts: n }),
        };
        for (i, ((offset, part), expected)) in parts.iter().zip(expected).enumerate() {
            if part.is_empty() {
                return Err(ReferenceError::EmptyPart {
                    part: i + 1,
                    offset: *offset,
                    expected,
                });
            }
        }
        let unexpected = |i: usize| ReferenceError::Unexpected {
            part: i + 1,
            offset: parts[i].0,
            expected: expected[i],
        };
        let lookup = |i: usize| {
            let value = parts[i + 1].1.to_string();
            match parts[i].1 {
                "id" => Ok(LookupBy::Id(value)),
                "name" if expected[i] == NAME_OR_ID => Ok(LookupBy::Name(value)),
                _ => Err(unexpected(i)),
            }
        };
        let text = |i: usize| parts[i].1.to_string();
        Ok(match parts.len() {
            1 => ResourceReference {
                provider: LOCAL.into(),
                team: None,
                resource_type: None,
                lookup: LookupBy::Name(text(0)),
            },
            3 => ResourceReference {
                provider: text(0),
                team: None,
                resource_type: None,
                lookup: lookup(1)?,
            },
            4 => ResourceReference {
                provider: text(0),
                team: Some(text(1)),
                resource_type: None,
                lookup: lookup(2)?,
            },
            _ => {
                let kind = ResourceType::ALL
                    .into_iter()
                    .find(|t| t.as_str() == parts[2].1)
                    .ok_or_else(|| unexpected(2))?;
                ResourceReference {
                    provider: text(0),
                    team: Some(text(1)),
                    resource_type: Some(kind),
                    lookup: lookup(3)?,
                }
            }
        })
    }

    /// The provider: `local` for bare names, else the first part.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The team, in four- and five-part references.
    pub fn team(&self) -> Option<&str> {
        self.team.as_deref()
    }

    /// The resource type, in five-part references.
    pub fn resource_type(&self) -> Option<ResourceType> {
        self.resource_type
    }

    /// By id or by name, and the value.
    pub fn lookup(&self) -> &LookupBy {
        &self.lookup
    }

    /// True when the provider is `local` (a bare name, or `local.name.x`): the gateway
    /// resolves it itself, without Runbeam.
    pub fn is_local(&self) -> bool {
        self.provider == LOCAL
    }
}

impl FromStr for ResourceReference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceReference::parse(s)
    }
}

impl fmt::Display for ResourceReference {
    /// The shortest form that parses back to this reference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (by, value) = match &self.lookup {
            LookupBy::Id(v) => ("id", v),
            LookupBy::Name(v) => ("name", v),
        };
        match (&self.team, self.resource_type) {
            (None, None) if self.is_local() && by == "name" => f.write_str(value),
            (None, _) => write!(f, "{}.{by}.{value}", self.provider),
            (Some(team), None) => write!(f, "{}.{team}.{by}.{value}", self.provider),
            (Some(team), Some(kind)) => {
                write!(f, "{}.{team}.{kind}.{by}.{value}", self.provider)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ResourceReference {
        ResourceReference::parse(text).unwrap()
    }

    #[test]
    fn the_reference_cases_parse_as_documented() {
        let r = parse("my_ingress");
        assert!(r.is_local());
        assert_eq!(r.lookup(), &LookupBy::Name("my_ingress".into()));
        let r = parse("local.name.fhir_api");
        assert!(r.is_local() && r.team().is_none());
        assert_eq!(r.lookup().value(), "fhir_api");
        let r = parse("runbeam.id.01JGXYZ123ABC");
        assert!(!r.is_local());
        assert_eq!(r.lookup(), &LookupBy::Id("01JGXYZ123ABC".into()));
        assert_eq!(parse("runbeam.acme.id.01JGXYZ123ABC").team(), Some("acme"));
        let r = parse("runbeam.acme_health.ingress.name.patient_api");
        assert_eq!(
            (r.team(), r.resource_type()),
            (Some("acme_health"), Some(ResourceType::Ingress))
        );
        let r = parse("runbeam.partner_lab.egress.id.01JGXYZ");
        assert_eq!(r.resource_type(), Some(ResourceType::Egress));
        assert_eq!(r.lookup(), &LookupBy::Id("01JGXYZ".into()));
    }

    #[test]
    fn printing_gives_the_shortest_form() {
        for (text, shortest) in [
            ("my_ingress", "my_ingress"),
            ("local.name.x", "x"),
            ("local.id.x", "local.id.x"),
            ("runbeam.id.X", "runbeam.id.X"),
            ("runbeam.name.X", "runbeam.name.X"),
            ("runbeam.acme.id.X", "runbeam.acme.id.X"),
            ("runbeam.acme.ingress.name.X", "runbeam.acme.ingress.name.X"),
        ] {
            assert_eq!(parse(text).to_string(), shortest);
            assert_eq!(text.parse::<ResourceReference>().unwrap(), parse(shortest));
        }
    }

    #[test]
    fn bad_references_name_the_part_and_what_was_expected() {
        let err = |text| ResourceReference::parse(text).unwrap_err();
        assert_eq!(err("a.b"), ReferenceError::PartCount { parts: 2 });
        assert_eq!(err("a.b.c.d.e.f"), ReferenceError::PartCount { parts: 6 });
        assert_eq!(
            err("runbeam.team.invalid.name.x"),
            ReferenceError::Unexpected {
                part: 3,
                offset: 13,
                expected: TYPE
            }
        );
        assert_eq!(
            err("runbeam.acme.name.x"),
            ReferenceError::Unexpected {
                part: 3,
                offset: 13,
                expected: ONLY_ID
            }
        );
        assert_eq!(
            err("runbeam.by.x"),
            ReferenceError::Unexpected {
                part: 2,
                offset: 8,
                expected: NAME_OR_ID
            }
        );
        let text = err("runbeam.team.invalid.name.x").to_string();
        assert!(
            text.contains("part 3") && text.contains("ingress, egress"),
            "{text}"
        );
    }

    #[test]
    fn empty_parts_are_errors_unlike_upstream() {
        let err = |text| ResourceReference::parse(text).unwrap_err();
        let empty = |part, offset, expected| ReferenceError::EmptyPart {
            part,
            offset,
            expected,
        };
        assert_eq!(err(""), empty(1, 0, BARE_NAME));
        assert_eq!(err(".id.x"), empty(1, 0, PROVIDER));
        assert_eq!(err("runbeam.id."), empty(3, 11, VALUE));
        assert_eq!(err("runbeam..id.x"), empty(2, 8, TEAM));
        assert_eq!(err("a.b..name.x"), empty(3, 4, TYPE));
    }

    /// Generated reference parts over the tests' deterministic generator, so the property
    /// runs the same cases everywhere without a property-testing dependency.
    struct Gen(crate::test_rng::XorShift);

    impl Gen {
        fn below(&mut self, n: usize) -> usize {
            self.0.below(n)
        }

        /// A non-empty part without dots, sometimes a keyword (`id`, `name`, `local`, a type).
        fn part(&mut self) -> String {
            const WORDS: [&str; 5] = ["id", "name", "local", "ingress", "mesh"];
            if self.below(4) == 0 {
                return WORDS[self.below(WORDS.len())].to_string();
            }
            const CHARS: &[char] = &['a', 'Z', '0', '_', '-', ' ', '/', '?', '&', '%', 'é', '|'];
            (0..1 + self.below(8))
                .map(|_| CHARS[self.below(CHARS.len())])
                .collect()
        }
    }

    #[test]
    fn parse_of_display_gives_the_same_reference() {
        let mut g = Gen(crate::test_rng::XorShift(0x9E37_79B9_7F4A_7C15));
        let mut checked = 0;
        for _ in 0..20_000 {
            let lookup = |g: &mut Gen| match g.below(2) {
                0 => "id".to_string(),
                _ => "name".to_string(),
            };
            let text = match g.below(4) {
                0 => g.part(),
                1 => format!("{}.{}.{}", g.part(), lookup(&mut g), g.part()),
                2 => format!("{}.{}.id.{}", g.part(), g.part(), g.part()),
                _ => {
                    let kind = ResourceType::ALL[g.below(6)];
                    let by = lookup(&mut g);
                    format!("{}.{}.{kind}.{by}.{}", g.part(), g.part(), g.part())
                }
            };
            let r = ResourceReference::parse(&text).unwrap();
            assert_eq!(
                ResourceReference::parse(&r.to_string()),
                Ok(r.clone()),
                "{text}"
            );
            checked += 1;
        }
        assert_eq!(checked, 20_000);
    }
}
