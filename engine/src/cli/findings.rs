//! `picket findings`: list, show, archive and unarchive the findings of a store written
//! by `picket serve`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use crate::finding::output::table_of_json;
use crate::serve::store::{Filter, FindingStore};

/// Arguments of `picket findings`.
#[derive(clap::Args, Debug)]
pub(super) struct FindingsArgs {
    #[command(subcommand)]
    command: FindingsCommand,
}

/// Where the store is.
#[derive(clap::Args, Debug)]
struct StoreArgs {
    /// The findings store (SQLite file).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Or the serve configuration whose `[store] path` names it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum FindingsCommand {
    /// List findings, most recently updated first (unarchived ones unless asked).
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Minimum severity: `low`, `medium`, `high`, `critical` or a number.
        #[arg(long, value_parser = parse_severity)]
        severity: Option<f64>,
        /// Finding type, exact or a prefix ending in `*` (`Recon:*`); repeatable.
        #[arg(long = "type", value_name = "TYPE")]
        types: Vec<String>,
        /// Account id; repeatable.
        #[arg(long = "account", value_name = "ID")]
        accounts: Vec<String>,
        /// Rule id.
        #[arg(long)]
        rule: Option<String>,
        /// Last seen at or after: RFC 3339, or a duration back from now (`24h`, `7d`).
        #[arg(long, value_parser = parse_time)]
        since: Option<String>,
        /// Last seen at or before: RFC 3339, or a duration back from now.
        #[arg(long, value_parser = parse_time)]
        until: Option<String>,
        /// Only archived findings.
        #[arg(long, conflicts_with = "all")]
        archived: bool,
        /// Archived and unarchived findings.
        #[arg(long)]
        all: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one finding (by id, or a unique start of it of 6 characters or more).
    Show {
        #[command(flatten)]
        store: StoreArgs,
        /// The finding id.
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Archive findings: they stay, marked archived, and stay archived when updated.
    Archive {
        #[command(flatten)]
        store: StoreArgs,
        /// Finding ids (or unique starts of them).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Unarchive findings.
    Unarchive {
        #[command(flatten)]
        store: StoreArgs,
        /// Finding ids (or unique starts of them).
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

fn parse_severity(s: &str) -> Result<f64, String> {
    match s.to_ascii_lowercase().as_str() {
        "low" => Ok(0.0),
        "medium" => Ok(4.0),
        "high" => Ok(7.0),
        "critical" => Ok(9.0),
        other => other
            .parse::<f64>()
            .ok()
            .filter(|n| (0.0..=10.0).contains(n))
            .ok_or_else(|| {
                format!("`{s}`: write low, medium, high, critical or a number from 0 to 10")
            }),
    }
}

/// RFC 3339 as given (normalized to UTC), or now minus a duration.
fn parse_time(s: &str) -> Result<String, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    let back = crate::serve::config::parse_duration(s).map_err(|_| {
        format!("`{s}`: write an RFC 3339 time or a duration back from now (`24h`, `7d`)")
    })?;
    let back = chrono::Duration::from_std(back).map_err(|e| e.to_string())?;
    Ok((chrono::Utc::now() - back).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl StoreArgs {
    fn open(&self) -> Result<FindingStore> {
        let path = match (&self.db, &self.config) {
            (Some(db), _) => db.clone(),
            (None, Some(config)) => store_of(config)?,
            (None, None) => {
                bail!(
                    "which store? give --db FILE, or --config picket.toml to use its [store] path"
                )
            }
        };
        FindingStore::open_existing(&path).map_err(anyhow::Error::new)
    }
}

/// The `[store] path` of a serve configuration, relative to its folder.
fn store_of(config: &Path) -> Result<PathBuf> {
    #[derive(serde::Deserialize, Default)]
    struct Store {
        path: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Partial {
        #[serde(default)]
        store: Store,
    }
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let partial: Partial =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", config.display()))?;
    let rel = partial.store.path.unwrap_or_else(|| "findings.db".into());
    let base = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(base.join(rel))
}

pub(super) fn run(args: FindingsArgs, out: &mut dyn Write) -> Result<u8> {
    match args.command {
        FindingsCommand::List {
            store,
            severity,
            types,
            accounts,
            rule,
            since,
            until,
            archived,
            all,
            limit,
            format,
        } => {
            let store = store.open()?;
            let filter = Filter {
                min_severity: severity,
                types,
                accounts,
                rule,
                since,
                until,
                archived: if all { None } else { Some(archived) },
                limit: Some(limit),
            };
            let findings = store.list(&filter)?;
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut *out, &findings)?;
                    writeln!(out)?;
                }
                Format::Table => {
                    if findings.is_empty() {
                        writeln!(out, "No findings.")?;
                    } else {
                        writeln!(out, "{}", table_of_json(&findings, true))?;
                        let total = store.count(&Filter {
                            limit: None,
                            ..filter
                        })?;
                        if total > findings.len() {
                            writeln!(out, "{} of {total} findings (--limit)", findings.len())?;
                        } else {
                            writeln!(out, "{total} finding(s)")?;
                        }
                    }
                }
            }
            Ok(0)
        }
        FindingsCommand::Show { store, id, format } => {
            let store = store.open()?;
            let Some(finding) = store.get(&id)? else {
                eprintln!("error: no finding `{id}` in {}", store.path().display());
                return Ok(1);
            };
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut *out, &finding)?;
                    writeln!(out)?;
                }
                Format::Table => show_table(&finding, out)?,
            }
            Ok(0)
        }
        FindingsCommand::Archive { store, ids } => set_archived(&store, &ids, true, out),
        FindingsCommand::Unarchive { store, ids } => set_archived(&store, &ids, false, out),
    }
}

fn set_archived(
    store: &StoreArgs,
    ids: &[String],
    archived: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    let mut store = store.open()?;
    let mut resolved = Vec::new();
    let mut unknown = 0;
    for id in ids {
        match store.resolve(id)?.as_slice() {
            [] => {
                eprintln!("error: no finding `{id}`");
                unknown += 1;
            }
            [one] => resolved.push(one.clone()),
            many => {
                eprintln!(
                    "error: `{id}` is the start of {} findings' ids; give more of it",
                    many.len()
                );
                unknown += 1;
            }
        }
    }
    let changed = store.set_archived(&resolved, archived)?;
    let verb = if archived { "archived" } else { "unarchived" };
    writeln!(
        out,
        "{changed} finding(s) {verb}{}",
        if changed < resolved.len() {
            format!(", {} already were", resolved.len() - changed)
        } else {
            String::new()
        }
    )?;
    Ok(if unknown > 0 { 1 } else { 0 })
}

/// One finding for people: the table row, then its text and evidence.
fn show_table(f: &Value, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{}", table_of_json(std::slice::from_ref(f), true))?;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    writeln!(out, "{}\n", s(&f["title"]))?;
    writeln!(out, "{}\n", s(&f["description"]))?;
    writeln!(
        out,
        "first seen {}, last seen {}, {} event(s)",
        s(&f["service"]["eventFirstSeen"]),
        s(&f["service"]["eventLastSeen"]),
        f["service"]["count"]
    )?;
    if let Some(matched) = f["matched"].as_array() {
        writeln!(out, "\nmatched:")?;
        for m in matched {
            writeln!(out, "  {}", m.as_str().unwrap_or(""))?;
        }
    }
    writeln!(
        out,
        "\naction:\n{}",
        serde_json::to_string_pretty(&f["service"]["action"])?
    )?;
    writeln!(
        out,
        "\nevidence:\n{}",
        serde_json::to_string_pretty(&f["service"]["evidence"])?
    )?;
    Ok(())
}
