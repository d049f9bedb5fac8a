//! The upstream answer's body on its way to the client, a buffer at a time: sized
//! bodies are copied, chunked ones decoded and encoded again (extensions and trailer
//! fields dropped), bodies that end with the upstream's connection sent as chunks.
//!
//! [`BodyRelay::take`] consumes what the upstream sent and appends what the client gets;
//! it also says when the body is over and whether the upstream sent anything after it
//! (then its connection is not used again).

use super::response::Body;
use std::io::Write as _;

/// The most trailer bytes a chunked body may end with.
const MAX_TRAILER: usize = 16 * 1024;

/// Where a body stands.
pub struct BodyRelay {
    state: Relaying,
}

enum Relaying {
    Nothing,
    Length(u64),
    Chunked(Chunked),
    UntilClose,
}

/// What one [`BodyRelay::take`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// The body is complete.
    pub done: bool,
    /// Bytes came after the body's end.
    pub extra: bool,
}

/// A body the upstream broke off or framed wrongly.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokenBody {
    /// The connection closed before the body's end.
    #[error("the upstream closed the connection before the end of the body")]
    Truncated,
    /// Chunked coding that does not follow RFC 9112, 7.1.
    #[error("the upstream's chunked body is malformed")]
    Chunking,
}

impl BodyRelay {
    /// A relay for a body delimited as `body` says.
    pub fn new(body: Body) -> BodyRelay {
        let state = match body {
            Body::None | Body::Length(0) => Relaying::Nothing,
            Body::Length(length) => Relaying::Length(length),
            Body::Chunked => Relaying::Chunked(Chunked::default()),
            Body::UntilClose => Relaying::UntilClose,
        };
        BodyRelay { state }
    }

    /// Takes `input` from the upstream, appending to `out` what the client gets.
    pub fn take(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Taken, BrokenBody> {
        match &mut self.state {
            Relaying::Nothing => Ok(Taken {
                done: true,
                extra: !input.is_empty(),
            }),
            Relaying::Length(remaining) => {
                let (take, taken) = take_of_length(remaining, input.len());
                out.extend_from_slice(&input[..take]);
                Ok(taken)
            }
            Relaying::Chunked(chunked) => {
                let used = chunked.feed(input, out)?;
                Ok(Taken {
                    done: chunked.state == ChunkState::Done,
                    extra: used < input.len(),
                })
            }
            Relaying::UntilClose => {
                chunk(out, input);
                Ok(Taken {
                    done: false,
                    extra: false,
                })
            }
        }
    }

    /// For a body of known length not yet complete: how many of `available` bytes
    /// belong to it (they go to the client as they are), counted as taken; `None` for
    /// other bodies, which go through [`BodyRelay::take`].
    pub fn take_sized(&mut self, available: usize) -> Option<(usize, Taken)> {
        match &mut self.state {
            Relaying::Length(remaining) => Some(take_of_length(remaining, available)),
            _ => None,
        }
    }

    /// The upstream closed its connection: the end of a body that ends so (its last
    /// chunk appended to `out`), a broken body for any other.
    pub fn end_of_stream(&mut self, out: &mut Vec<u8>) -> Result<(), BrokenBody> {
        match self.state {
            Relaying::UntilClose => {
                out.extend_from_slice(b"0\r\n\r\n");
                self.state = Relaying::Nothing;
                Ok(())
            }
            Relaying::Nothing => Ok(()),
            _ => Err(BrokenBody::Truncated),
        }
    }
}

/// Of `available` bytes, those that belong to a body with `remaining` bytes to come.
fn take_of_length(remaining: &mut u64, available: usize) -> (usize, Taken) {
    let take = usize::try_from(*remaining).map_or(available, |r| r.min(available));
    *remaining -= take as u64;
    let taken = Taken {
        done: *remaining == 0,
        extra: take < available,
    };
    (take, taken)
}

/// Appends `data` as one chunk (nothing for no data: an empty chunk would end the body).
fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// A chunked body's decoder, one byte of framing at a time and data in slices.
#[derive(Default)]
struct Chunked {
    state: ChunkState,
    trailer_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// In a chunk-size line: the size so far and its digits.
    Size {
        size: u64,
        digits: u8,
    },
    /// Past the size, in chunk extensions, up to CR.
    Extension {
        size: u64,
    },
    /// After the size line's CR.
    SizeLf {
        size: u64,
    },
    /// This many data bytes to come.
    Data(u64),
    /// After the data: CR, then LF.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final CRLF).
    TrailerStart,
    /// Inside a trailer field line, up to CR.
    TrailerLine,
    /// After a trailer line's CR.
    TrailerLf,
    /// After the final CR.
    EndLf,
    /// The body is over.
    Done,
}

impl Default for ChunkState {
    fn default() -> Self {
        ChunkState::Size { size: 0, digits: 0 }
    }
}

impl Chunked {
    /// Decodes `input`, appending the data as chunks of its own to `out`; gives the
    /// bytes used (fewer than `input` only once the body is over).
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, BrokenBody> {
        let mut at = 0;
        while at < input.len() {
            if let ChunkState::Data(remaining) = self.state {
                let available = input.len() - at;
                let take = usize::try_from(remaining).map_or(available, |r| r.min(available));
                chunk(out, &input[at..at + take]);
                at += take;
                let left = remaining - take as u64;
                self.state = if left == 0 {
                    ChunkState::DataCr
                } else {
                    ChunkState::Data(left)
                };
                continue;
            }
            if self.state == ChunkState::Done {
                break;
            }
            self.state = self.step(input[at])?;
            at += 1;
            if self.state == ChunkState::Done {
                out.extend_from_slice(b"0\r\n\r\n");
                break;
            }
        }
        Ok(at)
    }

