//! JWT test helpers: a real JWKS server on 127.0.0.1 that counts requests, a test signer with
//! real RSA keys, and the fixtures.

// `benches/jwt.rs` includes this file too and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::Sha256;

/// The fixed time at which fixture and test tokens are valid (2027-01-15).
pub const NOW: u64 = 1_800_000_000;
/// The `iss` of test tokens (Runbeam puts a path in it).
pub const ISS: &str = "https://api.runbeam.io/api/cli/check-login/01HXYZ";
/// The trusted issuer origin for [`ISS`].
pub const TRUSTED: &str = "https://api.runbeam.io";

pub fn fixture_path(name: &str) -> PathBuf {
    // benches/reference builds this file as a package of its own and names the SDK's root.
    PathBuf::from(option_env!("RUNBEAM_SDK_ROOT").unwrap_or(env!("CARGO_MANIFEST_DIR")))
        .join("tests/fixtures/jwt")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name))
        .unwrap()
        .trim()
        .to_owned()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard claims of a valid token at [`NOW`].
pub fn claims() -> Value {
    json!({"iss": ISS, "sub": "user-1", "iat": NOW, "exp": NOW + 3600,
           "user": {"id": "1", "email": "ada@example.com", "name": "Ada"}})
}

/// Standard claims with some members replaced or added (`null` removes a member).
pub fn claims_with(changes: Value) -> Value {
    let mut base = claims();
    let map = base.as_object_mut().unwrap();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    base
}

/// An RSA private key loaded from a fixture, with the `kid` it is published under.
pub struct Signer {
    key: rsa::PrivateKey,
    pub kid: String,
}

impl Signer {
    pub fn main() -> Self {
        Self::load("signer_main.pem", "rust-main")
    }

    pub fn other() -> Self {
        Self::load("signer_other.pem", "rust-other")
    }

    pub fn load(file: &str, kid: &str) -> Self {
        let key = rsa::PrivateKey::from_pkcs8_pem(&fixture(file)).unwrap();
        Self {
            key,
            kid: kid.to_owned(),
        }
    }

    /// A fresh key of `bits` bits from OS randomness (slow: seconds at 4096 bits).
    pub fn generate(bits: usize, kid: &str) -> Self {
        Self {
            key: rsa::PrivateKey::new(&mut getrandom::SysRng, bits).unwrap(),
            kid: kid.to_owned(),
        }
    }

    pub fn with_kid(self, kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            ..self
        }
    }

    pub fn private_key(&self) -> &rsa::PrivateKey {
        &self.key
    }

    pub fn public_key(&self) -> rsa::PublicKey {
        self.key.to_public_key()
    }

    /// The public JWK (`use: sig`, `alg: RS256`).
    pub fn jwk(&self) -> Value {
        json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
               "n": b64(&self.key.n_bytes()), "e": b64(&self.key.e_bytes())})
    }

    /// RS256 signature of `signing_input`, base64url.
    pub fn signature(&self, signing_input: &str) -> String {
        b64(&self
            .key
            .pkcs1v15_sign::<Sha256>(signing_input.as_bytes())
            .unwrap())
    }

    /// Signs exactly the given base64url segments.
    pub fn sign_segments(&self, header_b64: &str, payload_b64: &str) -> String {
        let input = format!("{header_b64}.{payload_b64}");
        let sig = self.signature(&input);
        format!("{input}.{sig}")
    }

    /// Signs `claims` under `header`.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_segments(
            &b64(header.to_string().as_bytes()),
            &b64(claims.to_string().as_bytes()),
        )
    }

    /// A token with the standard header (`alg: RS256`, this signer's `kid`).
    pub fn token(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }
}

pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

struct Reply {
    status: u16,
    body: String,
    delay: Duration,
    location: Option<String>,
    /// Extra response headers (`Cache-Control`, ...).
    headers: Vec<(String, String)>,
    /// Sent as `ETag`; a request whose `If-None-Match` equals it gets `304`.
    etag: Option<String>,
    /// Sent as `Last-Modified`; a request whose `If-Modified-Since` equals it gets `304`.
    last_modified: Option<String>,
}

/// The conditional headers of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditional {
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

/// A JWKS server on 127.0.0.1 that answers every request with the configured reply and
/// counts requests.
pub struct JwksServer {
    server: Arc<tiny_http::Server>,
    base: String,
    count: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
    conditionals: Arc<Mutex<Vec<Conditional>>>,
    reply: Arc<Mutex<Reply>>,
    thread: Option<JoinHandle<()>>,
}

