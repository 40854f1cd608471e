//! The findings store: one SQLite file in WAL mode, so `picket findings` reads (and
//! archives) while `picket serve` writes.
//!
//! A finding is one row, keyed by its id (stable for a rule and group key), with the
//! columns the filters use and the whole finding as JSON. [`FindingStore::commit`]
//! writes a batch's findings and the input positions the batch reached in one
//! transaction: after a crash the store holds both or neither, which is what lets a
//! restart read from the positions without losing or double-counting events.
//!
//! The serving store copies its write-ahead log into the database file on a thread of
//! its own ([`Checkpointer`]), not in the commit that fills the log: a checkpoint
//! syncs both files to disk, tens of milliseconds the pipeline would otherwise wait.
//!
//! Writes take the write lock when they start (`BEGIN IMMEDIATE`) and wait up to ten
//! seconds for it, so `picket findings archive` and `picket serve` take turns instead of
//! failing on a busy database.
//!
//! A finding already stored aggregates with the newer one as GuardDuty's do
//! ([`merge_finding`]): the count adds up, first and last seen widen, evidence keeps the
//! first events, and an archive or unarchive by a person stays.
//!
//! What changes on every update of a finding (its count, first and last seen, updated
//! time, archive state) has its own columns, and they are the truth for it: the JSON of
//! the finding is rewritten only when the rest of it changes (new evidence events, new
//! threat intelligence), and every read puts the columns back into it ([`Stored`]). An
//! update of a finding whose evidence is full writes a few columns instead of the
//! whole finding again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{
    params, params_from_iter, Connection, OpenFlags, OptionalExtension, TransactionBehavior,
};
use serde_json::Value;

/// Evidence events kept per finding, as [`crate::finding::Aggregator`] keeps them.
pub const MAX_EVIDENCE_EVENTS: usize = crate::finding::MAX_EVIDENCE_EVENTS;

