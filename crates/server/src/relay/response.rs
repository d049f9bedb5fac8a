//! The upstream's answer as the relay reads it: the head parsed with `httparse`, how its
//! body is delimited (RFC 9112, 6.3), and the head the client gets.
//!
//! The client gets the upstream's status line and headers less the hop-by-hop ones (and
//! those `Connection` names), a `Date` when the upstream sent none, and the body framed
//! anew: by `Content-Length` when the upstream gave one, otherwise chunked (a chunked
//! body is decoded and encoded again, a body that ends with the connection is sent in
//! chunks as it comes). Informational answers (1xx) other than 101 are read and dropped,
//! as the general path drops them.

use super::request::{is_hop_by_hop, MAX_HEADERS};
use std::io::Write as _;

/// How the answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body (an answer to HEAD, 204, 304).
    None,
    /// This many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the upstream closes the connection.
    UntilClose,
}

/// What the head of the upstream's answer says.
#[derive(Debug)]
pub enum Parsed {
    /// Not a whole head yet.
    Partial,
    /// An informational answer of this many bytes, to drop.
    Interim(usize),
    /// The final answer.
    Final(Answer),
}

/// The final answer's head, read.
#[derive(Debug)]
pub struct Answer {
    /// Its status code.
    pub status: u16,
    /// The bytes of the upstream's head.
    pub head_len: usize,
    /// How its body ends.
    pub body: Body,
    /// Whether the upstream connection can carry another request afterwards.
    pub reusable: bool,
}

/// Why an upstream's answer cannot be passed on.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadAnswer {
    /// Not an HTTP/1.x answer head.
    #[error("not an HTTP/1.1 answer: {0}")]
    Syntax(String),
    /// `101 Switching Protocols` to a request that asked for no upgrade.
    #[error("it switched protocols unasked")]
    Switched,
    /// `Content-Length` values that are not one number.
    #[error("its Content-Length is not one number")]
    Length,
}