impl JwksServer {
    pub fn start(body: String) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let conditionals = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(Mutex::new(Reply {
            status: 200,
            body,
            delay: Duration::ZERO,
            location: None,
            headers: Vec::new(),
            etag: None,
            last_modified: None,
        }));
        let thread = {
            let (server, count, paths, conditionals, reply) = (
                Arc::clone(&server),
                Arc::clone(&count),
                Arc::clone(&paths),
                Arc::clone(&conditionals),
                Arc::clone(&reply),
            );
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    count.fetch_add(1, Ordering::SeqCst);
                    paths.lock().unwrap().push(request.url().to_owned());
                    let header = |name: &'static str| {
                        request
                            .headers()
                            .iter()
                            .find(|h| h.field.equiv(name))
                            .map(|h| h.value.as_str().to_owned())
                    };
                    let asked = Conditional {
                        if_none_match: header("If-None-Match"),
                        if_modified_since: header("If-Modified-Since"),
                    };
                    conditionals.lock().unwrap().push(asked.clone());
                    let r = reply.lock().unwrap();
                    let unchanged = (r.etag.is_some() && asked.if_none_match == r.etag)
                        || (r.last_modified.is_some()
                            && asked.if_modified_since == r.last_modified);
                    let (status, body) = if unchanged && r.status == 200 {
                        (304, String::new())
                    } else {
                        (r.status, r.body.clone())
                    };
                    let mut headers = r.headers.clone();
                    headers.extend(r.location.clone().map(|l| ("Location".into(), l)));
                    headers.extend(r.etag.clone().map(|e| ("ETag".into(), e)));
                    headers.extend(r.last_modified.clone().map(|d| ("Last-Modified".into(), d)));
                    let delay = r.delay;
                    drop(r);
                    std::thread::sleep(delay);
                    let mut response =
                        tiny_http::Response::from_string(body).with_status_code(status);
                    for (name, value) in headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                .unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                }
            })
        };
        Self {
            server,
            base: format!("http://127.0.0.1:{port}"),
            count,
            paths,
            conditionals,
            reply,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// The Runbeam well-known JWKS URL on this server.
    pub fn jwks_url(&self) -> String {
        format!("{}/api/.well-known/jwks.json", self.base)
    }

    pub fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }

    pub fn set_reply(&self, status: u16, body: String) {
        let mut r = self.reply.lock().unwrap();
        r.status = status;
        r.body = body;
    }

    /// The conditional headers of every request so far, in order.
    pub fn conditionals(&self) -> Vec<Conditional> {
        self.conditionals.lock().unwrap().clone()
    }

    /// Adds a response header to every reply.
    pub fn add_header(&self, name: &str, value: &str) {
        self.reply
            .lock()
            .unwrap()
            .headers
            .push((name.to_owned(), value.to_owned()));
    }

    /// Sends this `ETag` and answers a matching `If-None-Match` with `304`.
    pub fn set_etag(&self, etag: &str) {
        self.reply.lock().unwrap().etag = Some(etag.to_owned());
    }

    /// Sends this `Last-Modified` and answers a matching `If-Modified-Since` with `304`.
    pub fn set_last_modified(&self, date: &str) {
        self.reply.lock().unwrap().last_modified = Some(date.to_owned());
    }

    pub fn set_delay(&self, delay: Duration) {
        self.reply.lock().unwrap().delay = delay;
    }

    pub fn set_redirect(&self, location: &str) {
        let mut r = self.reply.lock().unwrap();
        r.status = 302;
        r.location = Some(location.to_owned());
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn b64_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// Time for the cooldown and TTL tests: with the `testing` feature, a manual clock the
/// validators read, moved at no cost; without it, the real clock, moved by sleeping.
#[derive(Default)]
pub struct TestTime {
    #[cfg(feature = "testing")]
    clock: runbeam_sdk_blocking::testing::ManualClock,
}

impl TestTime {
    /// `options` measuring key-set time by this clock.
    pub fn options(
        &self,
        options: runbeam_sdk_blocking::JwtValidationOptions,
    ) -> runbeam_sdk_blocking::JwtValidationOptions {
        #[cfg(feature = "testing")]
        let options = options.with_clock(&self.clock);
        options
    }

    /// Lets `time` pass for the validators made with [`options`](Self::options).
    pub fn pass(&self, time: std::time::Duration) {
        #[cfg(feature = "testing")]
        self.clock.advance(time);
        #[cfg(not(feature = "testing"))]
        std::thread::sleep(time);
    }
}
