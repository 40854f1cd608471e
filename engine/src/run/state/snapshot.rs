//! Snapshots: the state store on disk, so baselines and open windows survive a restart
//! and consecutive scans (daily exports) share them.
//!
//! A snapshot is one JSON file written atomically (a temporary file in the same folder,
//! flushed to disk, then renamed over the old one), so a crash leaves the previous
//! snapshot or the new one, never half of one. Each rule's state carries a fingerprint
//! of the rule's conditions and stages: restoring keeps the state of rules whose
//! definition is unchanged, and drops the state of rules that changed or are gone (a
//! changed rule starts fresh rather than reading state it did not write).

use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{RuleEntry, StateStore};
use crate::compile::stateful::{StageOp, Stateful};
use crate::compile::{CompiledRule, RulePack};

/// Version of the snapshot format; a snapshot of another version is not read.
const FORMAT: u32 = 1;

/// What [`StateStore::restore`] kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Rules whose state was restored.
    pub rules: usize,
    /// Rules whose state was dropped (changed or removed since the snapshot).
    pub dropped: usize,
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: u32,
    /// Newest event time per input and source: (source, input, time).
    inputs: Vec<(&'static str, &'a str, i64)>,
    seq: u64,
    counters: Counters,
    rules: Vec<(&'a str, &'a RuleEntry)>,
}

#[derive(Deserialize)]
struct SnapshotIn {
    format: u32,
    inputs: Vec<(String, String, i64)>,
    seq: u64,
    counters: Counters,
    rules: Vec<(String, RuleEntry)>,
}

/// The store's running totals.
#[derive(Serialize, Deserialize)]
struct Counters {
    observed: u64,
    late_events: u64,
    untimed_events: u64,
    evicted_keys: u64,
}

/// A digest of what a rule's state depends on: its sources, predicates and stages.
pub(crate) fn fingerprint(rule: &CompiledRule) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0]);
    };
    put(&rule.meta.source_names());
    for p in &rule.preds {
        put(&p.text);
    }
    match &rule.stateful {
        Some(Stateful::Stages(stages)) => {
            for s in stages {
                put(&s.text);
                put(match s.kind {
                    StageOp::Window(_) => "window",
                    StageOp::Baseline(_) => "baseline",
                });
            }
        }
        Some(Stateful::Sequence(seq)) => {
            for s in &seq.steps {
                put(&s.text);
                put(&s.times.to_string());
            }
            put(&seq.text);
        }
        None => {}
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StateStore {
    /// Writes the state to `path` atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut rules: Vec<(&str, &RuleEntry)> =
            self.rules.iter().map(|(k, v)| (k.as_str(), v)).collect();
        rules.sort_by(|a, b| a.0.cmp(b.0));
        let snap = SnapshotOut {
            format: FORMAT,
            inputs: {
                let mut v: Vec<(&'static str, &str, i64)> = self
                    .inputs
                    .iter()
                    .chain(self.current.as_ref().map(|(k, w)| (k, w)))
                    .map(|((s, f), w)| (s.name(), &**f, w.newest))
                    .collect();
                v.sort_unstable();
                v
            },
            seq: self.seq,
            counters: Counters {
                observed: self.stats.observed,
                late_events: self.stats.late_events,
                untimed_events: self.stats.untimed_events,
                evicted_keys: self.stats.evicted_keys,
            },
            rules,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = (|| {
            let file = std::fs::File::create(&tmp)?;
            let mut w = BufWriter::new(file);
            serde_json::to_writer(&mut w, &snap)?;
            w.flush()?;
            w.get_ref().sync_all()?;
            drop(w);
            std::fs::rename(&tmp, path)?;
            // The rename itself reaches the disk with the folder.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Moves the store to a new pack (a reload): the state of rules whose definition
    /// is unchanged carries over, that of rules that changed or are gone is freed (a
    /// changed rule starts fresh, as after [`StateStore::restore`]).
    pub fn adopt(&mut self, pack: &RulePack) -> Restored {
        let mut kept = Restored::default();
        self.rules.retain(|id, entry| {
            let keep = pack
                .rule(id)
                .filter(|r| r.stateful.is_some())
                .is_some_and(|rule| fingerprint(rule) == entry.fingerprint);
            if keep {
                kept.rules += 1;
            } else {
                kept.dropped += 1;
            }
            keep
        });
        self.bytes = self.rules.values().map(|e| e.state.held_bytes()).sum();
        kept
    }

    /// Restores the state saved at `path` for the rules of `pack` whose definition is
    /// unchanged. The store's configuration stays as it is.
    pub fn restore(&mut self, path: &Path, pack: &RulePack) -> Result<Restored, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let snap: SnapshotIn = serde_json::from_slice(&text).map_err(|e| {
            format!(
                "{}: not a picket state snapshot (line {}, column {}: {e})",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        if snap.format != FORMAT {
            return Err(format!(
                "{}: snapshot format {} (this picket reads format {FORMAT})",
                path.display(),
                snap.format
            ));
        }
        let mut restored = Restored::default();
        self.rules.clear();
        for (id, entry) in snap.rules {
            let current = pack.rule(&id).filter(|r| r.stateful.is_some());
            match current {
                Some(rule) if fingerprint(rule) == entry.fingerprint => {
                    self.rules.insert(id, entry);
                    restored.rules += 1;
                }
                _ => restored.dropped += 1,
            }
        }
        self.current = None;
        self.inputs = snap
            .inputs
            .into_iter()
            .filter_map(|(source, file, newest)| {
                let source = crate::event::Source::from_name(&source)?;
                Some((
                    (source, std::sync::Arc::from(file)),
                    super::Watermark {
                        newest,
                        touched: false,
                    },
                ))
            })
            .collect();
        self.seq = snap.seq;
        self.last_sweep = snap.seq;
        self.stats.observed = snap.counters.observed;
        self.stats.late_events = snap.counters.late_events;
        self.stats.untimed_events = snap.counters.untimed_events;
        self.stats.evicted_keys = snap.counters.evicted_keys;
        self.bytes = self.rules.values().map(|e| e.state.held_bytes()).sum();
        Ok(restored)
    }
}
