//! Deterministic, parallel gzip for layers.
//!
//! Layers are compressed in fixed 1 MiB chunks, each by its own raw-deflate stream ended with a
//! sync flush (the last one with a final block), concatenated into a single gzip member with a
//! fixed header and a CRC-32/length trailer, the scheme pigz uses. The output depends only on the
//! input, the chunk size, the level and the deflate implementation pinned in Cargo.lock, never on
//! the number of threads, and any gzip reader decompresses it. Hand-written because flate2 only
//! compresses on one thread, and the binary layer's compression is most of what drydock adds to
//! `go build` on a one-line change.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

pub const CHUNK: usize = 1 << 20;

/// A `Write` that gzips what it receives into `inner`.
pub struct ParallelGzWriter<W: Write> {
    inner: W,
    level: u32,
    threads: usize,
    current: Vec<u8>,
    pending: Vec<Vec<u8>>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> ParallelGzWriter<W> {
    pub fn new(mut inner: W, level: u32) -> io::Result<Self> {
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): nothing from the host.
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        Ok(ParallelGzWriter {
            inner,
            level,
            threads,
            current: Vec::with_capacity(CHUNK),
            pending: Vec::new(),
            crc: crc32fast::Hasher::new(),
            len: 0,
        })
    }

    /// Compresses what is pending; `last` marks the end of the stream.
    fn drain(&mut self, last: bool) -> io::Result<()> {
        let chunks = std::mem::take(&mut self.pending);
        let n = chunks.len();
        let level = self.level;
        let per = n.div_ceil(self.threads).max(1);
        let outputs: Vec<io::Result<Vec<u8>>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .chunks(per)
                .enumerate()
                .map(|(g, group)| {
                    s.spawn(move || {
                        group
                            .iter()
                            .enumerate()
                            .map(|(i, c)| deflate_chunk(c, level, last && g * per + i == n - 1))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![Err(io::Error::other("compressor thread panicked"))]
                    })
                })
                .collect()
        });
        for o in outputs {
            self.inner.write_all(&o?)?;
        }
        Ok(())
    }

    /// Ends the stream and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let cur = std::mem::take(&mut self.current);
        self.pending.push(cur);
        self.drain(true)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner.write_all(&(self.len as u32).to_le_bytes())?;
        Ok(self.inner)
    }
}

fn deflate_chunk(input: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(input.len() / 2 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let status = c
            .compress_vec(&input[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let done_input = c.total_in() as usize == input.len();
        match status {
            Status::StreamEnd => break,
            // A sync flush is complete once all input is in and the output buffer was not filled.
            _ if !last && done_input && out.len() < out.capacity() => break,
            _ => {}
        }
    }
    Ok(out)
}

impl<W: Write> Write for ParallelGzWriter<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let total = buf.len();
        self.crc.update(buf);
        self.len += total as u64;
        while !buf.is_empty() {
            let room = CHUNK - self.current.len();
            let take = room.min(buf.len());
            self.current.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.current.len() == CHUNK {
                let full = std::mem::replace(&mut self.current, Vec::with_capacity(CHUNK));
                self.pending.push(full);
                if self.pending.len() >= self.threads * 4 {
                    self.drain(false)?;
                }
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz(data: &[u8], threads: usize) -> Vec<u8> {
        let mut w = ParallelGzWriter::new(Vec::new(), 6).unwrap();
        w.threads = threads;
        // Odd-sized writes, to cross chunk boundaries mid-write.
        for part in data.chunks(77_777) {
            w.write_all(part).unwrap();
        }
        w.finish().unwrap()
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trips_and_is_independent_of_threads() {
        let mut data = Vec::new();
        let mut x = 1u64;
        while data.len() < 5 * CHUNK + 12345 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Half compressible text, half noise.
            if (x >> 60) % 2 == 0 {
                data.extend_from_slice(b"the quick brown fox jumps over the lazy dog ");
            } else {
                data.extend_from_slice(&x.to_le_bytes());
            }
        }
        let one = gz(&data, 1);
        assert_eq!(gunzip(&one), data);
        for t in [2, 3, 8] {
            assert_eq!(gz(&data, t), one, "{t} threads give other bytes");
        }
        assert!(one.len() < data.len());
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert_eq!(gunzip(&gz(b"", 2)), b"");
        assert_eq!(gunzip(&gz(b"x", 2)), b"x");
        let exact = vec![7u8; CHUNK];
        assert_eq!(gunzip(&gz(&exact, 2)), exact);
    }
}
