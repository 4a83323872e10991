//! The fake server's routes: a pure function from a request and the state to a reply.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::keys::{random_hex, Keys};
use crate::api::{LookupBy, ResourceReference};
use crate::time;

/// Seconds a machine token lives (30 days), as Runbeam issues them.
pub(crate) const MACHINE_TOKEN_TTL: u64 = 2_592_000;

/// Seconds a mesh token lives (5 minutes), as Runbeam issues them.
const MESH_TOKEN_TTL: u64 = 300;

/// The team of every resource the fake server creates.
const FAKE_TEAM: &str = "team-1";

/// The resource families: (URL plural, JSON `type`, display name).
const FAMILIES: &[(&str, &str, &str)] = &[
    ("gateways", "gateway", "Gateway"),
    ("services", "service", "Service"),
    ("endpoints", "endpoint", "Endpoint"),
    ("backends", "backend", "Backend"),
    ("pipelines", "pipeline", "Pipeline"),
    ("middlewares", "middleware", "Middleware"),
    ("transforms", "transform", "Transform"),
    ("policies", "policy", "Policy"),
    ("networks", "network", "Network"),
    ("authentications", "authentication", "Authentication"),
];

/// A device login in progress.
#[derive(Debug, Clone)]
pub(crate) enum Login {
    Pending,
    Authenticated { token: String, user: Value },
    Expired,
}

/// Everything the fake server remembers.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tokens: HashSet<String>,
    /// machine token → gateway code.
    pub(crate) machine_tokens: HashMap<String, String>,
    pub(crate) resources: HashMap<&'static str, BTreeMap<String, Value>>,
    pub(crate) changes: BTreeMap<String, Value>,
    pub(crate) logins: HashMap<String, Login>,
    pub(crate) next_id: u64,
    pub(crate) per_page: usize,
    /// Meshes that mesh tokens can be asked for: id → (enabled, ingress URL prefixes).
    pub(crate) meshes: BTreeMap<String, (bool, Vec<String>)>,
    /// Every accepted `POST /api/harmony/update` body, oldest first, with its id filled.
    pub(crate) config_pushes: Vec<Value>,
}

/// A reply: status, JSON body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply { status, body }
}

fn message(status: u16, text: &str) -> Reply {
    reply(status, json!({ "message": text }))
}

/// A 403 in the newer `{"error", "message"}` shape.
fn forbidden(text: &str) -> Reply {
    reply(403, json!({"error": "Forbidden", "message": text}))
}

fn validation(field: &str) -> Reply {
    let text = format!("The {field} field is required.");
    reply(422, json!({"message": text, "errors": {field: [text]}}))
}

/// The live API checks a pushed gateway or pipeline configuration against the Harmony
/// schemas: a 422 with one `config` message per failure. Here TOML that does not parse is
/// refused always, a schema failure when the `validation` feature is on too. Transforms and
/// meshes are stored as sent.
fn refused_config(kind: &str, config: &str) -> Option<Reply> {
    if kind != "gateway" && kind != "pipeline" {
        return None;
    }
    #[cfg(feature = "validation")]
    let messages: Vec<String> = {
        let checked = match kind {
            "gateway" => crate::validation::validate_config_toml(config),
            _ => crate::validation::validate_pipeline_toml(config),
        };
        let error = checked.err()?;
        error.errors().iter().map(ToString::to_string).collect()
    };
    #[cfg(not(feature = "validation"))]
    let messages: Vec<String> = match toml::from_str::<toml::Table>(config) {
        Ok(_) => return None,
        Err(e) => vec![format!("invalid TOML: {}", e.message().trim())],
    };
    // Laravel's message: the first error, then how many more.
    let more = match messages.len() {
        0 | 1 => String::new(),
        2 => " (and 1 more error)".to_string(),
        n => format!(" (and {} more errors)", n - 1),
    };
    let first = messages.first().cloned().unwrap_or_default();
    let message = format!("The config is invalid: {first}{more}");
    Some(reply(
        422,
        json!({"message": message, "errors": {"config": messages}}),
    ))
}