/// Version of the schema this picket writes (`PRAGMA user_version`). Version 1 kept
/// the whole finding in its JSON; version 2 keeps the fields that change on every update
/// in their columns only. A store of version 1 reads as version 2 and is marked so when
/// `picket serve` opens it; a picket that knows only version 1 then refuses it.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS findings (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    severity    REAL NOT NULL,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    archived    INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finding     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_updated ON findings (updated_at);
CREATE INDEX IF NOT EXISTS findings_last_seen ON findings (last_seen);
CREATE INDEX IF NOT EXISTS findings_type ON findings (type);
CREATE INDEX IF NOT EXISTS findings_account ON findings (account_id);
CREATE TABLE IF NOT EXISTS checkpoints (
    input       TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
";

/// A store error: the database and what failed.
#[derive(Debug, thiserror::Error)]
#[error("findings store {path}: {what}")]
pub struct StoreError {
    /// The database file.
    pub path: PathBuf,
    /// What failed.
    pub what: String,
}

/// A finding after a commit: as now stored.
#[derive(Debug, Clone)]
pub struct Upserted {
    /// Its id.
    pub id: String,
    /// It was not stored before.
    pub new: bool,
    /// The finding as stored (merged with what was there).
    pub finding: Arc<Value>,
}

/// Which findings to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Severity at least this.
    pub min_severity: Option<f64>,
    /// Types: exact, or a prefix when ending in `*`; any of them.
    pub types: Vec<String>,
    /// Accounts; any of them.
    pub accounts: Vec<String>,
    /// Rule id.
    pub rule: Option<String>,
    /// Last seen at or after (RFC 3339).
    pub since: Option<String>,
    /// Last seen at or before (RFC 3339).
    pub until: Option<String>,
    /// Archived or not; `None` for both.
    pub archived: Option<bool>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// Findings kept in memory after a commit, so that the next update of one does not
/// read and parse it again (its archive state is still read: a person may have changed
/// it meanwhile).
const RECENT: usize = 50_000;

/// How often the serving store's log is copied into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Copies the write-ahead log into the database file every [`CHECKPOINT_EVERY`], with
/// a connection of its own, on its own thread; passive checkpoints, so writers never
/// wait for it. Stops when dropped; the last connection to close copies what is left.
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(path, e))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(store = %shown, error = %e, "checkpoint of the findings store failed");
                    }
                }
            })
            .map_err(|e| StoreError {
                path: path.to_path_buf(),
                what: format!("cannot start its checkpoint thread: {e}"),
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The findings store.
pub struct FindingStore {
    path: PathBuf,
    /// Declared before `conn`, so it stops before the writer closes.
    checkpointer: Option<Checkpointer>,
    conn: Connection,
    recent: std::collections::HashMap<String, Arc<Value>>,
}

impl FindingStore {
    /// Opens the store to serve, creating it (and its folder) when missing; its log is
    /// checkpointed by a thread of its own.
    pub fn open(path: &Path) -> Result<FindingStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError {
                path: path.to_path_buf(),
                what: format!("cannot create its folder: {e}"),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| err(path, e))?;
        let mut store = FindingStore {
            path: path.to_path_buf(),
            checkpointer: None,
            conn,
            recent: Default::default(),
        };
        store.setup(true)?;
        store
            .conn
            .execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(|e| store.err(e))?;
        store.checkpointer = Some(Checkpointer::start(path)?);
        Ok(store)
    }

    /// Opens an existing store to read it (and archive findings).
    pub fn open_existing(path: &Path) -> Result<FindingStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError {
                path: path.to_path_buf(),
                what: "no such file".into(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(path, e))?;
        let store = FindingStore {
            path: path.to_path_buf(),
            checkpointer: None,
            conn,
            recent: Default::default(),
        };
        store.setup(false)?;
        Ok(store)
    }

    fn setup(&self, create: bool) -> Result<(), StoreError> {
        let c = &self.conn;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if version > SCHEMA_VERSION {
            return Err(self.error(format!(
                "written by a newer picket (schema {version}; this one reads {SCHEMA_VERSION})"
            )));
        }
        if create {
            let mode: String = c
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(self.error(format!("cannot use WAL mode (journal mode {mode})")));
            }
            c.execute_batch("PRAGMA synchronous=NORMAL;")
                .map_err(|e| self.err(e))?;
            c.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
            c.execute_batch(&format!("PRAGMA user_version={SCHEMA_VERSION};"))
                .map_err(|e| self.err(e))?;
        } else if version == 0 {
            return Err(self.error("not a picket findings store".into()));
        }
        Ok(())
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        err(&self.path, e)
    }

    fn error(&self, what: String) -> StoreError {
        StoreError {
            path: self.path.clone(),
            what,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores findings (aggregating with those already stored) and input positions,
    /// in one transaction: all of it, or nothing.
    pub fn commit(
        &mut self,
        findings: &[Value],
        checkpoints: &[(String, String)],
    ) -> Result<Vec<Upserted>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| err(&path, e))?;
        let mut out = Vec::with_capacity(findings.len());
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for f in findings {
            let id = f["id"]
                .as_str()
                .filter(|id| !id.is_empty())
                .ok_or_else(|| StoreError {
                    path: path.clone(),
                    what: "a finding without an id".into(),
                })?
                .to_string();
            let stored = match self.recent.remove(&id) {
                Some(mut known) => {
                    let archived: Option<bool> = tx
                        .prepare_cached("SELECT archived FROM findings WHERE id = ?1")
                        .and_then(|mut st| st.query_row([&id], |r| r.get(0)).optional())
                        .map_err(|e| err(&path, e))?;
                    archived.map(|a| {
                        set_archived_field(Arc::make_mut(&mut known), a);
                        known
                    })
                }
                None => {
                    let stored: Option<Stored> = tx
                        .prepare_cached(&format!("SELECT {STORED} FROM findings WHERE id = ?1"))
                        .and_then(|mut st| st.query_row([&id], Stored::read).optional())
                        .map_err(|e| err(&path, e))?;
                    match stored {
                        Some(stored) => {
                            Some(Arc::new(stored.finding().map_err(|e| StoreError {
                                path: path.clone(),
                                what: format!("finding {id} is not valid JSON: {e}"),
                            })?))
                        }
                        None => None,
                    }
                }
            };
            let (finding, new, rewrite) = match stored {
                Some(mut old) => {
                    let changed = merge_finding(Arc::make_mut(&mut old), f);
                    (old, false, changed)
                }
                None => (Arc::new(f.clone()), true, true),
            };
            let row = Row::of(&finding);
            if !rewrite {
                tx.prepare_cached(
                    "UPDATE findings SET count = ?2, first_seen = ?3, last_seen = ?4,
                         updated_at = ?5 WHERE id = ?1",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        id,
                        row.count,
                        row.first_seen,
                        row.last_seen,
                        row.updated_at
                    ])
                })
                .map_err(|e| err(&path, e))?;
                out.push(Upserted { id, new, finding });
                continue;
            }
            let mut insert = tx
                .prepare_cached(
                "INSERT INTO findings (id, type, severity, account_id, region, rule_id, archived,
                     count, first_seen, last_seen, created_at, updated_at, finding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(id) DO UPDATE SET
                     severity = excluded.severity, archived = excluded.archived,
                     count = excluded.count, first_seen = excluded.first_seen,
                     last_seen = excluded.last_seen, updated_at = excluded.updated_at,
                     finding = excluded.finding",
                )
                .map_err(|e| err(&path, e))?;
            insert
                .execute(params![
                    id,
                    row.ty,
                    row.severity,
                    row.account,
                    row.region,
                    row.rule,
                    row.archived,
                    row.count,
                    row.first_seen,
                    row.last_seen,
                    row.created_at,
                    row.updated_at,
                    finding.to_string(),
                ])
                .map_err(|e| err(&path, e))?;
            drop(insert);
            out.push(Upserted { id, new, finding });
        }
        for (input, position) in checkpoints {
            tx.prepare_cached(
                "INSERT INTO checkpoints (input, position, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(input) DO UPDATE SET position = excluded.position,
                     updated_at = excluded.updated_at",
            )
            .and_then(|mut st| st.execute(params![input, position, now]))
            .map_err(|e| err(&path, e))?;
        }
        tx.commit().map_err(|e| err(&path, e))?;
        if self.recent.len() + out.len() > RECENT {
            self.recent.clear();
        }
        for u in &out {
            self.recent.insert(u.id.clone(), Arc::clone(&u.finding));
        }
        Ok(out)
    }

    /// The stored position of an input.
    pub fn checkpoint(&self, input: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT position FROM checkpoints WHERE input = ?1",
                [input],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every stored position: `(input, position)`.
    pub fn checkpoints(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT input, position FROM checkpoints ORDER BY input")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The findings that pass `filter`, most recently updated first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Value>, StoreError> {
        let (clause, args) = where_clause(filter);
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let sql = format!(
            "SELECT {STORED} FROM findings{clause} ORDER BY updated_at DESC, id LIMIT {limit}"
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params_from_iter(args.iter()), Stored::read)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for stored in rows {
            let stored = stored.map_err(|e| self.err(e))?;
            out.push(
                stored
                    .finding()
                    .map_err(|e| self.error(format!("a stored finding is not valid JSON: {e}")))?,
            );
        }
        Ok(out)
    }

    /// How many findings pass `filter` (its limit aside).
    pub fn count(&self, filter: &Filter) -> Result<usize, StoreError> {
        let (clause, args) = where_clause(filter);
        let sql = format!("SELECT COUNT(*) FROM findings{clause}");
        self.conn
            .query_row(&sql, params_from_iter(args.iter()), |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// A finding by id, or by a unique prefix of 6 characters or more. `Err` names the
    /// ids an ambiguous prefix matches.
    pub fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let ids = self.resolve(id)?;
        match ids.as_slice() {
            [] => Ok(None),
            [one] => {
                let stored = self
                    .conn
                    .query_row(
                        &format!("SELECT {STORED} FROM findings WHERE id = ?1"),
                        [one],
                        Stored::read,
                    )
                    .map_err(|e| self.err(e))?;
                stored
                    .finding()
                    .map(Some)
                    .map_err(|e| self.error(format!("finding {one} is not valid JSON: {e}")))
            }
            many => Err(self.error(format!(
                "`{id}` is the start of {} findings' ids ({}…); give more of it",
                many.len(),
                many.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The ids `id` names: itself, or those it is a prefix of (6 characters or more).
    pub fn resolve(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let exact: Option<String> = self
            .conn
            .query_row("SELECT id FROM findings WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(exact) = exact {
            return Ok(vec![exact]);
        }
        if id.len() < 6 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Vec::new());
        }
        let mut st = self
            .conn
            .prepare("SELECT id FROM findings WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 10")
            .map_err(|e| self.err(e))?;
        let upper = format!("{id}\u{10FFFF}");
        let rows = st
            .query_map(params![id, upper], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Archives or unarchives findings by id; returns how many changed.
    pub fn set_archived(&mut self, ids: &[String], archived: bool) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| err(&path, e))?;
        let mut changed = 0;
        for id in ids {
            let stored = tx
                .query_row(
                    &format!("SELECT {STORED} FROM findings WHERE id = ?1"),
                    [id],
                    Stored::read,
                )
                .optional()
                .map_err(|e| err(&path, e))?;
            let Some(stored) = stored else { continue };
            if stored.archived == archived {
                continue;
            }
            let mut f = stored.finding().map_err(|e| StoreError {
                path: path.clone(),
                what: format!("finding {id} is not valid JSON: {e}"),
            })?;
            set_archived_field(&mut f, archived);
            tx.execute(
                "UPDATE findings SET archived = ?2, finding = ?3 WHERE id = ?1",
                params![id, archived, f.to_string()],
            )
            .map_err(|e| err(&path, e))?;
            changed += 1;
        }
        tx.commit().map_err(|e| err(&path, e))?;
        Ok(changed)
    }
}

fn err(path: &Path, e: rusqlite::Error) -> StoreError {
    let what = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            "not a SQLite database".to_string()
        }
        _ => e.to_string(),
    };
    StoreError {
        path: path.to_path_buf(),
        what,
    }
}

/// The columns a stored finding is read from: its JSON, and the fields that change on
/// every update, which are kept in their columns only (see the module's comment).
const STORED: &str = "finding, count, first_seen, last_seen, updated_at, archived";

/// A finding as read from [`STORED`].
struct Stored {
    json: String,
    count: i64,
    first_seen: String,
    last_seen: String,
    updated_at: String,
    archived: bool,
}

impl Stored {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            json: r.get(0)?,
            count: r.get(1)?,
            first_seen: r.get(2)?,
            last_seen: r.get(3)?,
            updated_at: r.get(4)?,
            archived: r.get(5)?,
        })
    }

    /// The finding: its JSON with the columns put back in.
    fn finding(self) -> Result<Value, serde_json::Error> {
        let mut f: Value = serde_json::from_str(&self.json)?;
        let text = |s: String| (!s.is_empty()).then_some(Value::String(s));
        if let (Some(obj), Some(updated)) = (f.as_object_mut(), text(self.updated_at)) {
            obj.insert("updatedAt".into(), updated);
        }
        if let Some(service) = f.get_mut("service").and_then(Value::as_object_mut) {
            service.insert("count".into(), Value::from(self.count));
            if let Some(first) = text(self.first_seen) {
                service.insert("eventFirstSeen".into(), first);
            }
            if let Some(last) = text(self.last_seen) {
                service.insert("eventLastSeen".into(), last);
            }
        }
        set_archived_field(&mut f, self.archived);
        Ok(f)
    }
}

