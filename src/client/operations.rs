//! The route tables mapping every client method to its operation (method and path under
//! `/api`). The client builds every request from these entries. `OPERATIONS` is the
//! published spec v1-2, checked against the OpenAPI file both ways, so a path cannot drift
//! from the spec silently; `LIVE_OPERATIONS` holds the routes the live API added after it
//! (what Harmony and the Runbeam CLI call), which no spec file describes.

/// An HTTP method used by the Runbeam API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The upper-case name, e.g. `"GET"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// True when repeating the request cannot change the outcome (retries are allowed only
    /// for these).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }
}

/// One operation of the Runbeam API as the client calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The spec's `operationId`, e.g. `gateways.show`.
    pub operation_id: &'static str,
    /// The client method that calls it, e.g. `get_gateway`.
    pub client_method: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path relative to the `/api` base, with `{name}` placeholders as in the spec.
    pub path: &'static str,
}

macro_rules! operations {
    ($(#[$table_doc:meta])* $table:ident; $($konst:ident = $id:literal, $client:literal, $method:ident, $path:literal;)*) => {
        $(
            #[doc = concat!("`", stringify!($method), " ", $path, "` (`", $id, "`), called by `", $client, "`.")]
            pub const $konst: Operation = Operation {
                operation_id: $id,
                client_method: $client,
                method: Method::$method,
                path: $path,
            };
        )*
        $(#[$table_doc])*
        #[cfg(test)]
        pub const $table: &[Operation] = &[$($konst),*];
    };
}

operations! {
    /// Every spec operation the client calls, in spec order; the tests hold it against the spec.
    OPERATIONS;
    AUTHENTICATIONS_INDEX = "authentications.index", "list_authentications", Get, "/authentications";
    AUTHENTICATIONS_STORE = "authentications.store", "create_authentication", Post, "/authentications";
    AUTHENTICATIONS_SHOW = "authentications.show", "get_authentication", Get, "/authentications/{authentication}";
    AUTHENTICATIONS_UPDATE = "authentications.update", "update_authentication", Put, "/authentications/{authentication}";
    AUTHENTICATIONS_DESTROY = "authentications.destroy", "delete_authentication", Delete, "/authentications/{authentication}";
    BACKENDS_INDEX = "backends.index", "list_backends", Get, "/backends";
    BACKENDS_STORE = "backends.store", "create_backend", Post, "/backends";
    BACKENDS_SHOW = "backends.show", "get_backend", Get, "/backends/{backend}";
    BACKENDS_UPDATE = "backends.update", "update_backend", Put, "/backends/{backend}";
    BACKENDS_DESTROY = "backends.destroy", "delete_backend", Delete, "/backends/{backend}";
    GATEWAY_BASE_URL = "gateway.base-url", "get_base_url", Get, "/gateway/base-url";
    CHANGES_INDEX = "gateway.changes.index", "list_changes", Get, "/gateway/changes";
    CHANGES_SHOW = "gateway.changes.show", "get_change", Get, "/gateway/changes/{change}";
    CHANGES_ACKNOWLEDGE = "gateway.changes.acknowledge", "acknowledge_changes", Post, "/gateway/changes/acknowledge";
    CHANGES_APPLIED = "gateway.changes.applied", "mark_change_applied", Post, "/gateway/changes/{change}/applied";
    CHANGES_FAILED = "gateway.changes.failed", "mark_change_failed", Post, "/gateway/changes/{change}/failed";
    CLI_START_LOGIN = "cli.start-login", "start_login", Post, "/cli/start-login";
    CLI_CHECK_LOGIN = "cli.check-login", "check_login", Get, "/cli/check-login/{deviceToken}";
    ENDPOINTS_INDEX = "endpoints.index", "list_endpoints", Get, "/endpoints";
    ENDPOINTS_STORE = "endpoints.store", "create_endpoint", Post, "/endpoints";
    ENDPOINTS_SHOW = "endpoints.show", "get_endpoint", Get, "/endpoints/{endpoint}";
    ENDPOINTS_UPDATE = "endpoints.update", "update_endpoint", Put, "/endpoints/{endpoint}";
    ENDPOINTS_DESTROY = "endpoints.destroy", "delete_endpoint", Delete, "/endpoints/{endpoint}";
    GATEWAYS_INDEX = "gateways.index", "list_gateways", Get, "/gateways";
    GATEWAYS_STORE = "gateways.store", "create_gateway", Post, "/gateways";
    GATEWAYS_SHOW = "gateways.show", "get_gateway", Get, "/gateways/{gateway}";
    GATEWAYS_UPDATE = "gateways.update", "update_gateway", Put, "/gateways/{gateway}";
    GATEWAYS_DESTROY = "gateways.destroy", "delete_gateway", Delete, "/gateways/{gateway}";
    HARMONY_AUTHORIZE = "harmony.authorize", "authorize_gateway", Post, "/harmony/authorize";
    HARMONY_REVOKE = "harmony.revoke", "revoke_gateway", Post, "/harmony/revoke";
    JWKS = "jwks", "get_jwks", Get, "/.well-known/jwks.json";
    MIDDLEWARES_INDEX = "middlewares.index", "list_middlewares", Get, "/middlewares";
    MIDDLEWARES_STORE = "middlewares.store", "create_middleware", Post, "/middlewares";
    MIDDLEWARES_SHOW = "middlewares.show", "get_middleware", Get, "/middlewares/{middleware}";
    MIDDLEWARES_UPDATE = "middlewares.update", "update_middleware", Put, "/middlewares/{middleware}";
    MIDDLEWARES_DESTROY = "middlewares.destroy", "delete_middleware", Delete, "/middlewares/{middleware}";
    NETWORKS_STORE = "networks.store", "create_network", Post, "/networks";
    NETWORKS_SHOW = "networks.show", "get_network", Get, "/networks/{network}";
    NETWORKS_UPDATE = "networks.update", "update_network", Put, "/networks/{network}";
    NETWORKS_DESTROY = "networks.destroy", "delete_network", Delete, "/networks/{network}";
    PIPELINES_INDEX = "pipelines.index", "list_pipelines", Get, "/pipelines";
    PIPELINES_STORE = "pipelines.store", "create_pipeline", Post, "/pipelines";
    PIPELINES_SHOW = "pipelines.show", "get_pipeline", Get, "/pipelines/{pipeline}";
    PIPELINES_UPDATE = "pipelines.update", "update_pipeline", Put, "/pipelines/{pipeline}";
    PIPELINES_DESTROY = "pipelines.destroy", "delete_pipeline", Delete, "/pipelines/{pipeline}";
    POLICIES_INDEX = "policies.index", "list_policies", Get, "/policies";
    POLICIES_STORE = "policies.store", "create_policy", Post, "/policies";
    POLICIES_SHOW = "policies.show", "get_policy", Get, "/policies/{policy}";
    POLICIES_UPDATE = "policies.update", "update_policy", Put, "/policies/{policy}";
    POLICIES_DESTROY = "policies.destroy", "delete_policy", Delete, "/policies/{policy}";
    SERVICES_INDEX = "services.index", "list_services", Get, "/services";
    SERVICES_STORE = "services.store", "create_service", Post, "/services";
    SERVICES_SHOW = "services.show", "get_service", Get, "/services/{service}";
    SERVICES_UPDATE = "services.update", "update_service", Put, "/services/{service}";
    SERVICES_DESTROY = "services.destroy", "delete_service", Delete, "/services/{service}";
    TRANSFORMS_INDEX = "transforms.index", "list_transforms", Get, "/transforms";
    TRANSFORMS_STORE = "transforms.store", "create_transform", Post, "/transforms";
    TRANSFORMS_SHOW = "transforms.show", "get_transform", Get, "/transforms/{transform}";
    TRANSFORMS_UPDATE = "transforms.update", "update_transform", Put, "/transforms/{transform}";
    TRANSFORMS_DESTROY = "transforms.destroy", "delete_transform", Delete, "/transforms/{transform}";
}

operations! {
    /// The live routes beyond the spec (`/api/harmony/...`). Change management is here a
    /// second time: the live server moved it from `/gateway/changes` to `/harmony/change(s)`
    /// (`change/{id}` singular), and the client uses these unless told to use the spec's.
    LIVE_OPERATIONS;
    LIVE_BASE_URL = "harmony.base-url", "get_base_url", Get, "/harmony/base-url";
    LIVE_CHANGES_INDEX = "harmony.changes.index", "list_changes", Get, "/harmony/changes";
    LIVE_CHANGES_FOR_GATEWAY = "harmony.changes.gateway", "list_changes_for_gateway", Get, "/harmony/changes/{gateway}";
    LIVE_CHANGE_SHOW = "harmony.change.show", "get_change", Get, "/harmony/change/{change}";
    LIVE_CHANGES_ACKNOWLEDGE = "harmony.changes.acknowledge", "acknowledge_changes", Post, "/harmony/changes/acknowledge";
    LIVE_CHANGE_APPLIED = "harmony.change.applied", "mark_change_applied", Post, "/harmony/change/{change}/applied";
    LIVE_CHANGE_FAILED = "harmony.change.failed", "mark_change_failed", Post, "/harmony/change/{change}/failed";
    LIVE_STORE_CONFIG = "harmony.update", "store_config", Post, "/harmony/update";
    LIVE_MESH_TOKEN = "harmony.mesh.token", "request_mesh_token", Post, "/harmony/mesh/token";
    LIVE_RESOLVE = "harmony.resources.resolve", "resolve_reference", Get, "/harmony/resources/resolve";
}

impl Operation {
    /// Fills the `{placeholders}` of [`Operation::path`] in order with percent-encoded
    /// `params`. Pure. Extra or missing params are a programming error inside the crate and
    /// are caught by the tests that run every operation.
    pub(crate) fn fill_path(&self, params: &[&str]) -> String {
        let mut out = String::with_capacity(self.path.len() + 32);
        let mut rest = self.path;
        let mut params = params.iter();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            if let Some(param) = params.next() {
                encode_segment_into(param, &mut out);
            }
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_with_encoded_segments() {
        assert_eq!(GATEWAYS_SHOW.fill_path(&["a/b c"]), "/gateways/a%2Fb%20c");
        assert_eq!(
            CHANGES_FAILED.fill_path(&["../x"]),
            "/gateway/changes/..%2Fx/failed"
        );
        assert_eq!(GATEWAYS_INDEX.fill_path(&[]), "/gateways");
    }

    /// Every (method, path, operationId) of the published spec, from the fixture copy.
    fn spec_operations() -> std::collections::BTreeSet<(String, String, String)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/runbeam-openapi.json"
        );
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut ops = std::collections::BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    let id = op["operationId"].as_str().unwrap_or_default().to_string();
                    ops.insert((method.to_uppercase(), path.clone(), id));
                }
            }
        }
        ops
    }

    #[test]
    fn the_table_is_exactly_the_published_spec() {
        let spec = spec_operations();
        assert_eq!(spec.len(), 60, "the fixture is the v1-2 spec");
        let table: std::collections::BTreeSet<_> = OPERATIONS
            .iter()
            .map(|o| {
                let (method, path, id) = (o.method.as_str(), o.path, o.operation_id);
                (method.to_string(), path.to_string(), id.to_string())
            })
            .collect();
        let missing: Vec<_> = spec.difference(&table).collect();
        let extra: Vec<_> = table.difference(&spec).collect();
        assert!(
            missing.is_empty(),
            "spec operations not in the table: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "table operations not in the spec: {extra:?}"
        );
    }

    #[test]
    fn live_routes_are_distinct_from_each_other_and_from_the_spec() {
        for (i, a) in LIVE_OPERATIONS.iter().enumerate() {
            assert!(a.path.starts_with("/harmony/"), "{}", a.path);
            for b in LIVE_OPERATIONS[i + 1..].iter().chain(OPERATIONS) {
                assert_ne!((a.method, a.path), (b.method, b.path));
                assert_ne!(a.operation_id, b.operation_id);
            }
        }
        assert_eq!(
            LIVE_CHANGE_FAILED.fill_path(&["c/1"]),
            "/harmony/change/c%2F1/failed"
        );
    }

    #[test]
    fn table_has_sixty_distinct_operations() {
        assert_eq!(OPERATIONS.len(), 60);
        for (i, a) in OPERATIONS.iter().enumerate() {
            for b in &OPERATIONS[i + 1..] {
                assert_ne!((a.method, a.path), (b.method, b.path));
                assert_ne!(a.client_method, b.client_method);
            }
        }
    }

    #[test]
    fn segment_encoding_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(encode_path_segment("01HZX-abc_~.v1"), "01HZX-abc_~.v1");
        assert_eq!(encode_path_segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
        assert_eq!(encode_path_segment(".."), "%2E%2E");
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }
}