/// Parses the head at the start of `input`, the answer to a request whose answer has no
/// body when `head_method`; for a final answer, writes the client's head into `client`
/// (cleared first), with `Connection: close` when `close`.
pub fn parse(
    input: &[u8],
    head_method: bool,
    close: bool,
    client: &mut Vec<u8>,
) -> Result<Parsed, BadAnswer> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(err) => return Err(BadAnswer::Syntax(err.to_string())),
    };
    let (Some(version), Some(status)) = (response.version, response.code) else {
        return Err(BadAnswer::Syntax("no status".into()));
    };
    match status {
        101 => return Err(BadAnswer::Switched),
        100..=199 => return Ok(Parsed::Interim(head_len)),
        _ => {}
    }
    let mut named: Vec<String> = Vec::new();
    let mut upstream_close = version == 0;
    let mut chunked = None;
    let mut length = None;
    let mut dated = false;
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("connection") {
            for token in String::from_utf8_lossy(header.value).split(',') {
                let token = token.trim();
                if token.eq_ignore_ascii_case("close") {
                    upstream_close = true;
                } else if !token.is_empty() {
                    named.push(token.to_owned());
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // The last coding decides: chunked or not (RFC 9112, 6.3).
            let last = String::from_utf8_lossy(header.value)
                .rsplit(',')
                .next()
                .map(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
            chunked = last.or(chunked);
        } else if name.eq_ignore_ascii_case("content-length") {
            for value in String::from_utf8_lossy(header.value).split(',') {
                let value = value.trim();
                let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| value.parse::<u64>().ok())
                    .flatten()
                    .ok_or(BadAnswer::Length)?;
                if length.is_some_and(|known| known != parsed) {
                    return Err(BadAnswer::Length);
                }
                length = Some(parsed);
            }
        } else if name.eq_ignore_ascii_case("date") {
            dated = true;
        }
    }
    let body = if head_method || status == 204 || status == 304 {
        Body::None
    } else {
        match (chunked, length) {
            (Some(true), _) => Body::Chunked,
            (Some(false), _) | (None, None) => Body::UntilClose,
            (None, Some(length)) => Body::Length(length),
        }
    };
    client.clear();
    // Writing to a Vec cannot fail.
    client.extend_from_slice(b"HTTP/1.1 ");
    client.extend_from_slice(&status_digits(status));
    client.push(b' ');
    client.extend_from_slice(response.reason.unwrap_or("").as_bytes());
    client.extend_from_slice(b"\r\n");
    for header in response.headers.iter() {
        let name = header.name;
        let framing = name.eq_ignore_ascii_case("content-length") && body != Body::None;
        if framing
            || is_hop_by_hop(name)
            || named.iter().any(|named| named.eq_ignore_ascii_case(name))
        {
            continue;
        }
        client.extend_from_slice(name.as_bytes());
        client.extend_from_slice(b": ");
        client.extend_from_slice(header.value);
        client.extend_from_slice(b"\r\n");
    }
    match body {
        Body::Length(length) => {
            let _ = write!(client, "content-length: {length}\r\n");
        }
        Body::Chunked | Body::UntilClose => {
            client.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        Body::None => {}
    }
    if !dated {
        client.extend_from_slice(b"date: ");
        client.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
        client.extend_from_slice(b"\r\n");
    }
    if close {
        client.extend_from_slice(b"connection: close\r\n");
    }
    client.extend_from_slice(b"\r\n");
    Ok(Parsed::Final(Answer {
        status,
        head_len,
        body,
        reusable: !upstream_close && body != Body::UntilClose,
    }))
}

/// A status code's three digits (httparse reads three digits only).
fn status_digits(status: u16) -> [u8; 3] {
    let digit = |value: u16| b'0' + u8::try_from(value % 10).unwrap_or(0);
    [digit(status / 100), digit(status / 10), digit(status)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn final_answer(input: &str, head_method: bool) -> (Answer, String) {
        let mut client = Vec::new();
        match parse(input.as_bytes(), head_method, false, &mut client).unwrap() {
            Parsed::Final(answer) => (answer, String::from_utf8(client).unwrap()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_sized_answer_keeps_its_headers_less_the_hop_by_hop_ones() {
        let input = "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 23:00:00 GMT\r\n\
            Content-Length: 2\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n\
            Keep-Alive: timeout=5\r\nX-App: yes\r\n\r\nhi";
        let (answer, head) = final_answer(input, false);
        assert_eq!(answer.body, Body::Length(2));
        assert_eq!(answer.head_len, input.len() - 2);
        assert!(answer.reusable);
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 23:00:00 GMT\r\nX-App: yes\r\n\
             content-length: 2\r\n\r\n"
        );
    }

    #[test]
    fn the_body_is_delimited_as_http_1_1_says() {
        let chunked_and_sized =
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        let (answer, head) = final_answer(chunked_and_sized, false);
        assert_eq!(answer.body, Body::Chunked);
        assert!(
            !head.to_ascii_lowercase().contains("content-length"),
            "{head}"
        );
        assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
        assert!(head.contains("date: "), "a date is added: {head}");

        let until_close = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n";
        let (answer, _) = final_answer(until_close, false);
        assert_eq!(answer.body, Body::UntilClose);
        assert!(!answer.reusable);

        let gzip_only = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert_eq!(final_answer(gzip_only, false).0.body, Body::UntilClose);

        let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        let (answer, text) = final_answer(head, true);
        assert_eq!(answer.body, Body::None);
        assert!(
            text.contains("Content-Length: 100\r\n"),
            "kept for HEAD: {text}"
        );
        for status in ["204 No Content", "304 Not Modified"] {
            let input = format!("HTTP/1.1 {status}\r\n\r\n");
            assert_eq!(final_answer(&input, false).0.body, Body::None);
        }

        let old = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert!(!final_answer(old, false).0.reusable);
        let closing = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert!(!final_answer(closing, false).0.reusable);
    }

    #[test]
    fn informational_answers_are_dropped_and_bad_ones_refused() {
        let mut client = Vec::new();
        let early = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n";
        assert!(matches!(
            parse(early, false, false, &mut client),
            Ok(Parsed::Interim(len)) if len == early.len() - 17
        ));
        assert_eq!(
            parse(b"HTTP/1.1 101 Switching\r\n\r\n", false, false, &mut client).unwrap_err(),
            BadAnswer::Switched
        );
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        ] {
            assert_eq!(
                parse(bad.as_bytes(), false, false, &mut client).unwrap_err(),
                BadAnswer::Length,
                "{bad}"
            );
        }
        assert!(matches!(
            parse(b"HELLO\r\n\r\n", false, false, &mut client),
            Err(BadAnswer::Syntax(_))
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nX: ", false, false, &mut client),
            Ok(Parsed::Partial)
        ));
    }

    #[test]
    fn a_closing_client_is_told_so() {
        let mut client = Vec::new();
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            parse(input, false, true, &mut client),
            Ok(Parsed::Final(_))
        ));
        assert!(String::from_utf8(client)
            .unwrap()
            .ends_with("connection: close\r\n\r\n"));
    }
}
