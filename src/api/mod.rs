//! The Runbeam API resources and operations.
//!
//! One file per resource family holds its serde types beside the [`RunbeamClient`] methods
//! that use them. Shared here: [`PaginatedResponse`], paging, path-segment encoding and the
//! generic request helpers the families call. The method ↔ operation mapping lives in one
//! internal table, checked against the published spec by the tests.
//!
//! Response types are lenient on purpose: unknown fields are ignored, most fields are
//! optional, and ids are accepted as JSON strings or numbers (and kept as strings), because
//! the published spec and the live server disagree on several shapes.
//!
//! [`RunbeamClient`]: crate::RunbeamClient

mod authentication;
mod backend;
mod changes;
mod config_push;
mod endpoint;
mod gateway;
mod harmony;
mod login;
mod mesh;
mod middleware;
mod network;
pub(crate) mod operations;
mod paging;
mod pipeline;
mod policy;
mod poller;
mod reference;
mod service;
pub mod shapes;
mod transform;

pub use crate::client::BaseUrlError;
pub use crate::client::ErrorBody;
pub use crate::identity::{TeamInfo, UserInfo};
pub use authentication::{Authentication, AuthenticationRequest};
pub use backend::{Backend, BackendRequest};
pub use changes::{
    AcknowledgeChangesResponse, BaseUrlResponse, Change, ChangeRoutes, ChangeStatusResponse,
};
pub use config_push::{
    ConfigAction, ConfigType, StoreConfigResponse, StoredConfig, UnknownConfigType,
};
pub use endpoint::{ConnectionConfig, Endpoint, EndpointRequest};
pub use gateway::{Gateway, GatewayRequest};
pub use harmony::{AuthorizeResponse, AuthorizedBy, GatewayInfo};
pub use login::{LoginState, LoginSuccess, StartLoginResponse};
pub use mesh::{MeshEgressInfo, MeshInfo, MeshIngressInfo, MeshTokenClaims, MeshTokenResponse};
pub use middleware::{Middleware, MiddlewareRequest};
pub use network::{Network, NetworkHttp, NetworkRequest};
pub(crate) use operations::Operation;
pub use paging::{PageIter, PaginatedResponse, PaginationLinks, PaginationMeta, DEFAULT_MAX_PAGES};
pub use pipeline::{Pipeline, PipelineRequest};
pub use policy::{Policy, PolicyRequest};
pub use poller::{
    ChangePoller, PollError, PollReport, PollStage, RunSummary, StopReason,
    DEFAULT_MAX_CHANGES_PER_POLL, KEPT_ERRORS, MIN_INTERVAL,
};
pub use reference::{
    LookupBy, ReferenceError, ResolveMeta, ResolveResourceResponse, ResolvedResource,
    ResourceReference, ResourceType,
};
pub use service::{Service, ServiceRequest};
pub use transform::{Transform, TransformOptions, TransformRequest};

use operations as ops;
#[cfg(any(test, fuzzing))]
pub(crate) use paging::following_page;

use serde::{Deserialize, Serialize};

/// A `{"message": "..."}` answer (deletes, revoke).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageResponse {
    /// The server's message, e.g. `"Gateway deleted successfully"`.
    #[serde(default)]
    pub message: Option<String>,
}

/// A single resource as Laravel wraps it: `{"data": T}`.
#[derive(Deserialize)]
pub(crate) struct Envelope<T> {
    pub(crate) data: T,
}

/// Appends `segment` to `out`, percent-encoding everything except RFC 3986 unreserved
/// characters, so an id can never add a path segment, a query or a fragment. A segment made
/// only of dots is encoded too (`..` would otherwise be a dot-segment).
pub(crate) fn encode_segment_into(segment: &str, out: &mut String) {
    let all_dots = segment.bytes().all(|b| b == b'.');
    for b in segment.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_~".contains(&b) || (b == b'.' && !all_dots);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters is
/// escaped, and a segment made only of dots is escaped whole, so an id can never change the
/// path, add a query or a fragment.
#[cfg(test)]
fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    encode_segment_into(segment, &mut out);
    out
}

/// Serde helpers for the server's loose typing (ids as numbers or strings, 0/1 flags).
pub(crate) mod de {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// An optional id given as a string or a number; kept as a string.
    pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    /// An id given as a string or a number, empty when absent or `null` (fields older
    /// shapes lack).
    pub(crate) fn id_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(opt_id(d)?.unwrap_or_default())
    }

    /// A required id given as a string or a number; kept as a string.
    pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        opt_id(d)?.ok_or_else(|| serde::de::Error::custom("id must be a string or a number"))
    }

    /// An optional count or number of seconds (page numbers, totals, `expires_in`): a JSON
    /// integer or an integer string that fits `T`. Anything else (negative, fractional, huge,
    /// `1e308`, text) reads as absent, so one odd number from a server never fails a whole
    /// response and never reaches arithmetic.
    pub(crate) fn opt_uint<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        let number = match Option::<Value>::deserialize(d)? {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        Ok(number.and_then(|n| T::try_from(n).ok()))
    }

    /// `true`: the serde default of flags that are on unless the server says otherwise.
    pub(crate) fn yes() -> bool {
        true
    }

    /// An optional boolean given as `true`/`false` or `0`/`1`.
    pub(crate) fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::Bool(b)) => Some(b),
            Some(Value::Number(n)) => Some(n.as_i64() != Some(0)),
            _ => None,
        })
    }
}