/// Sets `service.archived` of a finding.
fn set_archived_field(finding: &mut Value, archived: bool) {
    if let Some(service) = finding.get_mut("service").and_then(Value::as_object_mut) {
        service.insert("archived".into(), Value::Bool(archived));
    }
}

/// The columns of a finding.
struct Row<'f> {
    ty: &'f str,
    severity: f64,
    account: &'f str,
    region: &'f str,
    rule: &'f str,
    archived: bool,
    count: i64,
    first_seen: &'f str,
    last_seen: &'f str,
    created_at: &'f str,
    updated_at: &'f str,
}

impl<'f> Row<'f> {
    fn of(f: &'f Value) -> Row<'f> {
        let s = |v: &'f Value| v.as_str().unwrap_or("");
        Row {
            ty: s(&f["type"]),
            severity: f["severity"].as_f64().unwrap_or(0.0),
            account: s(&f["accountId"]),
            region: s(&f["region"]),
            rule: s(&f["rule"]["id"]),
            archived: f["service"]["archived"].as_bool().unwrap_or(false),
            count: f["service"]["count"].as_i64().unwrap_or(1),
            first_seen: s(&f["service"]["eventFirstSeen"]),
            last_seen: s(&f["service"]["eventLastSeen"]),
            created_at: s(&f["createdAt"]),
            updated_at: s(&f["updatedAt"]),
        }
    }
}

/// ` WHERE …` for a filter, with its parameters (never text from the user in the SQL).
fn where_clause(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    let mut terms: Vec<String> = Vec::new();
    let mut args: Vec<V> = Vec::new();
    if let Some(s) = filter.min_severity {
        args.push(V::Real(s));
        terms.push(format!("severity >= ?{}", args.len()));
    }
    if !filter.types.is_empty() {
        let mut any = Vec::new();
        for t in &filter.types {
            match t.strip_suffix('*') {
                Some(prefix) => {
                    args.push(V::Text(prefix.to_string()));
                    let n = args.len();
                    any.push(format!("substr(type, 1, length(?{n})) = ?{n}"));
                }
                None => {
                    args.push(V::Text(t.clone()));
                    any.push(format!("type = ?{}", args.len()));
                }
            }
        }
        terms.push(format!("({})", any.join(" OR ")));
    }
    if !filter.accounts.is_empty() {
        let mut any = Vec::new();
        for a in &filter.accounts {
            args.push(V::Text(a.clone()));
            any.push(format!("account_id = ?{}", args.len()));
        }
        terms.push(format!("({})", any.join(" OR ")));
    }
    if let Some(rule) = &filter.rule {
        args.push(V::Text(rule.clone()));
        terms.push(format!("rule_id = ?{}", args.len()));
    }
    if let Some(since) = &filter.since {
        args.push(V::Text(since.clone()));
        terms.push(format!("last_seen >= ?{}", args.len()));
    }
    if let Some(until) = &filter.until {
        args.push(V::Text(until.clone()));
        terms.push(format!("last_seen <= ?{}", args.len()));
    }
    if let Some(archived) = filter.archived {
        args.push(V::Integer(i64::from(archived)));
        terms.push(format!("archived = ?{}", args.len()));
    }
    if terms.is_empty() {
        (String::new(), args)
    } else {
        (format!(" WHERE {}", terms.join(" AND ")), args)
    }
}

/// Folds `newer` (the same finding, from later events) into `stored`: counts add, first
/// and last seen widen, `updatedAt` is the later, evidence events keep the first
/// [`MAX_EVIDENCE_EVENTS`] in order, threat intelligence details merge, and the rest
/// (resource, action, `matched`, `createdAt`, the archive state) stays as stored.
/// True when more than the fields kept in their own columns changed (evidence events
/// or threat intelligence were added), so that the finding's JSON must be written again.
pub fn merge_finding(stored: &mut Value, newer: &Value) -> bool {
    let count = stored["service"]["count"].as_u64().unwrap_or(1)
        + newer["service"]["count"].as_u64().unwrap_or(1);
    let widen = |a: &Value, b: &Value, later: bool| -> Value {
        match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => {
                let pick = if (y > x) == later { y } else { x };
                Value::String(pick.to_string())
            }
            (Some(x), None) => Value::String(x.to_string()),
            (None, Some(y)) => Value::String(y.to_string()),
            (None, None) => Value::Null,
        }
    };
    let first = widen(
        &stored["service"]["eventFirstSeen"],
        &newer["service"]["eventFirstSeen"],
        false,
    );
    let last = widen(
        &stored["service"]["eventLastSeen"],
        &newer["service"]["eventLastSeen"],
        true,
    );
    let updated = widen(&stored["updatedAt"], &newer["updatedAt"], true);
    if let Some(obj) = stored.as_object_mut() {
        obj.insert("updatedAt".into(), updated);
    }
    let Some(service) = stored.get_mut("service").and_then(Value::as_object_mut) else {
        return true;
    };
    service.insert("count".into(), Value::from(count));
    service.insert("eventFirstSeen".into(), first);
    service.insert("eventLastSeen".into(), last);
    let Some(evidence) = service.get_mut("evidence") else {
        return false;
    };
    let newer_evidence = &newer["service"]["evidence"];
    let mut changed = false;
    if let (Some(events), Some(more)) = (
        evidence.get_mut("events").and_then(Value::as_array_mut),
        newer_evidence["events"].as_array(),
    ) {
        let room = MAX_EVIDENCE_EVENTS.saturating_sub(events.len());
        let before = events.len();
        events.extend(more.iter().take(room).cloned());
        changed = events.len() != before;
    }
    crate::finding::merge_intel_details(evidence, newer_evidence) || changed
}

#[cfg(test)]
mod tests;
