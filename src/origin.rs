//! Strict parsing of `http(s)` URLs into an [`Origin`] (scheme, host, port).
//!
//! Trust decisions (which issuer may sign, where keys come from, where a bearer token may be
//! sent) compare parsed origins, never string prefixes: `https://api.runbeam.io.evil.com` and
//! `https://api.runbeam.io@evil.com` are different origins from `https://api.runbeam.io`.

use std::fmt;

/// Why a string is not a usable `http(s)` URL. Carries no part of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// The scheme is missing or is neither `http` nor `https`.
    #[error("the URL must start with http:// or https://")]
    UnsupportedScheme,
    /// The URL has no host.
    #[error("the URL has no host")]
    MissingHost,
    /// The URL embeds credentials (`user@host`), which are refused.
    #[error("the URL must not contain credentials (user@host)")]
    Credentials,
    /// The host contains characters that no host name or IP literal has.
    #[error("the URL's host is not a valid host name or IP address")]
    InvalidHost,
    /// The port is not a number in 1..=65535.
    #[error("the URL's port is not a number in 1..=65535")]
    InvalidPort,
}

/// The scheme of an [`Origin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The origin of a URL: scheme, lower-cased host and port (the default port filled in).
///
/// `Display` gives `scheme://host` plus `:port` only when the port is not the scheme's default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

/// A URL split into its [`Origin`] and everything after the authority (path, query, fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl<'a> {
    /// Scheme, host and port.
    pub origin: Origin,
    /// The rest of the URL, starting with `/`, `?` or `#`, or empty.
    pub rest: &'a str,
}

impl Origin {
    /// Parses the origin of `url`, ignoring its path, query and fragment.
    ///
    /// # Errors
    /// [`OriginError`] when the scheme is not `http`/`https`, the host is missing or invalid,
    /// the port is invalid, or the URL contains credentials.
    pub fn parse(url: &str) -> Result<Origin, OriginError> {
        parse_url(url).map(|parsed| parsed.origin)
    }

    /// The scheme.
    #[cfg(test)]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, lower-cased; IPv6 literals keep their brackets.
    #[cfg(test)]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, with the scheme's default filled in.
    #[cfg(test)]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True for `localhost`, `127.0.0.0/8` and `[::1]`: the only hosts allowed over plain HTTP
    /// where HTTPS is otherwise required.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" || self.host == "[::1]" {
            return true;
        }
        self.host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
    }

    /// True when the scheme is `https` or the host is loopback.
    pub fn is_secure_or_loopback(&self) -> bool {
        self.scheme == Scheme::Https || self.is_loopback()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Splits an absolute `http(s)` URL into its origin and the rest.
///
/// # Errors
/// As [`Origin::parse`].
pub fn parse_url(url: &str) -> Result<ParsedUrl<'_>, OriginError> {
    let (origin, rest) = split_url(url)?;
    Ok(ParsedUrl {
        origin: Origin {
            scheme: origin.scheme,
            host: origin.host.to_ascii_lowercase(),
            port: origin.port,
        },
        rest,
    })
}

/// The origin of a URL as written in it: the host borrowed and not lower-cased, so that
/// comparing it with an [`Origin`] allocates nothing.
pub(crate) struct UrlOrigin<'a> {
    scheme: Scheme,
    host: &'a str,
    port: u16,
}

impl<'a> UrlOrigin<'a> {
    /// Parses the origin of `url` as [`Origin::parse`] does.
    pub(crate) fn parse(url: &'a str) -> Result<Self, OriginError> {
        split_url(url).map(|(origin, _)| origin)
    }
}

impl Origin {
    /// True when `url` has this origin: what [`Origin::parse`] would give for it equals `self`.
    pub(crate) fn matches(&self, url: &UrlOrigin<'_>) -> bool {
        // `self.host` is lower-cased, so this is equality after lower-casing `url.host`.
        self.scheme == url.scheme
            && self.port == url.port
            && url.host.eq_ignore_ascii_case(&self.host)
    }
}

fn split_url(url: &str) -> Result<(UrlOrigin<'_>, &str), OriginError> {
    // Byte comparisons, not substring searches: this runs for every token's `iss`.
    let (scheme, after_scheme) = [Scheme::Https, Scheme::Http]
        .into_iter()
        .find_map(|scheme| {
            let name = scheme.as_str().as_bytes();
            let head = url.as_bytes().get(..name.len() + "://".len())?;
            (head[..name.len()].eq_ignore_ascii_case(name) && head.ends_with(b"://"))
                .then(|| (scheme, &url[head.len()..]))
        })
        .ok_or(OriginError::UnsupportedScheme)?;
    let authority_end = after_scheme
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(authority_end);
    if authority.contains('@') {
        return Err(OriginError::Credentials);
    }
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        None => scheme.default_port(),
        Some(text) => parse_port(text)?,
    };
    Ok((UrlOrigin { scheme, host, port }, rest))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), OriginError> {
    if authority.is_empty() {
        return Err(OriginError::MissingHost);
    }
    if authority.starts_with('[') {
        // IPv6 literal: `[addr]` or `[addr]:port`.
        let close = authority.find(']').ok_or(OriginError::InvalidHost)?;
        let (host, after) = authority.split_at(close + 1);
        let inner = &host[1..host.len() - 1];
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(OriginError::InvalidHost);
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(OriginError::InvalidHost),
            },
        };
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(OriginError::MissingHost);
    }
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !valid || host.starts_with('.') || host.as_bytes().windows(2).any(|w| w == b"..") {
        return Err(OriginError::InvalidHost);
    }
    Ok((host, port))
}

