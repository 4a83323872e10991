//! [`NetworkCause`]: why a request failed below HTTP, classified once for the API client and
//! the key-set fetcher alike.

use std::fmt;
use std::io::ErrorKind;

/// Why a connection or request failed before an HTTP answer arrived, in words a user can act
/// on. [`ApiError`](crate::ApiError)'s transport variants and
/// [`JwtError::JwksFetch`](crate::JwtError::JwksFetch) say it in their message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkCause {
    /// The host refused the connection: nothing listens on that port, or a firewall said no.
    Refused,
    /// The host name did not resolve.
    HostNotFound,
    /// No route to the host or its network.
    Unreachable,
    /// The connection or the request took longer than allowed.
    TimedOut,
    /// The server closed or reset the connection before the response was complete.
    ConnectionLost,
    /// The server's TLS certificate is not trusted: self-signed, from a CA that is not a
    /// trusted root, expired, or for another host name.
    CertificateNotTrusted,
    /// The TLS handshake failed for another reason (protocol version, cipher, alert).
    TlsFailed,
    /// Any other transport failure (a protocol error, other I/O).
    Other,
}

impl NetworkCause {
    /// Classifies a ureq failure.
    pub(crate) fn of(error: &ureq::Error) -> NetworkCause {
        match error {
            ureq::Error::Timeout(_) => NetworkCause::TimedOut,
            ureq::Error::HostNotFound => NetworkCause::HostNotFound,
            ureq::Error::ConnectionFailed => NetworkCause::Refused,
            ureq::Error::Rustls(tls) => of_tls(tls),
            ureq::Error::Tls(_) => NetworkCause::TlsFailed,
            ureq::Error::Io(io) => of_io(io),
            _ => NetworkCause::Other,
        }
    }

    /// True when no connection was ever made.
    pub(crate) fn before_connecting(self) -> bool {
        matches!(
            self,
            NetworkCause::Refused | NetworkCause::HostNotFound | NetworkCause::Unreachable
        )
    }

    /// True for a TLS failure.
    pub(crate) fn is_tls(self) -> bool {
        matches!(
            self,
            NetworkCause::CertificateNotTrusted | NetworkCause::TlsFailed
        )
    }
}

/// The reason to show for `error`: its cause's words, or ureq's own text when unclassified.
pub(crate) fn reason(error: &ureq::Error) -> String {
    match NetworkCause::of(error) {
        NetworkCause::Other => error.to_string(),
        cause => cause.to_string(),
    }
}

impl fmt::Display for NetworkCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkCause::Refused => "connection refused (is the server running on that port?)",
            NetworkCause::HostNotFound => "host not found (check the host name and DNS)",
            NetworkCause::Unreachable => "host or network unreachable",
            NetworkCause::TimedOut => "timed out",
            NetworkCause::ConnectionLost => {
                "the server closed the connection before the response was complete"
            }
            NetworkCause::CertificateNotTrusted => {
                "the server's certificate is not trusted (self-signed, an unknown CA, expired or for another host)"
            }
            NetworkCause::TlsFailed => "the TLS handshake failed",
            NetworkCause::Other => "transport error",
        })
    }
}

fn of_tls(error: &rustls::Error) -> NetworkCause {
    match error {
        rustls::Error::InvalidCertificate(_) => NetworkCause::CertificateNotTrusted,
        _ => NetworkCause::TlsFailed,
    }
}

/// rustls hands its errors to the stream as `InvalidData` with the rustls error inside; std
/// gives resolver failures no error kind of their own (on Unix they carry a fixed text, on
/// Windows the WinSock codes WSAHOST_NOT_FOUND ..= WSANO_DATA).
fn of_io(io: &std::io::Error) -> NetworkCause {
    if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return of_tls(tls);
    }
    let unresolved = if cfg!(windows) {
        matches!(io.raw_os_error(), Some(11001..=11004))
    } else {
        io.to_string()
            .starts_with("failed to lookup address information")
    };
    if unresolved {
        return NetworkCause::HostNotFound;
    }
    match io.kind() {
        ErrorKind::ConnectionRefused => NetworkCause::Refused,
        ErrorKind::AddrNotAvailable
        | ErrorKind::NetworkUnreachable
        | ErrorKind::HostUnreachable => NetworkCause::Unreachable,
        ErrorKind::TimedOut => NetworkCause::TimedOut,
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof
        | ErrorKind::NotConnected => NetworkCause::ConnectionLost,
        _ => NetworkCause::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_are_classified_by_kind() {
        let io = |kind| ureq::Error::Io(std::io::Error::from(kind));
        assert_eq!(
            NetworkCause::of(&io(ErrorKind::ConnectionRefused)),
            NetworkCause::Refused
        );
        assert_eq!(
            NetworkCause::of(&io(ErrorKind::HostUnreachable)),
            NetworkCause::Unreachable
        );
        assert_eq!(
            NetworkCause::of(&io(ErrorKind::ConnectionReset)),
            NetworkCause::ConnectionLost
        );
        assert_eq!(
            NetworkCause::of(&io(ErrorKind::PermissionDenied)),
            NetworkCause::Other
        );
        assert_eq!(
            NetworkCause::of(&ureq::Error::HostNotFound),
            NetworkCause::HostNotFound
        );
        let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::new(ErrorKind::InvalidData, untrusted);
        assert_eq!(
            NetworkCause::of(&ureq::Error::Io(wrapped)),
            NetworkCause::CertificateNotTrusted
        );
    }
}