    fn step(&mut self, byte: u8) -> Result<ChunkState, BrokenBody> {
        use ChunkState::*;
        let next = match (self.state, byte) {
            (Size { size, digits }, _) if byte.is_ascii_hexdigit() => {
                if digits >= 15 {
                    return Err(BrokenBody::Chunking);
                }
                let digit = u64::from(char::from(byte).to_digit(16).unwrap_or(0));
                Size {
                    size: size * 16 + digit,
                    digits: digits + 1,
                }
            }
            (Size { size, digits }, b';' | b' ' | b'\t') if digits > 0 => Extension { size },
            (Size { size, digits }, b'\r') if digits > 0 => SizeLf { size },
            (Extension { size }, b'\r') => SizeLf { size },
            (Extension { .. }, b'\n') => return Err(BrokenBody::Chunking),
            (Extension { size }, _) => Extension { size },
            (SizeLf { size: 0 }, b'\n') => TrailerStart,
            (SizeLf { size }, b'\n') => Data(size),
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => ChunkState::default(),
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | TrailerLine, b'\n') => return Err(BrokenBody::Chunking),
            (TrailerLine, b'\r') => TrailerLf,
            (TrailerStart | TrailerLine, _) => {
                self.trailer_bytes += 1;
                if self.trailer_bytes > MAX_TRAILER {
                    return Err(BrokenBody::Chunking);
                }
                TrailerLine
            }
            (TrailerLf, b'\n') => TrailerStart,
            (EndLf, b'\n') => Done,
            _ => return Err(BrokenBody::Chunking),
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; gives the client's bytes and the last
    /// `Taken`.
    fn relay(body: Body, input: &[u8], step: usize) -> Result<(Vec<u8>, Taken), BrokenBody> {
        let mut relay = BodyRelay::new(body);
        let mut out = Vec::new();
        let mut taken = relay.take(&[], &mut out)?;
        for piece in input.chunks(step) {
            taken = relay.take(piece, &mut out)?;
            if taken.done {
                break;
            }
        }
        Ok((out, taken))
    }

    /// The data of a chunked body, decoded strictly.
    fn dechunk(mut body: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        loop {
            let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16).unwrap();
            body = &body[line_end + 2..];
            if size == 0 {
                assert_eq!(body, b"\r\n");
                return data;
            }
            data.extend_from_slice(&body[..size]);
            assert_eq!(&body[size..size + 2], b"\r\n");
            body = &body[size + 2..];
        }
    }

    #[test]
    fn chunked_bodies_are_decoded_whatever_the_pieces() {
        let input = b"5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\
            X-Checksum: 1\r\n\r\nGET /next";
        for step in [1, 2, 3, 7, 64, input.len()] {
            let (out, taken) = relay(Body::Chunked, input, step).unwrap();
            assert_eq!(
                dechunk(&out),
                b"helloabcdefghijklmnopqrstuvwxyz",
                "step {step}"
            );
            assert!(taken.done, "step {step}");
        }
        let (_, whole) = relay(Body::Chunked, input, input.len()).unwrap();
        assert!(whole.extra, "the bytes after the body are seen");
    }

    #[test]
    fn malformed_chunking_is_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"\r\n",
            b"1234567890abcdef0\r\n",
            b"0\r\nX: 1\n\r\n",
        ] {
            assert_eq!(
                relay(Body::Chunked, bad, bad.len()).unwrap_err(),
                BrokenBody::Chunking,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn sized_bodies_stop_at_their_length() {
        let (out, taken) = relay(Body::Length(5), b"helloEXTRA", 3).unwrap();
        assert_eq!(out, b"hello");
        assert!(taken.done && taken.extra);
        let (out, taken) = relay(Body::Length(5), b"hel", 3).unwrap();
        assert_eq!(out, b"hel");
        assert!(!taken.done);
        let mut relay = BodyRelay::new(Body::Length(5));
        assert_eq!(
            relay.end_of_stream(&mut Vec::new()),
            Err(BrokenBody::Truncated)
        );
    }

    #[test]
    fn a_body_until_close_goes_out_chunked() {
        let mut relay = BodyRelay::new(Body::UntilClose);
        let mut out = Vec::new();
        relay.take(b"hello ", &mut out).unwrap();
        relay.take(b"", &mut out).unwrap();
        relay.take(b"world", &mut out).unwrap();
        relay.end_of_stream(&mut out).unwrap();
        assert_eq!(dechunk(&out), b"hello world");
    }

    #[test]
    fn no_body_is_done_at_once() {
        let (out, taken) = relay(Body::None, b"", 1).unwrap();
        assert!(out.is_empty() && taken.done && !taken.extra);
        assert!(relay(Body::Length(0), b"x", 1).unwrap().1.extra);
    }
}
