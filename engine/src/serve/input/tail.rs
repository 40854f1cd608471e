//! Tailing a folder tree that keeps receiving log files.
//!
//! A log shipper or `aws s3 sync` writes files into the tree: new files appear, JSON
//! lines are appended to open files, compressed CloudTrail files arrive whole (but may
//! be seen half-written). [`Tailer::poll`] walks the tree and returns what is new as
//! [`Chunk`]s, each with the file's position after it:
//!
//! - a file of lines (JSON lines, flow-log text) is read up to its last complete line;
//!   the partial line at the end waits for the rest (or, once the file has not changed
//!   for `settle`, is read as the last line);
//! - a gzip file, or a `.json` file (a CloudTrail `Records` document may be one line
//!   with no newline, or pretty-printed over many), is read whole once it has not
//!   changed for `settle`; a gzip file that does not decode to the end yet is waited
//!   for. Lines appended to a `.json` file after that are read as lines.
//!
//! Positions ([`FilePos`]) are kept per file, by the path inside the tree, with the
//! file's identity (device and inode): a file that is replaced or truncated is read
//! again from the start, and a file renamed inside the tree (rotation) keeps its
//! position under the new name. The tailer's positions move when a chunk is handed
//! out; the pipeline makes them durable with the chunk's findings, and a restart
//! starts from the durable ones, so nothing is lost or read twice.
//!
//! Hidden files (a name starting with `.`) and files ending in `.tmp`, `.part` or
//! `.partial` (files still being downloaded) are not read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// Largest chunk read from a file of lines at once.
pub const MAX_CHUNK_BYTES: u64 = 4 << 20;

/// Where reading a file got to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePos {
    /// Bytes read (the start of the next line).
    pub offset: u64,
    /// Lines read.
    pub line: u64,
    /// Device and inode of the file read (0 where unknown).
    #[serde(default)]
    pub dev: u64,
    /// Inode.
    #[serde(default)]
    pub ino: u64,
}

/// Bytes of one file to read, and the position after them.
#[derive(Debug)]
pub struct Chunk {
    /// The file (for origins and errors).
    pub file: PathBuf,
    /// Its path inside the tree (the position's key).
    pub key: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// The 1-based line the bytes start at.
    pub first_line: u64,
    /// The file's position after these bytes.
    pub pos: FilePos,
}

/// A problem with one file (it is tried again at the next poll).
#[derive(Debug)]
pub struct TailError {
    /// The file.
    pub file: PathBuf,
    /// What happened.
    pub message: String,
}

#[derive(Clone, Debug)]
struct Tracked {
    pos: FilePos,
    /// Size and modification time when last seen, and since when they have not changed.
    size: u64,
    modified: Option<SystemTime>,
    unchanged_since: std::time::Instant,
    /// A whole-file read was tried and the file did not decode yet.
    waiting: bool,
    /// Errors already reported for this state of the file.
    reported: bool,
}

/// Tails one folder tree.
pub struct Tailer {
    root: PathBuf,
    settle: Duration,
    files: HashMap<String, Tracked>,
}

/// How a file is read.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Lines,
    Whole,
}

impl Tailer {
    /// A tailer of `root` starting from `positions` (by path inside the tree). With
    /// `start_at_end`, files present now and without a position are skipped to their end.
    pub fn new(
        root: PathBuf,
        settle: Duration,
        positions: HashMap<String, FilePos>,
        start_at_end: bool,
    ) -> Tailer {
        let mut tailer = Tailer {
            root,
            settle,
            files: HashMap::new(),
        };
        let now = std::time::Instant::now();
        for (key, pos) in positions {
            tailer.files.insert(
                key,
                Tracked {
                    pos,
                    size: 0,
                    modified: None,
                    unchanged_since: now,
                    waiting: false,
                    reported: false,
                },
            );
        }
        if start_at_end {
            for (key, path) in tailer.walk() {
                if tailer.files.contains_key(&key) {
                    continue;
                }
                if let Ok(meta) = std::fs::metadata(&path) {
                    let (dev, ino) = identity(&meta);
                    let lines = count_lines(&path).unwrap_or(0);
                    tailer.files.insert(
                        key,
                        Tracked {
                            pos: FilePos {
                                offset: meta.len(),
                                line: lines,
                                dev,
                                ino,
                            },
                            size: meta.len(),
                            modified: meta.modified().ok(),
                            unchanged_since: now,
                            waiting: false,
                            reported: false,
                        },
                    );
                }
            }
        }
        tailer
    }