fn parse_port(text: &str) -> Result<u16, OriginError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OriginError::InvalidPort);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(OriginError::InvalidPort),
        Ok(port) => Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scheme_host_port_and_rest() {
        let parsed = parse_url("HTTPS://API.Runbeam.io:8443/api/cli/check-login/x?y#z").unwrap();
        assert_eq!(parsed.origin.scheme(), Scheme::Https);
        assert_eq!(parsed.origin.host(), "api.runbeam.io");
        assert_eq!(parsed.origin.port(), 8443);
        assert_eq!(parsed.rest, "/api/cli/check-login/x?y#z");
        assert_eq!(parsed.origin.to_string(), "https://api.runbeam.io:8443");
    }

    #[test]
    fn default_ports_are_filled_in_and_hidden() {
        let a = Origin::parse("https://api.runbeam.io").unwrap();
        let b = Origin::parse("https://api.runbeam.io:443/").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "https://api.runbeam.io");
        assert_eq!(Origin::parse("http://x").unwrap().port(), 80);
    }

    #[test]
    fn lookalike_hosts_are_different_origins() {
        let trusted = Origin::parse("https://api.runbeam.io").unwrap();
        let suffix = Origin::parse("https://api.runbeam.io.evil.com").unwrap();
        assert_ne!(trusted, suffix);
        assert_eq!(
            Origin::parse("https://api.runbeam.io@evil.com"),
            Err(OriginError::Credentials)
        );
        assert_ne!(trusted, Origin::parse("http://api.runbeam.io").unwrap());
        assert_ne!(
            trusted,
            Origin::parse("https://api.runbeam.io:444").unwrap()
        );
    }

    #[test]
    fn rejects_bad_urls_with_a_kind() {
        assert_eq!(
            Origin::parse("ftp://x"),
            Err(OriginError::UnsupportedScheme)
        );
        assert_eq!(
            Origin::parse("api.runbeam.io"),
            Err(OriginError::UnsupportedScheme)
        );
        assert_eq!(Origin::parse("https://"), Err(OriginError::MissingHost));
        assert_eq!(Origin::parse("https://:443"), Err(OriginError::MissingHost));
        assert_eq!(Origin::parse("https://a b"), Err(OriginError::InvalidHost));
        assert_eq!(Origin::parse("https://a\\b"), Err(OriginError::InvalidHost));
        assert_eq!(
            Origin::parse("https://[::g]"),
            Err(OriginError::InvalidHost)
        );
        assert_eq!(Origin::parse("https://x:0"), Err(OriginError::InvalidPort));
        assert_eq!(
            Origin::parse("https://x:65536"),
            Err(OriginError::InvalidPort)
        );
        assert_eq!(Origin::parse("https://x:+1"), Err(OriginError::InvalidPort));
    }

    #[test]
    fn loopback_detection() {
        for url in [
            "http://127.0.0.1:9",
            "http://localhost",
            "http://[::1]:80",
            "http://127.2.3.4",
        ] {
            assert!(Origin::parse(url).unwrap().is_loopback(), "{url}");
        }
        for url in [
            "http://128.0.0.1",
            "http://localhost.evil.com",
            "http://10.0.0.1",
        ] {
            assert!(!Origin::parse(url).unwrap().is_loopback(), "{url}");
        }
        assert!(Origin::parse("https://api.runbeam.io")
            .unwrap()
            .is_secure_or_loopback());
        assert!(!Origin::parse("http://api.runbeam.io")
            .unwrap()
            .is_secure_or_loopback());
    }

    #[test]
    fn an_origin_matches_the_urls_that_parse_to_it() {
        let trusted = Origin::parse("https://api.runbeam.io").unwrap();
        for url in [
            "https://api.runbeam.io",
            "HTTPS://API.Runbeam.IO:443/api/cli/x",
            "https://api.runbeam.io?x#y",
            "https://api.runbeam.io:444",
            "http://api.runbeam.io",
            "https://api.runbeam.io.evil.com",
            "https://api.runbeam.io@evil.com",
            "https://[::1]:443",
            "api.runbeam.io",
        ] {
            let parsed = Origin::parse(url).ok();
            let matched = UrlOrigin::parse(url).is_ok_and(|origin| trusted.matches(&origin));
            assert_eq!(matched, parsed.as_ref() == Some(&trusted), "{url}");
        }
    }
}
