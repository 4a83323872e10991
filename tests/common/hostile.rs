//! A hostile HTTP/1.1 server on 127.0.0.1: a handler decides, request by request, which raw
//! bytes go back — or whether the connection is dropped. Everything is bounded: connection
//! threads time out after a few seconds of silence and the accept loop ends when the server
//! is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the hostile server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// 0 for the first request on its connection, 1 for the next, ...
    pub on_connection: usize,
    /// 0 for the first request the server saw, ...
    pub index: usize,
    /// The request body (at most 1 MiB), as text.
    pub body: String,
}

/// What the server does with a request.
pub enum Reply {
    /// Writes these bytes and keeps the connection open for the next request.
    Bytes(Vec<u8>),
    /// Writes these bytes, then closes the connection.
    BytesThenClose(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Waits this long, then writes the bytes.
    After(Duration, Vec<u8>),
}

/// The server; stops accepting when dropped.
pub struct Hostile {
    url: String,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

impl Hostile {
    /// Starts a server whose every request is answered by `handler`.
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, c, r) = (stop.clone(), connections.clone(), requests.clone());
        let accept = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::SeqCst);
                        let (h, r) = (handler.clone(), r.clone());
                        std::thread::spawn(move || serve(stream, &*h, &r));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Hostile {
            url,
            stop,
            connections,
            requests,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, requests: &AtomicUsize) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    for on_connection in 0.. {
        let Some((method, target, body)) = read_request(&mut reader) else {
            return;
        };
        let index = requests.fetch_add(1, Ordering::SeqCst);
        let seen = Seen {
            method,
            target,
            on_connection,
            index,
            body,
        };
        let (bytes, close) = match handler(&seen) {
            Reply::Bytes(b) => (b, false),
            Reply::BytesThenClose(b) => (b, true),
            Reply::Close => return,
            Reply::After(delay, b) => {
                std::thread::sleep(delay);
                (b, false)
            }
        };
        if writer
            .write_all(&bytes)
            .and_then(|()| writer.flush())
            .is_err()
            || close
        {
            return;
        }
    }
}

/// Reads one request: method, target and body; `None` at end of stream or on garbage.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, String)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|n| *n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    Some((method, target, String::from_utf8_lossy(&body).into_owned()))
}

/// A complete response with a JSON body and extra header lines.
pub fn json(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// The `page=N` of a request target (1 when absent).
pub fn page_of(target: &str) -> u64 {
    target
        .split_once("page=")
        .and_then(|(_, n)| n.split('&').next()?.parse().ok())
        .unwrap_or(1)
}