    /// The folder tailed.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes read so far over every file.
    pub fn bytes_read(&self) -> u64 {
        self.files.values().map(|t| t.pos.offset).sum()
    }

    /// Files known.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// The files under the root to read, by key, in a stable order.
    fn walk(&self) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&self.root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()))
            .flatten()
        {
            if !entry.file_type().is_file() || skipped_name(entry.file_name()) {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&self.root) else {
                continue;
            };
            out.push((
                rel.to_string_lossy().into_owned(),
                entry.path().to_path_buf(),
            ));
        }
        out
    }

    /// What is new in the tree: up to `max_chunks` chunks, and problems met.
    pub fn poll(&mut self, max_chunks: usize) -> (Vec<Chunk>, Vec<TailError>) {
        let mut chunks = Vec::new();
        let mut errors = Vec::new();
        let now = std::time::Instant::now();
        // Which tracked file each present path is, by identity: a path whose file was
        // renamed from another tracked path takes that path's position; a path whose
        // file is new (or replaced) starts afresh.
        let mut present = Vec::new();
        for (key, path) in self.walk() {
            if let Ok(meta) = std::fs::metadata(&path) {
                present.push((key, path, identity(&meta), meta));
            }
        }
        let by_id: HashMap<(u64, u64), String> = self
            .files
            .iter()
            .filter(|(_, t)| t.pos.ino != 0)
            .map(|(k, t)| ((t.pos.dev, t.pos.ino), k.clone()))
            .collect();
        let mut files = HashMap::with_capacity(present.len());
        for (key, _, id, meta) in &present {
            let known = match by_id.get(id) {
                Some(old) => self.files.get(old).filter(|t| meta.len() >= t.pos.offset),
                None => self.files.get(key).filter(|t| t.pos.ino == 0),
            };
            let tracked = known.cloned().unwrap_or(Tracked {
                pos: FilePos {
                    offset: 0,
                    line: 0,
                    dev: id.0,
                    ino: id.1,
                },
                size: 0,
                modified: None,
                unchanged_since: now,
                waiting: false,
                reported: false,
            });
            files.insert(key.clone(), tracked);
        }
        self.files = files;
        for (key, path, (dev, ino), meta) in present {
            if chunks.len() >= max_chunks {
                break;
            }
            let Some(t) = self.files.get_mut(&key) else {
                continue;
            };
            let size = meta.len();
            let modified = meta.modified().ok();
            if size != t.size || modified != t.modified {
                t.size = size;
                t.modified = modified;
                t.unchanged_since = now;
                t.reported = false;
            }
            t.pos.dev = dev;
            t.pos.ino = ino;
            if size == t.pos.offset {
                continue;
            }
            let settled = now.duration_since(t.unchanged_since) >= self.settle;
            let mode = if t.pos.offset == 0 && whole_file(&path) {
                Mode::Whole
            } else {
                Mode::Lines
            };
            let result = match mode {
                Mode::Whole if !settled => continue,
                Mode::Whole => read_whole(&path, size),
                Mode::Lines => read_lines(&path, t.pos.offset, size, settled),
            };
            match result {
                Ok(Some((data, end, lines))) => {
                    let first_line = t.pos.line + 1;
                    t.pos.offset = end;
                    t.pos.line += lines;
                    t.waiting = false;
                    chunks.push(Chunk {
                        file: path,
                        key,
                        data,
                        first_line,
                        pos: t.pos,
                    });
                }
                Ok(None) => {}
                Err(Incomplete) if mode == Mode::Whole && !t.reported => {
                    // A compressed file still being written: wait for it, and after a
                    // long quiet report it (it is tried again when it changes).
                    t.waiting = true;
                    let patience = self.settle.max(Duration::from_secs(2)) * 30;
                    if now.duration_since(t.unchanged_since) >= patience {
                        t.reported = true;
                        errors.push(TailError {
                            file: path,
                            message: "the gzip stream ends early and the file has stopped changing; it is read again if it changes".into(),
                        });
                    }
                }
                Err(Incomplete) => {}
            }
        }
        (chunks, errors)
    }
}

