//! Helpers for `tests/client.rs`: a fake server, a client on it, request assertions.

use std::time::Duration;

use runbeam_sdk_blocking::testing::{FakeRunbeam, LoggedRequest};
use runbeam_sdk_blocking::RunbeamClient;

/// A fresh fake server.
pub fn server() -> FakeRunbeam {
    FakeRunbeam::start().expect("fake Runbeam starts")
}

/// A client on `server` with short timeouts.
pub fn client(server: &FakeRunbeam) -> RunbeamClient {
    RunbeamClient::builder(server.url())
        .timeout(Duration::from_secs(10))
        .use_env_proxy(false)
        .build()
        .expect("valid URL")
}

/// Asserts the request's method and path, and the headers every call sends.
pub fn assert_sent(req: &LoggedRequest, method: &str, path: &str, token: Option<&str>) {
    assert_eq!((req.method.as_str(), req.path.as_str()), (method, path));
    assert_eq!(req.header("accept"), Some("application/json"), "{path}");
    let ua = concat!("runbeam-sdk-blocking/", env!("CARGO_PKG_VERSION"));
    assert_eq!(req.header("user-agent"), Some(ua), "{path}");
    match token {
        Some(t) => assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {t}").as_str())
        ),
        None => assert_eq!(
            req.header("authorization"),
            None,
            "{path} must not send a token"
        ),
    }
}

/// True when a logged path (`/api/gateways/01F...`) matches a spec template
/// (`/gateways/{gateway}`).
pub fn path_matches(template: &str, logged: &str) -> bool {
    let Some(logged) = logged.strip_prefix("/api") else {
        return false;
    };
    let t: Vec<&str> = template.split('/').collect();
    let l: Vec<&str> = logged.split('/').collect();
    t.len() == l.len()
        && t.iter()
            .zip(&l)
            .all(|(t, l)| (t.starts_with('{') && !l.is_empty()) || t == l)
}

/// A TLS server on `127.0.0.1` with the certificate in `tests/fixtures/tls` (signed by the
/// fixture CA, not a public one): answers every request `200 {"data": []}` and closes.
/// Returns its origin, `https://127.0.0.1:<port>`.
pub fn tls_server() -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};
    use std::sync::Arc;

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/");
    let pem = |name: &str| std::fs::read(format!("{dir}{name}")).expect("TLS fixture");
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem("server.pem"))
        .collect::<Result<_, _>>()
        .expect("fixture certificate");
    let key = PrivateKeyDer::from_pem_slice(&pem("server.key")).expect("fixture key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            // A client that refuses the certificate ends the handshake: the read fails.
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            if request.ends_with(b"\r\n\r\n") {
                let body = br#"{"data":[]}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(body);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    format!("https://127.0.0.1:{port}")
}
