//! The API's own request and response: what any web framework can build and send.

use std::net::IpAddr;

/// An HTTP request, as the edge received it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`... (compared in upper case).
    pub method: String,
    /// The path, percent-encoded as received, without the query (`/api/uploads/up_1`).
    pub path: String,
    /// The query string without `?` (`page=2&per_page=50`), empty when none.
    pub query: String,
    /// The headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body, read by the edge within [`Api::body_limit`](crate::Api::body_limit).
    pub body: Vec<u8>,
    /// The peer's address (for sign-in rate limiting), when the edge knows it.
    pub peer: Option<IpAddr>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: &str, target: &str) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Request::default()
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// The first value of a header (name compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A cookie's value from the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The query's parameters, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// A response body: whole, or a stream of chunks (server-sent events) that the edge sends
/// as they come, on a thread that may block between them.
pub enum Body {
    /// The whole body.
    Full(Vec<u8>),
    /// Chunks, each sent as soon as it is produced; the stream ends when the iterator does.
    Stream(Box<dyn Iterator<Item = Vec<u8>> + Send>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(bytes) => write!(f, "Full({} bytes)", bytes.len()),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers (names in lower case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response with this status, content type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Body::Full(body.into()),
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json", value.to_string())
    }

    /// 204 No Content.
    pub fn no_content() -> Response {
        Response {
            status: 204,
            headers: Vec::new(),
            body: Body::Full(Vec::new()),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole body (a stream is read to its end).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.body {
            Body::Full(bytes) => bytes,
            Body::Stream(chunks) => chunks.flatten().collect(),
        }
    }
}
