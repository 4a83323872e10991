//! A real TLS server on 127.0.0.1 with the fixture certificate, for the client's and the
//! key-set fetcher's TLS tests.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A file of `tests/fixtures/tls`.
fn fixture(name: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/");
    std::fs::read(format!("{dir}{name}")).expect("TLS fixture")
}

/// The fixture CA that signed the server's certificate, as PEM.
pub fn fixture_ca() -> Vec<u8> {
    fixture("ca.pem")
}

/// The server's own (leaf) certificate, as PEM: no root for anything.
pub fn fixture_leaf() -> Vec<u8> {
    fixture("server.pem")
}

/// A TLS server on `127.0.0.1` with the certificate in `tests/fixtures/tls` (signed by the
/// fixture CA, not a public one): answers every request `200` with the JSON `body` and
/// closes. Returns its origin, `https://127.0.0.1:<port>`.
pub fn tls_server(body: &str) -> String {
    let body = body.as_bytes().to_vec();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&fixture_leaf())
        .collect::<Result<_, _>>()
        .expect("fixture certificate");
    let key = PrivateKeyDer::from_pem_slice(&fixture("server.key")).expect("fixture key");
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
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(&body);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// A well-formed PEM `CERTIFICATE` block whose content ("hello world") is no X.509
/// certificate: refused when configured, not at the first handshake.
pub const NOT_X509_PEM: &[u8] =
    b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