/// A request as the routes see it.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a str,
    /// Path segments after `/api`, percent-decoded.
    pub(crate) segments: Vec<String>,
    pub(crate) query: &'a str,
    pub(crate) bearer: Option<&'a str>,
    pub(crate) body: &'a str,
    /// The path is under the origin, not under `/api` (only upstream's base-URL fallback
    /// lives there).
    pub(crate) origin_root: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            per_page: 15,
            ..State::default()
        }
    }

    /// A new id, ULID-like and sortable.
    pub(crate) fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("01FAKE{:020}", self.next_id)
    }

    /// Stores a resource of family `plural`, filling `id`, `type` and timestamps.
    pub(crate) fn insert(&mut self, plural: &str, mut value: Value) -> Option<String> {
        let (plural, kind, _) = *FAMILIES.iter().find(|f| f.0 == plural)?;
        let id = self.new_id();
        let now = time::format_seconds(time::unix_now());
        if let Some(obj) = value.as_object_mut() {
            obj.insert("id".into(), json!(id));
            obj.insert("type".into(), json!(kind));
            obj.entry("team_id").or_insert(json!(FAKE_TEAM));
            obj.entry("created_at").or_insert(json!(now));
            obj.entry("updated_at").or_insert(json!(now));
        }
        self.resources
            .entry(plural)
            .or_default()
            .insert(id.clone(), value);
        Some(id)
    }

    pub(crate) fn handle(&mut self, keys: &Keys, origin: &str, req: &Incoming<'_>) -> Reply {
        let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
        if req.origin_root && seg != ["harmony", "base-url"] {
            return message(404, "Not found.");
        }
        match (req.method, seg.as_slice()) {
            ("GET", [".well-known", "jwks.json"]) => return reply(200, keys.jwks.clone()),
            ("POST", ["cli", "start-login"]) => return self.start_login(origin),
            ("GET", ["cli", "check-login", device]) => return self.check_login(device),
            _ => {}
        }
        if !req.bearer.is_some_and(|t| self.tokens.contains(t)) {
            return message(401, "Unauthenticated.");
        }
        let body: Value = if req.body.trim().is_empty() {
            json!({})
        } else {
            match serde_json::from_str(req.body) {
                Ok(v) => v,
                Err(_) => return message(400, "Malformed JSON body."),
            }
        };
        match (req.method, seg.as_slice()) {
            ("POST", ["harmony", "authorize"]) => self.authorize(&body),
            ("POST", ["harmony", "revoke"]) => self.revoke(&body),
            ("POST", ["harmony", "update"]) => self.store_config(body),
            ("GET", ["harmony", "resources", "resolve"]) => self.resolve(req.query),
            ("POST", ["harmony", "mesh", "token"]) => {
                self.mesh_token(keys, origin, req.bearer, &body)
            }
            ("GET", ["gateway", "base-url"]) => reply(
                200,
                json!({"base_url": format!("{origin}/api"), "changes_path": "/api/gateway/changes",
                       "full_url": format!("{origin}/api/gateway/changes")}),
            ),
            ("GET", ["harmony", "base-url"]) => reply(
                200,
                json!({"base_url": origin, "changes_path": "/api/harmony/changes",
                       "full_url": format!("{origin}/api/harmony/changes")}),
            ),
            ("GET", ["gateway", "changes"]) => {
                let items: Vec<Value> = self.changes.values().cloned().collect();
                self.page(origin, "gateway/changes", &items, req.query)
            }
            ("GET", ["harmony", "changes"]) => {
                let own = self.calling_gateway(req.bearer);
                let items: Vec<Value> = (self.changes.values())
                    .filter(|c| own.as_ref().is_none_or(|g| c["gateway_id"] == *g))
                    .cloned()
                    .collect();
                self.page(origin, "harmony/changes", &items, req.query)
            }
            ("GET", ["harmony", "changes", gateway]) => {
                let foreign = (self.resources.get("gateways"))
                    .and_then(|g| g.get(*gateway))
                    .is_some_and(|g| g["team_id"] != FAKE_TEAM);
                if foreign {
                    return forbidden("This gateway does not belong to your team");
                }
                let items: Vec<Value> = (self.changes.values())
                    .filter(|c| c["gateway_id"] == *gateway)
                    .cloned()
                    .collect();
                self.page(
                    origin,
                    &format!("harmony/changes/{gateway}"),
                    &items,
                    req.query,
                )
            }
            ("POST", ["gateway" | "harmony", "changes", "acknowledge"]) => self.acknowledge(&body),
            ("GET", ["gateway", "changes", id] | ["harmony", "change", id]) => {
                match self.changes.get(*id) {
                    Some(c) => reply(200, json!({ "data": c })),
                    None => message(404, "No query results for model [Change]."),
                }
            }
            ("POST", ["gateway", "changes", id, outcome @ ("applied" | "failed")]) => {
                self.change_outcome(id, outcome, &body)
            }
            ("POST", ["harmony", "change", id, outcome @ ("applied" | "failed")]) => {
                let own = self.calling_gateway(req.bearer);
                let theirs = self.changes.get(*id).map(|c| c["gateway_id"].clone());
                if own.is_some() && theirs.is_some() && own != theirs {
                    return forbidden("This change does not belong to your gateway");
                }
                self.change_outcome(id, outcome, &body)
            }
            (method, [plural, rest @ ..]) if FAMILIES.iter().any(|f| f.0 == *plural) => {
                self.resource(origin, method, plural, rest, body, req.query)
            }
            _ => message(404, "Not found."),
        }
    }

    /// The gateway id (as JSON) a machine token belongs to; `None` for user tokens.
    fn calling_gateway(&self, bearer: Option<&str>) -> Option<Value> {
        let code = self.machine_tokens.get(bearer?)?;
        let gateways = self.resources.get("gateways")?;
        gateways
            .values()
            .find(|g| g["code"] == code.as_str())
            .map(|g| g["id"].clone())
    }

    /// A configuration push: a known id (an earlier push's, or a stored resource of the
    /// type's family) is updated, an unknown one is 404, none creates; a configuration the
    /// live API would refuse is a 422 ([`refused_config`]).
    fn store_config(&mut self, mut body: Value) -> Reply {
        let kind = body["type"].as_str().unwrap_or_default().to_string();
        if !["gateway", "pipeline", "transform", "mesh"].contains(&kind.as_str()) {
            return validation("type");
        }
        if body["config"].as_str().is_none_or(str::is_empty) {
            return validation("config");
        }
        let (id, action) = match body["id"].as_str() {
            Some(id) => {
                let pushed =
                    (self.config_pushes.iter()).any(|p| p["type"] == kind && p["id"] == id);
                let family = FAMILIES.iter().find(|f| f.1 == kind).map(|f| f.0);
                let stored = family
                    .and_then(|f| self.resources.get(f))
                    .is_some_and(|r| r.contains_key(id));
                if !pushed && !stored {
                    return reply(
                        404,
                        json!({"error": "Not found", "message": format!("No {kind} with this id.")}),
                    );
                }
                (id.to_string(), "updated")
            }
            None => (self.new_id(), "created"),
        };
        // After the id: an unknown id is a 404 whatever the configuration.
        if let Some(refused) = refused_config(&kind, body["config"].as_str().unwrap_or_default()) {
            return refused;
        }
        body["id"] = json!(id);
        self.config_pushes.push(body);
        let mut noun = kind.clone();
        noun[..1].make_ascii_uppercase();
        reply(
            200,
            json!({"success": true, "message": format!("{noun} configuration {action} successfully"),
                   "data": {"id": id, "type": kind, "action": action}}),
        )
    }

    /// Resolves `?ref=` over the stored pipelines, endpoints and backends: provider
    /// `runbeam` only, the fake team only, by id or name, of the given type.
    fn resolve(&self, query: &str) -> Reply {
        let reference = (query.split('&'))
            .find_map(|kv| kv.strip_prefix("ref="))
            .map(super::percent_decode);
        let Some(reference) = reference else {
            return validation("ref");
        };
        let Ok(reference) = ResourceReference::parse(&reference) else {
            return reply(
                422,
                json!({"error": "Invalid reference", "message": "The reference does not parse."}),
            );
        };
        let not_found = || reply(404, json!({"error": "Resource not found"}));
        if reference.provider() != "runbeam" {
            return not_found();
        }
        if reference.team().is_some_and(|t| t != FAKE_TEAM) {
            return forbidden("This resource belongs to another team");
        }
        let families: &[&str] = match reference.resource_type().map(|t| t.as_str()) {
            Some("pipeline") => &["pipelines"],
            Some("endpoint") => &["endpoints"],
            Some("backend") => &["backends"],
            Some(_) => &[],
            None => &["pipelines", "endpoints", "backends"],
        };
        let found = families
            .iter()
            .filter_map(|f| self.resources.get(f))
            .flat_map(|r| r.values())
            .find(|r| match reference.lookup() {
                LookupBy::Id(id) => r["id"] == id.as_str(),
                LookupBy::Name(name) => r["name"] == name.as_str(),
            });
        match found {
            Some(resource) => reply(
                200,
                json!({"data": resource, "meta": {"provider": "runbeam",
                       "resolved_at": time::format_seconds(time::unix_now())}}),
            ),
            None => not_found(),
        }
    }

    /// A mesh token for a gateway (machine token only), signed with the JWKS key.
    fn mesh_token(
        &mut self,
        keys: &Keys,
        origin: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Reply {
        let error = |status, error: &str, message: Option<&str>| {
            let mut body = json!({ "error": error });
            if let Some(m) = message {
                body["message"] = json!(m);
            }
            reply(status, body)
        };
        let Some(gateway) = self.calling_gateway(bearer) else {
            return error(
                401,
                "Unauthenticated",
                Some("This endpoint requires gateway authentication."),
            );
        };
        let (Some(mesh_id), Some(url)) =
            (body["mesh_id"].as_str(), body["destination_url"].as_str())
        else {
            return validation(if body["mesh_id"].is_string() {
                "destination_url"
            } else {
                "mesh_id"
            });
        };
        let Some((enabled, ingress)) = self.meshes.get(mesh_id) else {
            return error(
                404,
                "Mesh not found",
                Some("The specified mesh does not exist."),
            );
        };
        if !enabled {
            return error(400, "Mesh is disabled", None);
        }
        if !ingress
            .iter()
            .any(|prefix| url.starts_with(prefix.as_str()))
        {
            return error(403, "No ingress matches destination URL", None);
        }
        let now = time::unix_now();
        let expires = now + MESH_TOKEN_TTL;
        let gateway = gateway.as_str().unwrap_or_default();
        let claims = json!({"iss": origin, "sub": format!("gateway:{gateway}"),
            "aud": format!("mesh:{mesh_id}"), "jti": self.new_id(), "mesh_id": mesh_id,
            "dest_url": url, "source_team": FAKE_TEAM, "iat": now, "exp": expires});
        reply(
            200,
            json!({"token": keys.sign(&claims), "expires_at": time::format_seconds(expires),
                   "mesh_id": mesh_id}),
        )
    }

    fn start_login(&mut self, origin: &str) -> Reply {
        let device = format!("dev_{}", random_hex(16));
        self.logins.insert(device.clone(), Login::Pending);
        reply(
            201,
            json!({"device_token": device, "verification_url": format!("{origin}/cli/verify/{device}"),
                   "expires_in_seconds": 600}),
        )
    }

    fn check_login(&self, device: &str) -> Reply {
        match self.logins.get(device) {
            None => reply(
                404,
                json!({"status": "invalid", "message": "Invalid device token."}),
            ),
            Some(Login::Expired) => reply(
                410,
                json!({"status": "expired", "message": "The login request expired."}),
            ),
            Some(Login::Pending) => reply(200, json!({"status": "pending"})),
            Some(Login::Authenticated { token, user }) => reply(
                200,
                json!({"status": "authenticated", "token": token, "expires_in": 86_400, "user": user}),
            ),
        }
    }

    fn authorize(&mut self, body: &Value) -> Reply {
        let Some(code) = body.get("gateway_code").and_then(Value::as_str) else {
            return validation("gateway_code");
        };
        if body.get("token").and_then(Value::as_str).is_none() {
            return validation("token");
        }
        let existing = self
            .resources
            .get("gateways")
            .and_then(|g| g.values().find(|v| v["code"] == code).cloned());
        let gateway = match existing {
            Some(g) => g,
            None => {
                let id = self.insert(
                    "gateways",
                    json!({"name": code, "code": code, "enabled": true}),
                );
                id.and_then(|id| self.resources.get("gateways")?.get(&id).cloned())
                    .unwrap_or_default()
            }
        };
        let machine_token = format!("mt_{}", random_hex(24));
        self.tokens.insert(machine_token.clone());
        self.machine_tokens
            .insert(machine_token.clone(), code.to_string());
        reply(
            201,
            json!({
                "machine_token": machine_token,
                "expires_in": MACHINE_TOKEN_TTL as f64,
                "expires_at": time::format_seconds(time::unix_now() + MACHINE_TOKEN_TTL),
                "gateway": {"id": gateway["id"], "code": code, "name": gateway["name"],
                            "authorized_by": {"id": "user-1", "name": "Fake User", "email": "user@example.test"}},
                "abilities": ["harmony:send", "harmony:receive"],
            }),
        )
    }

    fn revoke(&mut self, body: &Value) -> Reply {
        let Some(code) = body.get("gateway_code").and_then(Value::as_str) else {
            return validation("gateway_code");
        };
        let revoked: Vec<String> = self
            .machine_tokens
            .iter()
            .filter(|(_, c)| c.as_str() == code)
            .map(|(t, _)| t.clone())
            .collect();
        for token in &revoked {
            self.machine_tokens.remove(token);
            self.tokens.remove(token);
        }
        message(200, "Gateway authorization revoked.")
    }

    fn acknowledge(&mut self, body: &Value) -> Reply {
        let ids = body.get("change_ids").and_then(Value::as_array);
        let Some(ids) = ids.filter(|ids| !ids.is_empty()) else {
            return validation("change_ids");
        };
        let (mut acknowledged, mut failed) = (Vec::new(), Vec::new());
        for id in ids.iter().filter_map(Value::as_str) {
            match self.changes.get_mut(id) {
                Some(change) => {
                    change["status"] = json!("acknowledged");
                    change["acknowledged_at"] = json!(time::format_seconds(time::unix_now()));
                    acknowledged.push(id.to_string());
                }
                None => failed.push(id.to_string()),
            }
        }
        reply(200, json!({"acknowledged": acknowledged, "failed": failed}))
    }

    fn change_outcome(&mut self, id: &str, outcome: &str, body: &Value) -> Reply {
        let error = body.get("error").and_then(Value::as_str);
        if outcome == "failed" && error.is_none_or(str::is_empty) {
            return validation("error");
        }
        let Some(change) = self.changes.get_mut(id) else {
            return message(404, "No query results for model [Change].");
        };
        change["status"] = json!(outcome);
        change[format!("{outcome}_at")] = json!(time::format_seconds(time::unix_now()));
        if let Some(error) = error {
            change["error_message"] = json!(error);
            change["error_details"] = body.get("details").cloned().unwrap_or(Value::Null);
        }
        reply(
            200,
            json!({"success": true, "message": format!("Change marked as {outcome}.")}),
        )
    }

    fn resource(
        &mut self,
        origin: &str,
        method: &str,
        plural: &str,
        rest: &[&str],
        body: Value,
        query: &str,
    ) -> Reply {
        let Some(&(plural, _, display)) = FAMILIES.iter().find(|f| f.0 == plural) else {
            return message(404, "Not found.");
        };
        let not_found = || message(404, &format!("No query results for model [{display}]."));
        match (method, rest) {
            // The spec has no list for networks.
            ("GET", []) if plural != "networks" => {
                let items: Vec<Value> = self
                    .resources
                    .get(plural)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                self.page(origin, plural, &items, query)
            }
            ("POST", []) => {
                let Some(fields) = request_fields(plural, body) else {
                    return validation("name");
                };
                match self.insert(plural, fields) {
                    Some(id) => reply(201, json!({"data": self.resources[plural][&id]})),
                    None => not_found(),
                }
            }
            ("GET", [id]) => match self.resources.get(plural).and_then(|m| m.get(*id)) {
                Some(v) => reply(200, json!({ "data": v })),
                None => not_found(),
            },
            ("PUT", [id]) => {
                let Some(fields) = request_fields(plural, body) else {
                    return validation("name");
                };
                let Some(current) = self.resources.get_mut(plural).and_then(|m| m.get_mut(*id))
                else {
                    return not_found();
                };
                if let (Some(cur), Value::Object(new)) = (current.as_object_mut(), fields) {
                    cur.extend(new);
                    cur.insert(
                        "updated_at".into(),
                        json!(time::format_seconds(time::unix_now())),
                    );
                }
                reply(200, json!({"data": current}))
            }
            ("DELETE", [id]) => match self.resources.get_mut(plural).and_then(|m| m.remove(*id)) {
                Some(_) => message(200, &format!("{display} deleted successfully")),
                None => not_found(),
            },
            _ => message(405, "Method not allowed."),
        }
    }

    /// A Laravel-shaped page of `items` (`?page=N`, `per_page=M`).
    fn page(&self, origin: &str, path: &str, items: &[Value], query: &str) -> Reply {
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|v| *v > 0)
        };
        let per_page = param("per_page").unwrap_or(self.per_page).max(1);
        let page = param("page").unwrap_or(1);
        let total = items.len();
        let last_page = total.div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page).min(total);
        let end = (start + per_page).min(total);
        let url = |n: usize| format!("{origin}/api/{path}?page={n}");
        let data: Vec<Value> = items[start..end].to_vec();
        reply(
            200,
            json!({
                "data": data,
                "links": {"first": url(1), "last": url(last_page),
                          "prev": (page > 1).then(|| url(page - 1)),
                          "next": (page < last_page).then(|| url(page + 1))},
                "meta": {"current_page": page, "from": (end > start).then_some(start + 1),
                         "last_page": last_page, "links": [], "path": format!("{origin}/api/{path}"),
                         "per_page": per_page, "to": (end > start).then_some(end), "total": total},
            }),
        )
    }
}

/// Turns a create/update body into stored fields, shaped like the real API's resources.
/// `None` when the required `name` is missing.
fn request_fields(plural: &str, body: Value) -> Option<Value> {
    let mut obj: Map<String, Value> = match body {
        Value::Object(obj) => obj,
        _ => return None,
    };
    let name = obj.get("name").and_then(Value::as_str)?.to_string();
    if name.is_empty() {
        return None;
    }
    match plural {
        "networks" => {
            let address = obj.remove("bind_address").unwrap_or(Value::Null);
            let port = obj.remove("bind_port").unwrap_or(Value::Null);
            obj.insert(
                "http".into(),
                json!({"bind_address": address, "bind_port": port}),
            );
        }
        "transforms" => {
            let instructions = obj.remove("instructions").unwrap_or(Value::Null);
            obj.insert("options".into(), json!({ "instructions": instructions }));
        }
        "policies" => {
            let enabled = obj.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            obj.insert("enabled".into(), json!(u8::from(enabled)));
        }
        _ => {
            obj.entry("code").or_insert(json!(name));
        }
    }
    Some(Value::Object(obj))
}
