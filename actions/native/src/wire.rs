//! A plain-TCP connection to one Redis for the actions' phases: commands written as the phase
//! encodes them ([`crate::phase::Wire`]), replies read 64 KiB at a time and parsed in place,
//! once each.
//!
//! The redis crate's parser (a general RESP3 decoder built on `combine`) costs about 80 ns
//! per reply; the replies of SET, GET, DEL, AUTH and PING are four RESP types, read here with
//! a scan for the line's end. Anything else — an error reply included — is handed to the
//! redis crate's own parser, so errors are the very `RedisError`s the crate would give (their
//! codes are what `conn::classify` reads). TLS connections and clusters keep the redis crate.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use redis::{ErrorKind, RedisError, RedisResult, Value};

/// Bytes asked of the socket per read: a 1000-reply pipeline of `+OK` (5 KB) or of 32-byte
/// GETs (39 KB) comes in one or two reads.
const READ_CHUNK: usize = 64 * 1024;

/// One TCP connection and its read buffer.
pub struct PlainConn {
    stream: TcpStream,
    /// Bytes read: `buf[at..end]` is not parsed yet.
    buf: Vec<u8>,
    at: usize,
    end: usize,
}

impl PlainConn {
    /// TCP connect within `deadline`, Nagle off (a pipeline's last segment is not held back).
    pub fn connect(addr: &SocketAddr, deadline: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(addr, deadline)?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: vec![0; READ_CHUNK],
            at: 0,
            end: 0,
        })
    }

    /// Read and write timeouts: a Redis that stops answering fails the call, it does not hang.
    pub fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(d))?;
        self.stream.set_write_timeout(Some(d))
    }

    /// The next reply.
    pub fn reply(&mut self) -> RedisResult<Value> {
        let eol = self.line_len()?;
        let line = &self.buf[self.at..self.at + eol];
        let mut taken = eol + 2;
        let value = match line[0] {
            b'+' if &line[1..] == b"OK" => Value::Okay,
            b'+' => Value::SimpleString(String::from_utf8_lossy(&line[1..]).into_owned()),
            b':' => Value::Int(int(&line[1..])?),
            b'_' => Value::Nil,
            b'$' => match usize::try_from(int(&line[1..])?) {
                // `$-1`: RESP2's null.
                Err(_) => Value::Nil,
                Ok(len) => {
                    taken += len + 2;
                    self.fill(taken)?;
                    let start = self.at + eol + 2;
                    if &self.buf[start + len..start + len + 2] != b"\r\n" {
                        return Err(bad_reply("a bulk string longer than its length"));
                    }
                    Value::BulkString(self.buf[start..start + len].to_vec())
                }
            },
            // An error reply, or a one-line type these commands do not answer with: the
            // redis crate reads it, so it is the value (and the error) the crate would give.
            b'-' | b'#' | b',' | b'(' => {
                redis::parse_redis_value(&self.buf[self.at..self.at + taken])?
            }
            _ => {
                return Err(bad_reply(
                    "a reply type that SET, GET, DEL, AUTH and PING do not send",
                ));
            }
        };
        self.at += taken;
        Ok(value)
    }

    /// Length of the line at `at` before its CRLF, reading more until the CRLF is in.
    fn line_len(&mut self) -> RedisResult<usize> {
        let mut scanned = 0;
        loop {
            if let Some(i) = memchr::memchr(b'\r', &self.buf[self.at + scanned..self.end]) {
                let i = scanned + i;
                if self.at + i + 1 < self.end {
                    if self.buf[self.at + i + 1] != b'\n' {
                        return Err(bad_reply("a line not ended by CRLF"));
                    }
                    if i == 0 {
                        return Err(bad_reply("an empty line"));
                    }
                    return Ok(i);
                }
                scanned = i;
            } else {
                scanned = self.end - self.at;
            }
            self.read_more()?;
        }
    }

    /// Read until `need` bytes from `at` are in.
    fn fill(&mut self, need: usize) -> RedisResult<()> {
        while self.end - self.at < need {
            self.read_more()?;
        }
        Ok(())
    }

    /// One read from the socket. Unparsed bytes move to the buffer's start when the buffer is
    /// full, and it grows when they fill it (a value larger than it).
    fn read_more(&mut self) -> RedisResult<()> {
        if self.at == self.end {
            (self.at, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            if self.at > 0 {
                self.buf.copy_within(self.at..self.end, 0);
                self.end -= self.at;
                self.at = 0;
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        self.end += n;
        Ok(())
    }
}

impl crate::phase::Wire for PlainConn {
    fn send(&mut self, encoded: &[u8]) -> RedisResult<()> {
        Ok(self.stream.write_all(encoded)?)
    }

    fn recv(&mut self) -> RedisResult<Value> {
        self.reply()
    }
}

fn bad_reply(what: &'static str) -> RedisError {
    RedisError::from((ErrorKind::Parse, "Redis sent", what.to_string()))
}

/// A reply's decimal integer.
fn int(b: &[u8]) -> RedisResult<i64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return Err(bad_reply("an integer that is not one"));
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(bad_reply("an integer that is not one"));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i64::from(d - b'0')))
            .ok_or_else(|| bad_reply("an integer out of range"))?;
    }
    Ok(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    /// A connection whose peer sends `bytes` in pieces of `piece` bytes (each its own write,
    /// Nagle off, so reads see partial replies), then closes.
    fn fed(bytes: Vec<u8>, piece: usize) -> (PlainConn, thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let peer = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_nodelay(true).unwrap();
            for chunk in bytes.chunks(piece.clamp(1, bytes.len().max(1))) {
                if s.write_all(chunk).is_err() {
                    return;
                }
                if piece < 64 {
                    thread::sleep(Duration::from_micros(50));
                }
            }
        });
        let c = PlainConn::connect(&addr, Duration::from_secs(5)).unwrap();
        c.set_timeouts(Duration::from_secs(10)).unwrap();
        (c, peer)
    }

    /// Replies of every kind this reader reads itself or hands to the redis crate.
    fn replies() -> Vec<Vec<u8>> {
        let big = vec![b'v'; 3 * READ_CHUNK + 17];
        let mut big_bulk = format!("${}\r\n", big.len()).into_bytes();
        big_bulk.extend_from_slice(&big);
        big_bulk.extend_from_slice(b"\r\n");
        vec![
            b"+OK\r\n".to_vec(),
            b"+PONG\r\n".to_vec(),
            b":0\r\n".to_vec(),
            b":-42\r\n".to_vec(),
            b":9223372036854775807\r\n".to_vec(),
            b"$5\r\nhello\r\n".to_vec(),
            b"$0\r\n\r\n".to_vec(),
            b"$4\r\na\r\nb\r\n".to_vec(),
            b"$-1\r\n".to_vec(),
            b"_\r\n".to_vec(),
            b"-ERR unknown command 'SETT'\r\n".to_vec(),
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n".to_vec(),
            b"-OOM command not allowed when used memory > 'maxmemory'.\r\n".to_vec(),
            b"#t\r\n".to_vec(),
            b",1.5\r\n".to_vec(),
            big_bulk,
        ]
    }

    #[test]
    fn every_reply_reads_as_the_redis_crate_parses_it_however_it_is_split() {
        let all = replies();
        let want: Vec<Value> = all
            .iter()
            .map(|r| redis::parse_redis_value(r).unwrap())
            .collect();
        // Split into 1-byte pieces (the small replies), odd-sized pieces (all of them, once),
        // and large pieces over many rounds, so the buffer fills, compacts and, for the large
        // value, grows.
        let small = all.len() - 1;
        for (piece, kinds, rounds) in [
            (1, small, 2),
            (7, all.len(), 1),
            (4096, all.len(), 40),
            (usize::MAX, all.len(), 40),
        ] {
            let stream: Vec<u8> = (0..rounds).flat_map(|_| all[..kinds].concat()).collect();
            let (mut c, peer) = fed(stream, piece);
            for round in 0..rounds {
                for (i, w) in want[..kinds].iter().enumerate() {
                    let got = c.reply().unwrap();
                    assert_eq!(&got, w, "piece {piece}, round {round}, reply {i}");
                }
            }
            drop(c);
            peer.join().unwrap();
        }
    }

    #[test]
    fn a_reply_cut_by_a_closed_connection_is_a_dropped_connection() {
        for cut in [b"+O".as_slice(), b"$10\r\nhel", b":12", b""] {
            let (mut c, peer) = fed(cut.to_vec(), 1);
            let e = c.reply().unwrap_err();
            assert!(e.is_connection_dropped() && e.is_io_error(), "{cut:?}: {e}");
            peer.join().unwrap();
        }
    }

    #[test]
    fn a_peer_that_stops_mid_reply_is_a_timeout_not_a_hang() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let peer = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"+OK\r\n$10\r\nhal").unwrap();
            // Silent, with the connection open, until the test is done.
            let _ = rx.recv();
        });
        let mut c = PlainConn::connect(&addr, Duration::from_secs(5)).unwrap();
        c.set_timeouts(Duration::from_millis(200)).unwrap();
        assert_eq!(c.reply().unwrap(), Value::Okay);
        let t = std::time::Instant::now();
        let e = c.reply().unwrap_err();
        assert!(e.is_timeout(), "{e}");
        // Bounded by the timeout, not by the peer (generous: a loaded machine).
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
        tx.send(()).unwrap();
        peer.join().unwrap();
    }

    #[test]
    fn malformed_replies_are_parse_errors_naming_what_came() {
        for (bad, says) in [
            (b"*1\r\n:1\r\n".as_slice(), "reply type"),
            (b":12x\r\n", "integer"),
            (b"$3\r\nabcd\r\n", "longer than its length"),
            (b"+OK\rX\n", "CRLF"),
            (b"\r\n", "empty line"),
            (b":99999999999999999999\r\n", "integer"),
        ] {
            let (mut c, peer) = fed(bad.to_vec(), usize::MAX);
            let e = c.reply().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Parse, "{bad:?}: {e}");
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
            drop(c);
            peer.join().unwrap();
        }
    }

    #[test]
    fn integers_parse_to_the_edges_of_i64() {
        assert_eq!(int(b"0").unwrap(), 0);
        assert_eq!(int(b"-1").unwrap(), -1);
        assert_eq!(int(b"9223372036854775807").unwrap(), i64::MAX);
        assert_eq!(int(b"-9223372036854775807").unwrap(), -i64::MAX);
        for bad in [&b""[..], b"-", b"9223372036854775808", b"1-", b" 1"] {
            assert!(int(bad).is_err(), "{bad:?}");
        }
    }
}
