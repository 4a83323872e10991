//! A fake Runbeam Cloud API on `127.0.0.1` for your own tests (feature `testing`).
//!
//! [`FakeRunbeam`] is a real HTTP/1.1 server (tiny_http, blocking, one thread) that speaks the
//! Runbeam API closely enough to drive [`RunbeamClient`](crate::RunbeamClient) and the JWT
//! verifier end to end, with no network and no mocks:
//!
//! - in-memory create / list / get / update / delete for every resource family, with
//!   Laravel-shaped paging (`?page=N&per_page=M`, `links`, `meta`);
//! - `POST /api/harmony/authorize` issuing 30-day machine tokens, `/api/harmony/revoke`;
//! - the device login flow (`/api/cli/start-login`, `/api/cli/check-login/{token}`) with
//!   [`FakeRunbeam::approve_login`] / [`FakeRunbeam::expire_login`];
//! - change management on the live routes (`/api/harmony/changes`, `/api/harmony/change/{id}`,
//!   `<origin>/harmony/base-url`) and the spec's (`/api/gateway/...`), seeded with
//!   [`FakeRunbeam::add_change`]; a change's `status` moves as a gateway acknowledges and
//!   reports it, and a machine token sees only its own gateway's changes;
//! - configuration pushes (`POST /api/harmony/update`), recorded in
//!   [`FakeRunbeam::config_pushes`];
//! - mesh tokens (`POST /api/harmony/mesh/token`) for meshes added with
//!   [`FakeRunbeam::add_mesh`], signed with the JWKS key (`aud` `mesh:<id>`, `dest_url`);
//! - reference resolution (`GET /api/harmony/resources/resolve?ref=…`) over the stored
//!   pipelines, endpoints and backends;
//! - a JWKS at `/api/.well-known/jwks.json` (RSA 2048, e = 65537) and
//!   [`FakeRunbeam::mint_user_jwt`] to sign user JWTs with it;
//! - scripted failures ([`FakeRunbeam::script`]: a status and body, a delay, a malformed body,
//!   a redirect) and a request log ([`FakeRunbeam::requests`]) to assert on.
//!
//! Bearer auth: a token is accepted when the server issued it (machine tokens, minted JWTs,
//! [`FakeRunbeam::user_token`]) or it was [registered](FakeRunbeam::register_token); any other
//! gets 401.
//!
//! ```
//! use runbeam_sdk_blocking::testing::FakeRunbeam;
//! use runbeam_sdk_blocking::RunbeamClient;
//!
//! let server = FakeRunbeam::start()?;
//! let client = RunbeamClient::new(server.url());
//! let token = server.user_token();
//! let response = client.authorize_gateway(&token, "gateway-123", None, None)?;
//! assert_eq!(response.gateway.code, "gateway-123");
//! assert_eq!(client.list_gateways(&token)?.data.len(), 1);
//! assert_eq!(server.requests().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Not for production: it keeps every request (with its headers) in memory.

mod clock;
mod keys;
mod routes;

pub use clock::ManualClock;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use crate::identity::{TeamInfo, UserInfo};
use crate::time;
use keys::{random_hex, Keys};
use routes::{Incoming, Login, State};

/// One request as the fake server received it.
///
/// A test tool: its `Debug` shows every header, `Authorization` included. Use only with the
/// throw-away tokens the fake server issues.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// Every header as sent.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
    /// The client's address: one per TCP connection.
    pub remote_addr: Option<SocketAddr>,
}

impl LoggedRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A scripted answer that replaces (or delays) the normal one.
#[derive(Debug, Clone)]
pub struct Scripted {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    delay: Duration,
    pass_through: bool,
}

impl Scripted {
    /// Answer `status` with `body` (sent as `application/json`, whatever it contains).
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Scripted {
        Scripted {
            status,
            body: body.into(),
            headers: Vec::new(),
            delay: Duration::ZERO,
            pass_through: false,
        }
    }

    /// Answer 200 with a body that is not what the client expects.
    pub fn malformed(body: impl Into<Vec<u8>>) -> Scripted {
        Scripted::status(200, body)
    }

    /// Answer normally, but only after `delay` (a stalling server).
    pub fn delay(delay: Duration) -> Scripted {
        Scripted {
            delay,
            pass_through: true,
            ..Scripted::status(200, Vec::new())
        }
    }

    /// Answer `status` (3xx) with `Location: location`.
    pub fn redirect(status: u16, location: &str) -> Scripted {
        Scripted::status(status, Vec::new()).header("Location", location)
    }

    /// Adds a response header (e.g. `Retry-After`).
    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits `delay` before answering.
    pub fn after(mut self, delay: Duration) -> Scripted {
        self.delay = delay;
        self
    }
}

struct Shared {
    state: Mutex<State>,
    log: Mutex<Vec<LoggedRequest>>,
    scripts: Mutex<HashMap<String, VecDeque<Scripted>>>,
    keys: &'static Keys,
    origin: String,
    default_token: String,
}