/// Generates the two list methods of a resource family on `RunbeamClient`: the first page,
/// and the page iterator (the one paging shape of every list).
macro_rules! list_methods {
    ($Res:ty, $plural:literal, $index:ident, $list:ident, $pages:ident $(,)?) => {
        #[doc = concat!("**Listing ", $plural, "**: the first page, and a page iterator.")]
        impl crate::RunbeamClient {
            #[doc = concat!("Lists ", $plural, " (the first page).\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api) with the reason."]
            pub fn $list(
                &self,
                token: &str,
            ) -> Result<crate::api::PaginatedResponse<$Res>, crate::RunbeamError> {
                self.list_page(&crate::api::operations::$index, token, &[], None)
            }

            #[doc = concat!("Iterates over the pages of ", $plural, " (see [`PageIter`](crate::api::PageIter): `starting_at(n)` for page N, `collect_all()` for every item).")]
            pub fn $pages<'a>(&'a self, token: &'a str) -> crate::api::PageIter<'a, $Res> {
                crate::api::PageIter::new(self, &crate::api::operations::$index, token, None)
            }
        }
    };
}

/// Generates get / create / update / delete of a resource family on `RunbeamClient`.
macro_rules! crud_methods {
    ($Res:ty, $Req:ty, $singular:literal, $show:ident, $store:ident, $update:ident, $destroy:ident,
     $get:ident, $create:ident, $upd:ident, $delete:ident) => {
        #[doc = concat!("**Managing ", $singular, "**: get, create, update, delete.")]
        impl crate::RunbeamClient {
            #[doc = concat!("Fetches ", $singular, " by id.\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api); `is_not_found()` for an unknown id."]
            pub fn $get(&self, token: &str, id: &str) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::api::operations::$show, token, &[id], None::<&()>)
            }

            #[doc = concat!("Creates ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api); `validation_errors()` for a 422."]
            pub fn $create(&self, token: &str, request: &$Req) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::api::operations::$store, token, &[], Some(request))
            }

            #[doc = concat!("Replaces ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api)."]
            pub fn $upd(
                &self,
                token: &str,
                id: &str,
                request: &$Req,
            ) -> Result<$Res, crate::RunbeamError> {
                self.call_data(&crate::api::operations::$update, token, &[id], Some(request))
            }

            #[doc = concat!("Deletes ", $singular, ".\n\n")]
            #[doc = "# Errors\n[`RunbeamError::Api`](crate::RunbeamError::Api)."]
            pub fn $delete(
                &self,
                token: &str,
                id: &str,
            ) -> Result<crate::api::MessageResponse, crate::RunbeamError> {
                self.call(&crate::api::operations::$destroy, token, &[id], None::<&()>)
            }
        }
    };
}

pub(crate) use crud_methods;
pub(crate) use list_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_encoding_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(encode_path_segment("01HZX-abc_~.v1"), "01HZX-abc_~.v1");
        assert_eq!(encode_path_segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
        assert_eq!(encode_path_segment(".."), "%2E%2E");
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }

    #[test]
    fn hostile_counts_read_as_absent_never_as_errors() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "de::opt_uint")]
            n: Option<u32>,
        }
        let n = |json: &str| serde_json::from_str::<T>(&format!(r#"{{"n":{json}}}"#)).map(|t| t.n);
        assert_eq!(n("7").unwrap(), Some(7));
        assert_eq!(n(r#"" 7 ""#).unwrap(), Some(7));
        assert_eq!(n("4294967295").unwrap(), Some(u32::MAX));
        for hostile in [
            "0.5",
            "-1",
            "4294967296",
            "18446744073709551615",
            "-9223372036854775808",
            "1e308",
            "-1e308",
            r#""NaN""#,
            r#""many""#,
            "null",
            "true",
            "[1]",
            r#"{"a":1}"#,
        ] {
            assert_eq!(n(hostile).unwrap(), None, "{hostile}");
        }
        assert_eq!(n("0").unwrap(), Some(0));
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "de::opt_id")]
            id: Option<String>,
        }
        let a: T = serde_json::from_str(r#"{"id":42}"#).unwrap();
        let b: T = serde_json::from_str(r#"{"id":"01HZ"}"#).unwrap();
        let c: T = serde_json::from_str(r#"{"id":null}"#).unwrap();
        assert_eq!(
            (a.id.as_deref(), b.id.as_deref(), c.id),
            (Some("42"), Some("01HZ"), None)
        );
    }
}
