//! What a route does with a finding's event: append it to a file, POST it to a
//! webhook, or run a command with it on standard input.
//!
//! Each delivery either succeeds, fails for now (retried with backoff), or fails for
//! good (a webhook's `400`: retrying would not help), and then goes to the dead-letter
//! file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

/// A route's action, as configured.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ActionConfig {
    /// Append one JSON line per finding to a file, rotated by size.
    File {
        /// The file.
        path: PathBuf,
        /// Rotate when the file would grow past this (default 100 MiB).
        #[serde(default = "default_max_bytes")]
        max_bytes: u64,
        /// Rotated files kept: `path.1` (newest) … `path.N` (default 5).
        #[serde(default = "default_keep")]
        keep: u32,
        /// Write the EventBridge-shaped event (default) or the bare finding.
        #[serde(default = "yes")]
        envelope: bool,
    },
    /// POST the event as JSON.
    Webhook {
        /// The URL.
        url: String,
        /// Extra headers (`Authorization` …).
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// Longest wait for an answer (default 10s).
        #[serde(default = "default_webhook_timeout", deserialize_with = "duration")]
        timeout: Duration,
    },
    /// Run a program (no shell) with the event on standard input.
    Command {
        /// The program.
        program: String,
        /// Its arguments.
        #[serde(default)]
        args: Vec<String>,
        /// Killed after this long (default 30s).
        #[serde(default = "default_command_timeout", deserialize_with = "duration")]
        timeout: Duration,
    },
}

fn default_max_bytes() -> u64 {
    100 << 20
}

fn default_keep() -> u32 {
    5
}

fn yes() -> bool {
    true
}

fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_command_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Reads a duration written as text (`10s`, `500ms`).
pub(crate) fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::serve::config::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Why a delivery failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth trying again.
    Retry(String),
    /// Will not work however often it is tried.
    Permanent(String),
}

/// A ready action.
pub enum Action {
    /// See [`ActionConfig::File`].
    File(FileSink),
    /// See [`ActionConfig::Webhook`].
    Webhook {
        /// The client.
        agent: ureq::Agent,
        /// The URL.
        url: String,
        /// Headers.
        headers: BTreeMap<String, String>,
    },
    /// See [`ActionConfig::Command`].
    Command {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Its time limit.
        timeout: Duration,
    },
}

impl Action {
    /// Prepares an action.
    pub fn new(config: &ActionConfig) -> Action {
        match config {
            ActionConfig::File {
                path,
                max_bytes,
                keep,
                envelope,
            } => Action::File(FileSink {
                path: path.clone(),
                max_bytes: *max_bytes,
                keep: *keep,
                envelope: *envelope,
                file: None,
            }),
            ActionConfig::Webhook {
                url,
                headers,
                timeout,
            } => Action::Webhook {
                agent: ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(*timeout))
                    .build()
                    .into(),
                url: url.clone(),
                headers: headers.clone(),
            },
            ActionConfig::Command {
                program,
                args,
                timeout,
            } => Action::Command {
                program: program.clone(),
                args: args.clone(),
                timeout: *timeout,
            },
        }
    }

    /// Delivers one event.
    pub fn deliver(&mut self, event: &Value) -> Result<(), Failure> {
        match self {
            Action::File(sink) => sink.write(event),
            Action::Webhook {
                agent,
                url,
                headers,
            } => {
                let mut request = agent.post(url.as_str());
                for (k, v) in headers.iter() {
                    request = request.header(k.as_str(), v.as_str());
                }
                match request
                    .header("Content-Type", "application/json")
                    .send(event.to_string().as_bytes())
                {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match status {
                            200..=299 => Ok(()),
                            408 | 429 => Err(Failure::Retry(format!("HTTP {status}"))),
                            400..=499 => Err(Failure::Permanent(format!("HTTP {status}"))),
                            _ => Err(Failure::Retry(format!("HTTP {status}"))),
                        }
                    }
                    Err(e) => Err(Failure::Retry(e.to_string())),
                }
            }
            Action::Command {
                program,
                args,
                timeout,
            } => run_command(program, args, *timeout, event),
        }
    }
}

/// Appends events to a file, rotating it by size.
pub struct FileSink {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    envelope: bool,
    file: Option<(File, u64)>,
}

impl FileSink {
    fn write(&mut self, event: &Value) -> Result<(), Failure> {
        let line = if self.envelope {
            format!("{event}\n")
        } else {
            format!("{}\n", event["detail"])
        };
        let fail = |what: &str, e: std::io::Error| {
            Failure::Retry(format!("{what} {}: {e}", self.path.display()))
        };
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the folder of", e))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| fail("cannot open", e))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            self.file = Some((file, size));
        }
        let size = self.file.as_ref().map_or(0, |(_, s)| *s);
        if size > 0 && size + line.len() as u64 > self.max_bytes {
            self.file = None;
            rotate(&self.path, self.keep).map_err(|e| fail("cannot rotate", e))?;
            return self.write(event);
        }
        let Some((file, size)) = self.file.as_mut() else {
            return Err(Failure::Retry("file not open".into()));
        };
        let written = file
            .write_all(line.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            self.file = None;
            return Err(fail("cannot write", e));
        }
        *size += line.len() as u64;
        Ok(())
    }
}

/// `path` becomes `path.1`, `path.1` becomes `path.2` …, the oldest beyond `keep` goes.
fn rotate(path: &Path, keep: u32) -> std::io::Result<()> {
    let numbered = |n: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    let _ = std::fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        let from = numbered(n);
        if from.exists() {
            std::fs::rename(&from, numbered(n + 1))?;
        }
    }
    std::fs::rename(path, numbered(1))
}

fn run_command(
    program: &str,
    args: &[String],
    timeout: Duration,
    event: &Value,
) -> Result<(), Failure> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Retry(format!("cannot run `{program}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is not an error in itself.
        let _ = stdin.write_all(event.to_string().as_bytes());
    }
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(&mut std::io::Read::take(s, 64 * 1024), &mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Failure::Retry(format!("`{program}`: {e}"))),
        }
    };
    let err = reader.join().unwrap_or_default();
    let err = String::from_utf8_lossy(&err);
    let err: String = err.trim().chars().take(500).collect();
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(Failure::Retry(format!(
            "`{program}` exited with {s}: {err}"
        ))),
        None => Err(Failure::Retry(format!(
            "`{program}` ran longer than {timeout:?} and was killed"
        ))),
    }
}