/// Locks a mutex, recovering the data if a panicking test thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The fake Runbeam server. Stops when dropped.
pub struct FakeRunbeam {
    server: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeRunbeam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRunbeam")
            .field("url", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

impl FakeRunbeam {
    /// Starts a server on `127.0.0.1` on a free port. The RSA key is generated once per
    /// process and shared by every fake server.
    ///
    /// # Errors
    /// When the port cannot be bound or the key cannot be generated.
    pub fn start() -> Result<FakeRunbeam, std::io::Error> {
        let keys = Keys::shared()?;
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("not an IP listener"))?;
        let origin = format!("http://127.0.0.1:{port}");
        let default_token = format!("1|{}", random_hex(20));
        let mut state = State::new();
        state.tokens.insert(default_token.clone());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            scripts: Mutex::new(HashMap::new()),
            keys,
            origin,
            default_token,
        });
        let server = Arc::new(server);
        let thread = {
            let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    serve(&shared, request);
                }
            })
        };
        Ok(FakeRunbeam {
            server,
            shared,
            thread: Some(thread),
        })
    }

    /// The server's origin, e.g. `http://127.0.0.1:41234` (what `RunbeamClient::new` takes).
    pub fn url(&self) -> String {
        self.shared.origin.clone()
    }

    /// The API base, `<origin>/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.shared.origin)
    }

    /// A Sanctum-shaped user token the server accepts from the start.
    pub fn user_token(&self) -> String {
        self.shared.default_token.clone()
    }

    /// Makes the server accept `token`.
    pub fn register_token(&self, token: &str) {
        lock(&self.shared.state).tokens.insert(token.to_string());
    }

    /// Makes the server refuse `token` (401) from now on.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.shared.state).tokens.remove(token);
    }

    /// The JWKS document the server serves.
    pub fn jwks(&self) -> Value {
        self.shared.keys.jwks.clone()
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> String {
        self.shared.keys.kid.clone()
    }

    /// The JWKS URL, `<origin>/api/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/api/.well-known/jwks.json", self.shared.origin)
    }

    /// Mints an RS256 user JWT as Runbeam's device login does, valid for `ttl`, and makes the
    /// server accept it. Claims: `iss` = `<origin>/api/cli/check-login/<id>`, `sub` = user id,
    /// `aud` = `"runbeam-cli"`, `iat`, `nbf`, `exp`, `user {id, email, name}`,
    /// `team {id, name}`; header `alg` RS256, `typ` JWT, `kid`.
    pub fn mint_user_jwt(&self, user: &UserInfo, team: &TeamInfo, ttl: Duration) -> String {
        let now = time::unix_now();
        let claims = json!({
            "iss": format!("{}/api/cli/check-login/{}", self.shared.origin, random_hex(8)),
            "sub": user.id,
            "aud": "runbeam-cli",
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs(),
            "user": user,
            "team": team,
        });
        let token = self.sign_jwt(&claims);
        self.register_token(&token);
        token
    }

    /// Signs any claims with the server's key (header `alg` RS256, `typ` JWT, `kid`). The
    /// token is not registered for API calls.
    pub fn sign_jwt(&self, claims: &Value) -> String {
        self.shared.keys.sign(claims)
    }

    /// Signs any claims under any header (for tests of hostile tokens).
    pub fn sign_jwt_with_header(&self, header: &Value, claims: &Value) -> String {
        self.shared.keys.sign_with_header(header, claims)
    }

    /// Approves a pending device login: the next check returns a fresh user JWT for `user`.
    /// Returns false when the device token is unknown.
    pub fn approve_login(&self, device_token: &str, user: &UserInfo, team: &TeamInfo) -> bool {
        let token = self.mint_user_jwt(user, team, Duration::from_secs(86_400));
        let mut state = lock(&self.shared.state);
        match state.logins.get_mut(device_token) {
            Some(login) => {
                *login = Login::Authenticated {
                    token,
                    user: json!(user),
                };
                true
            }
            None => false,
        }
    }

    /// Expires a device login (checks answer 410). Returns false when it is unknown.
    pub fn expire_login(&self, device_token: &str) -> bool {
        match lock(&self.shared.state).logins.get_mut(device_token) {
            Some(login) => {
                *login = Login::Expired;
                true
            }
            None => false,
        }
    }

    /// Adds a pending change for `gateway_id` with these extra fields (`type` is `gateway`
    /// unless given); returns its id.
    pub fn add_change(&self, gateway_id: &str, fields: Value) -> String {
        let mut state = lock(&self.shared.state);
        let id = state.new_id();
        let mut change = json!({"id": id, "type": "gateway", "gateway_id": gateway_id,
                                "status": "pending", "created_at": time::format_seconds(time::unix_now())});
        if let (Some(c), Value::Object(extra)) = (change.as_object_mut(), fields) {
            c.extend(extra);
        }
        state.changes.insert(id.clone(), change);
        id
    }

    /// Stores a resource of family `plural` (e.g. `"gateways"`) as given, filling `id`, `type`,
    /// `team_id` and timestamps; returns its id, or `None` for an unknown family.
    pub fn insert_resource(&self, plural: &str, fields: Value) -> Option<String> {
        lock(&self.shared.state).insert(plural, fields)
    }

    /// The stored JSON of a resource, as the API would return it in `data`.
    pub fn resource(&self, plural: &str, id: &str) -> Option<Value> {
        lock(&self.shared.state)
            .resources
            .get(plural)?
            .get(id)
            .cloned()
    }

    /// Adds (or replaces) an enabled mesh whose ingresses answer URLs starting with one of
    /// `ingress_urls`: a gateway's machine token can then get mesh tokens for it from
    /// `POST /api/harmony/mesh/token`, signed with the JWKS key, `iss` the server's origin.
    pub fn add_mesh(&self, mesh_id: &str, ingress_urls: &[&str]) {
        let urls = ingress_urls.iter().map(|u| u.to_string()).collect();
        lock(&self.shared.state)
            .meshes
            .insert(mesh_id.to_string(), (true, urls));
    }

    /// Switches a mesh on or off (off: token requests get 400 "Mesh is disabled"). Returns
    /// false when the mesh is unknown.
    pub fn set_mesh_enabled(&self, mesh_id: &str, enabled: bool) -> bool {
        match lock(&self.shared.state).meshes.get_mut(mesh_id) {
            Some(mesh) => {
                mesh.0 = enabled;
                true
            }
            None => false,
        }
    }

    /// Every configuration accepted by `POST /api/harmony/update`, oldest first: the pushed
    /// body (`type`, `id`, `config`) with the id the server gave it.
    pub fn config_pushes(&self) -> Vec<Value> {
        lock(&self.shared.state).config_pushes.clone()
    }

    /// The stored JSON of a change.
    pub fn change(&self, id: &str) -> Option<Value> {
        lock(&self.shared.state).changes.get(id).cloned()
    }

    /// Default page size of lists (15, as Laravel). A `per_page` query overrides it.
    pub fn set_per_page(&self, per_page: usize) {
        lock(&self.shared.state).per_page = per_page.max(1);
    }

    /// The next `times` requests to `path` (e.g. `/api/gateways`, without query) get
    /// `answer` instead of the normal reply. Scripts for a path queue up in order.
    pub fn script(&self, path: &str, times: usize, answer: Scripted) {
        let mut scripts = lock(&self.shared.scripts);
        let queue = scripts.entry(path.to_string()).or_default();
        queue.extend(std::iter::repeat_n(answer, times));
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<LoggedRequest> {
        lock(&self.shared.log).last().cloned()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// How many distinct TCP connections the logged requests came over (each connection has
    /// its own client address): proves keep-alive reuse.
    pub fn connection_count(&self) -> usize {
        let log = lock(&self.shared.log);
        log.iter()
            .filter_map(|r| r.remote_addr)
            .collect::<HashSet<_>>()
            .len()
    }
}

impl Drop for FakeRunbeam {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads, logs and answers one request.
fn serve(shared: &Arc<Shared>, mut request: tiny_http::Request) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let url = request.url().to_string();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (url.clone(), None),
    };
    let logged = LoggedRequest {
        method: request.method().as_str().to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body,
        remote_addr: request.remote_addr().copied(),
    };
    lock(&shared.log).push(logged.clone());

    let script = lock(&shared.scripts)
        .get_mut(&path)
        .and_then(VecDeque::pop_front);
    let (status, bytes, headers, delay) = match script {
        Some(s) if !s.pass_through => (s.status, s.body, s.headers, s.delay),
        other => {
            let reply = route(shared, &logged, &path, query.as_deref().unwrap_or(""));
            let delay = other.map(|s| s.delay).unwrap_or_default();
            (
                reply.status,
                reply.body.to_string().into_bytes(),
                Vec::new(),
                delay,
            )
        }
    };
    let respond = move || {
        let mut response = tiny_http::Response::from_data(bytes).with_status_code(status);
        let content_type = ("Content-Type".to_string(), "application/json".to_string());
        for (name, value) in std::iter::once(content_type).chain(headers) {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        // The client may have given up (timeouts); nothing to do then.
        let _ = request.respond(response);
    };
    if delay.is_zero() {
        respond();
    } else {
        // Stall this request without blocking the others.
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            respond();
        });
    }
}

fn route(shared: &Shared, req: &LoggedRequest, path: &str, query: &str) -> routes::Reply {
    let (rest, origin_root) = match path.strip_prefix("/api/") {
        Some(rest) => (rest, false),
        None => (path.strip_prefix('/').unwrap_or(path), true),
    };
    let incoming = Incoming {
        method: &req.method,
        segments: rest.split('/').map(percent_decode).collect(),
        query,
        bearer: req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer ")),
        body: &req.body,
        origin_root,
    };
    lock(&shared.state).handle(shared.keys, &shared.origin, &incoming)
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
