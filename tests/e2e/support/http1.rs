//! HTTP/1.1 messages read byte for byte off any stream, for tests that speak the protocol
//! themselves on either side: a client that writes exact bytes to a server, or a test
//! upstream that must see exactly what a proxy sent it. Bodies are decoded as RFC 9112
//! section 6.3 frames them (no body for HEAD, 1xx, 204 and 304 answers; chunked, with
//! extensions and trailers; Content-Length; or, for an answer, until the connection
//! closes), so tests compare the bytes the peer meant to send. [`connect_tls`] opens a
//! client connection to send them over.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A TLS client connection (rustls).
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// A TLS connection to `addr` with SNI `sni` and no ALPN (so HTTP/1.1), trusting the
/// certificates in `root_pem`; reads time out after 60 s.
pub fn connect_tls(addr: SocketAddr, sni: &str, root_pem: &Path) -> Wire<TlsStream> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(root_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    Wire::new(StreamOwned::new(conn, tcp))
}

/// One request or answer as read.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// The request line or status line, without its CRLF.
    pub start_line: String,
    /// The header fields in the order received, names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, framing removed.
    pub body: Vec<u8>,
    /// Whether the body was ended by the connection closing (an answer with neither
    /// Transfer-Encoding nor Content-Length).
    pub close_delimited: bool,
}

impl Message {
    /// The status code of an answer (0 when the start line is not a status line).
    pub fn status(&self) -> u16 {
        self.start_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// The method of a request.
    pub fn method(&self) -> &str {
        self.start_line.split(' ').next().unwrap_or_default()
    }

    /// The request target of a request.
    pub fn target(&self) -> &str {
        self.start_line.split(' ').nth(1).unwrap_or_default()
    }

    /// Every value of the header `name` (lower case).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The comma-separated elements of every `name` header, in lower case.
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.all(name)
            .iter()
            .flat_map(|value| value.split(','))
            .map(|token| token.trim().to_ascii_lowercase())
            .filter(|token| !token.is_empty())
            .collect()
    }

    /// Whether the sender said it closes the connection after this message.
    pub fn closes(&self) -> bool {
        self.close_delimited || self.tokens("connection").iter().any(|t| t == "close")
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A stream with the bytes read but not yet used.
pub struct Wire<S> {
    stream: S,
    buffered: Vec<u8>,
}

fn broken(what: &str) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, what.to_owned())
}

impl<S: Read> Wire<S> {
    pub fn new(stream: S) -> Wire<S> {
        Wire {
            stream,
            buffered: Vec::new(),
        }
    }

    /// The stream, to write to it.
    pub fn stream(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Reads more bytes; false at the end of the stream. A TLS peer that closed without
    /// close_notify is an end of stream as well.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buffered.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// The bytes up to and including the next `delimiter`; None when the stream ends
    /// before any byte of it.
    fn until(&mut self, delimiter: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let mut searched = 0;
        loop {
            if let Some(at) = self.buffered[searched..]
                .windows(delimiter.len())
                .position(|w| w == delimiter)
            {
                let end = searched + at + delimiter.len();
                return Ok(Some(self.buffered.drain(..end).collect()));
            }
            searched = self.buffered.len().saturating_sub(delimiter.len());
            if !self.fill()? {
                return match self.buffered.is_empty() {
                    true => Ok(None),
                    false => Err(broken("the stream ended inside a line")),
                };
            }
        }
    }

    fn exact(&mut self, len: usize) -> io::Result<Vec<u8>> {
        while self.buffered.len() < len {
            if !self.fill()? {
                return Err(broken("the stream ended inside a body"));
            }
        }
        Ok(self.buffered.drain(..len).collect())
    }

    fn line(&mut self) -> io::Result<String> {
        let line = self
            .until(b"\r\n")?
            .ok_or_else(|| broken("the stream ended before a line"))?;
        Ok(String::from_utf8_lossy(&line[..line.len() - 2]).into_owned())
    }

    /// A start line and header section; None when the stream ends before it begins.
    fn head(&mut self) -> io::Result<Option<Message>> {
        let Some(head) = self.until(b"\r\n\r\n")? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&head[..head.len() - 4]).into_owned();
        let mut lines = text.split("\r\n");
        let start_line = lines.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| broken(&format!("not a header field: {line:?}")))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        Ok(Some(Message {
            start_line,
            headers,
            ..Message::default()
        }))
    }

    fn chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line()?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| broken(&format!("not a chunk size: {line:?}")))?;
            if size == 0 {
                // Trailer fields, up to the empty line.
                while !self.line()?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.exact(size)?);
            if self.exact(2)? != b"\r\n" {
                return Err(broken("a chunk does not end with CRLF"));
            }
        }
    }

    fn content_length(message: &Message) -> io::Result<Option<usize>> {
        let mut lengths = message.tokens("content-length");
        lengths.dedup();
        match lengths.as_slice() {
            [] => Ok(None),
            [one] => one
                .parse()
                .map(Some)
                .map_err(|_| broken("a Content-Length that is not a number")),
            _ => Err(broken("Content-Length values that differ")),
        }
    }

    /// The next request; None when the stream ends before one begins.
    pub fn request(&mut self) -> io::Result<Option<Message>> {
        let Some(mut request) = self.head()? else {
            return Ok(None);
        };
        let codings = request.tokens("transfer-encoding");
        request.body = if codings.last().is_some_and(|c| c == "chunked") {
            self.chunked()?
        } else if !codings.is_empty() {
            return Err(broken("a request transfer coding other than chunked"));
        } else {
            let len = Self::content_length(&request)?.unwrap_or(0);
            self.exact(len)?
        };
        Ok(Some(request))
    }

    /// The next final answer to a request (`head` when it was a HEAD request); interim
    /// (1xx) answers before it are read and passed over.
    pub fn response(&mut self, head: bool) -> io::Result<Message> {
        loop {
            let mut answer = self
                .head()?
                .ok_or_else(|| broken("the connection closed before an answer"))?;
            let status = answer.status();
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            if head || status == 101 || status == 204 || status == 304 {
                return Ok(answer);
            }
            let codings = answer.tokens("transfer-encoding");
            if codings.last().is_some_and(|c| c == "chunked") {
                answer.body = self.chunked()?;
            } else if let (true, Some(len)) = (codings.is_empty(), Self::content_length(&answer)?) {
                answer.body = self.exact(len)?;
            } else {
                while self.fill()? {}
                answer.body = std::mem::take(&mut self.buffered);
                answer.close_delimited = true;
            }
            return Ok(answer);
        }
    }

    /// Whether the peer has closed the connection: the next read ends the stream (or
    /// fails as a reset connection) rather than giving bytes or timing out.
    pub fn closed(&mut self) -> bool {
        if !self.buffered.is_empty() {
            return false;
        }
        match self.fill() {
            Ok(more) => !more,
            Err(e) => matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
            ),
        }
    }
}

impl<S: Read + Write> Wire<S> {
    /// Writes `bytes`, all in one go, and flushes them.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
        self.stream.flush().unwrap();
    }
}