/// A whole-file read found the file incomplete (or unreadable for now).
#[derive(Debug)]
struct Incomplete;

type Read3 = Result<Option<(Vec<u8>, u64, u64)>, Incomplete>;

fn read_whole(path: &Path, size: u64) -> Read3 {
    let mut data = Vec::with_capacity(size as usize);
    let mut f = File::open(path).map_err(|_| Incomplete)?;
    f.by_ref()
        .take(size)
        .read_to_end(&mut data)
        .map_err(|_| Incomplete)?;
    if data.starts_with(&[0x1f, 0x8b]) {
        // Complete only when the stream decodes to its end.
        let mut decoder = flate2::read::MultiGzDecoder::new(&data[..]);
        if std::io::copy(&mut decoder, &mut std::io::sink()).is_err() {
            return Err(Incomplete);
        }
    }
    let lines = memchr::memchr_iter(b'\n', &data).count() as u64
        + u64::from(!data.is_empty() && !data.ends_with(b"\n"));
    let end = data.len() as u64;
    Ok(Some((data, end, lines)))
}

fn read_lines(path: &Path, offset: u64, size: u64, settled: bool) -> Read3 {
    let mut f = File::open(path).map_err(|_| Incomplete)?;
    f.seek(SeekFrom::Start(offset)).map_err(|_| Incomplete)?;
    let want = (size - offset).min(MAX_CHUNK_BYTES);
    let mut data = Vec::with_capacity(want as usize);
    f.by_ref()
        .take(want)
        .read_to_end(&mut data)
        .map_err(|_| Incomplete)?;
    let keep = match memchr::memrchr(b'\n', &data) {
        Some(i) => i + 1,
        // No complete line: a line longer than a chunk is read as it is (the reader
        // reports it when it is over its limit); an unterminated last line once the
        // file is quiet.
        None if want == MAX_CHUNK_BYTES || settled => data.len(),
        None => return Ok(None),
    };
    // The unterminated end of a quiet file is its last line.
    let keep = if settled && offset + data.len() as u64 == size {
        data.len()
    } else {
        keep
    };
    data.truncate(keep);
    if data.is_empty() {
        return Ok(None);
    }
    let lines =
        memchr::memchr_iter(b'\n', &data).count() as u64 + u64::from(!data.ends_with(b"\n"));
    Ok(Some((data, offset + keep as u64, lines)))
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0;
    loop {
        let read = f.read(&mut buf)?;
        if read == 0 {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn skipped_name(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.')
        || [".tmp", ".part", ".partial", ".swp"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Files read whole: compressed files and `.json` documents.
fn whole_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".gz") || name.ends_with(".json") {
        return true;
    }
    let mut magic = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| magic == [0x1f, 0x8b])
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tailer(dir: &Path, settle_ms: u64) -> Tailer {
        Tailer::new(
            dir.to_path_buf(),
            Duration::from_millis(settle_ms),
            HashMap::new(),
            false,
        )
    }

    fn text(chunks: &[Chunk]) -> String {
        chunks
            .iter()
            .map(|c| String::from_utf8_lossy(&c.data).into_owned())
            .collect()
    }

    #[test]
    fn appended_lines_are_read_once_and_partial_lines_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"a\":2}\n{\"a\"").expect("write");
        let mut t = tailer(dir.path(), 60_000);
        let (chunks, errors) = t.poll(16);
        assert!(errors.is_empty());
        assert_eq!(text(&chunks), "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(chunks[0].first_line, 1);
        assert_eq!(chunks[0].pos.offset, 16);
        assert_eq!(chunks[0].pos.line, 2);
        assert!(t.poll(16).0.is_empty(), "nothing new");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b":3}\n").expect("append");
        let (chunks, _) = t.poll(16);
        assert_eq!(text(&chunks), "{\"a\":3}\n");
        assert_eq!(chunks[0].first_line, 3);
        assert_eq!(chunks[0].pos.line, 3);
    }

    #[test]
    fn a_restart_resumes_from_the_positions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("b.log");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "one\ntwo\n").expect("write");
        let mut t = tailer(dir.path(), 60_000);
        let (chunks, _) = t.poll(16);
        let key = chunks[0].key.clone();
        assert_eq!(key, Path::new("sub").join("b.log").to_string_lossy());
        let pos = chunks[0].pos;
        std::fs::write(&path, "one\ntwo\nthree\n").expect("write");
        let mut again = Tailer::new(
            dir.path().to_path_buf(),
            Duration::from_millis(60_000),
            HashMap::from([(key, pos)]),
            false,
        );
        let (chunks, _) = again.poll(16);
        assert_eq!(text(&chunks), "three\n");
        assert_eq!(chunks[0].first_line, 3);
    }

    #[test]
    fn a_truncated_or_replaced_file_is_read_from_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.log");
        std::fs::write(&path, "first line\nsecond line\n").expect("write");
        let mut t = tailer(dir.path(), 60_000);
        t.poll(16);
        std::fs::write(&path, "new\n").expect("truncate");
        let (chunks, _) = t.poll(16);
        assert_eq!(text(&chunks), "new\n");
        assert_eq!(chunks[0].first_line, 1);
    }

    #[test]
    fn a_rotated_file_keeps_its_position_under_its_new_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.log");
        std::fs::write(&path, "a\nb\n").expect("write");
        let mut t = tailer(dir.path(), 60_000);
        assert_eq!(text(&t.poll(16).0), "a\nb\n");
        std::fs::rename(&path, dir.path().join("app.log.1")).expect("rename");
        std::fs::write(&path, "c\n").expect("new file");
        let (chunks, _) = t.poll(16);
        assert_eq!(text(&chunks), "c\n", "the rotated file is not read again");
    }

    #[test]
    fn whole_files_wait_until_quiet_and_complete() {
        let dir = tempfile::tempdir().expect("temp dir");
        let doc = r#"{"Records":[{"eventVersion":"1.08"}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(doc.as_bytes()).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let path = dir.path().join("trail.json.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).expect("half");
        let mut t = tailer(dir.path(), 0);
        let (chunks, errors) = t.poll(16);
        assert!(chunks.is_empty(), "a half-written gzip file waits");
        assert!(errors.is_empty());
        std::fs::write(&path, &gz).expect("whole");
        let (chunks, _) = t.poll(16);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, gz);
        assert!(t.poll(16).0.is_empty(), "read once");

        let json = dir.path().join("doc.json");
        std::fs::write(&json, "{\n \"Records\": []\n}").expect("write");
        let mut slow = tailer(dir.path(), 60_000);
        let (chunks, _) = slow.poll(16);
        assert!(
            chunks.iter().all(|c| c.key != "doc.json"),
            "a document is read once it is quiet"
        );
    }

    #[test]
    fn hidden_and_partial_files_are_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".hidden.jsonl"), "x\n").expect("write");
        std::fs::write(dir.path().join("b.jsonl.part"), "x\n").expect("write");
        std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
        std::fs::write(dir.path().join(".git").join("f"), "x\n").expect("write");
        let mut t = tailer(dir.path(), 0);
        assert!(t.poll(16).0.is_empty());
    }

    #[test]
    fn start_at_end_skips_what_is_there() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("d.log");
        std::fs::write(&path, "old\n").expect("write");
        let mut t = Tailer::new(
            dir.path().to_path_buf(),
            Duration::from_millis(60_000),
            HashMap::new(),
            true,
        );
        assert!(t.poll(16).0.is_empty());
        std::fs::write(&path, "old\nnew\n").expect("append");
        let (chunks, _) = t.poll(16);
        assert_eq!(text(&chunks), "new\n");
        assert_eq!(chunks[0].first_line, 2);
    }
}
