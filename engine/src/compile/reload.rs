//! Reloading packs and lists when their files change.
//!
//! A [`Reloader`] knows what to compile (pack folders, the built-in pack, lists given on
//! the command line, geo databases) and the last compiled result. [`Reloader::reload`]
//! reads everything again and compiles it off to the side, with the lists loaded before
//! as `previous_intel`: a list whose file is now broken keeps its last good version (its
//! errors are reported), an unchanged list is reused, not read again; unchanged rule files
//! are not loaded or parsed again ([`super::cache`]). The caller decides
//! what to do with the new [`Compiled`] (run it, or keep the old one when rules fail);
//! [`Reloader::engine`] builds its engine with the automata and regex sets of the
//! engine before reused ([`crate::run::builds`]).
//!
//! [`watch`] turns file changes into reloads: it watches the pack folders and the list
//! files with `notify`, waits until writes have been quiet for a moment (a feed written
//! in several chunks is read once, whole), and calls back.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use super::{compile_with, CompileOptions, Compiled, PackFiles};
use crate::intel::Intel;
use crate::run::builds::BuildCache;
use crate::run::Engine;

/// What to compile, and the lists of the last compilation.
pub struct Reloader {
    dirs: Vec<PathBuf>,
    builtin: bool,
    options: CompileOptions,
    intel: Mutex<Option<Arc<Intel>>>,
    cache: Arc<super::cache::ParseCache>,
    builds: BuildCache,
}

impl Reloader {
    /// A reloader of the packs in `dirs` (after the built-in pack when `builtin`), with
    /// `options` (lists from the command line, geo databases).
    pub fn new(dirs: Vec<PathBuf>, builtin: bool, options: CompileOptions) -> Reloader {
        Reloader {
            dirs,
            builtin,
            options,
            intel: Mutex::new(None),
            cache: Arc::default(),
            builds: BuildCache::default(),
        }
    }

    /// The engine of a pack this reloader compiled: the field groups whose tests are
    /// those of the engine built before take its automata and regex sets.
    pub fn engine(&self, pack: super::RulePack) -> Engine {
        Engine::with_cache(pack, &self.builds)
    }

    /// Reads the packs and lists again and compiles them. Lists that fail to load keep
    /// their version from the last call (their errors are in the diagnostics).
    pub fn reload(&self) -> std::io::Result<Compiled> {
        Ok(self.reload_packs()?.1)
    }

    /// [`Reloader::reload`], returning the packs read as well (to run their tests).
    pub fn reload_packs(&self) -> std::io::Result<(Vec<PackFiles>, Compiled)> {
        let mut packs = Vec::new();
        if self.builtin {
            packs.push(PackFiles::builtin());
        }
        for dir in &self.dirs {
            packs.push(PackFiles::from_dir(dir)?);
        }
        let previous = self.intel.lock().map(|g| g.clone()).unwrap_or(None);
        let options = CompileOptions {
            previous_intel: previous,
            cache: Some(Arc::clone(&self.cache)),
            ..self.options.clone()
        };
        let compiled = compile_with(&packs, &options);
        if let Ok(mut last) = self.intel.lock() {
            *last = Some(Arc::clone(&compiled.pack.intel));
        }
        Ok((packs, compiled))
    }

    /// What [`watch`] should watch: the pack folders and the files of the lists given
    /// outside them.
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        let mut paths = self.dirs.clone();
        paths.extend(self.options.lists.iter().map(|l| l.path.clone()));
        paths
    }
}

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    _thread: std::thread::JoinHandle<()>,
}

/// Calls `changed` once writes under `paths` (folders, recursively, or files) have been
/// quiet for `quiet`. Changes that come while `changed` runs cause one more call.
pub fn watch(
    paths: &[impl AsRef<Path>],
    quiet: Duration,
    mut changed: impl FnMut() + Send + 'static,
) -> notify::Result<Watch> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = event.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_)));
        if relevant {
            let _ = tx.send(());
        }
    })?;
    for path in paths {
        let path = path.as_ref();
        // A file is watched through its folder, so that an editor's write-and-rename
        // (a new inode) is still seen.
        let (target, mode) = if path.is_dir() {
            (path.to_path_buf(), RecursiveMode::Recursive)
        } else {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (dir.to_path_buf(), RecursiveMode::NonRecursive)
        };
        watcher.watch(&target, mode)?;
    }
    let thread = std::thread::spawn(move || {
        // Wait for a change, then for `quiet` without one.
        while rx.recv().is_ok() {
            loop {
                match rx.recv_timeout(quiet) {
                    Ok(()) => continue,
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            changed();
        }
    });
    Ok(Watch {
        _watcher: watcher,
        _thread: thread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FieldValue;
    use std::time::Instant;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).expect("write a test file");
    }

    /// A list file edited while watched: the change is picked up, a broken version keeps
    /// the last good list (with its error reported), and a fixed version loads.
    #[test]
    fn a_watched_list_reloads_and_a_broken_one_keeps_the_last_good_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pack = dir.path().join("pack");
        std::fs::create_dir_all(pack.join("intel")).expect("mkdir");
        write(
            &pack.join("intel/lists.yaml"),
            "intel:\n  feed:\n    kind: threat\n    file: feed.txt\n",
        );
        write(&pack.join("intel/feed.txt"), "198.51.100.7\n");
        let reloader = Arc::new(Reloader::new(
            vec![pack.clone()],
            false,
            CompileOptions::default(),
        ));
        let first = reloader.reload().expect("reads the pack");
        assert_eq!(first.error_count(), 0);
        let holds = |c: &Compiled, ip: &str| {
            let list = c.pack.intel.get("feed").expect("feed loaded");
            list.contains(&FieldValue::Ip(ip.parse().expect("address")))
        };
        assert!(holds(&first, "198.51.100.7"));

        let (tx, rx) = mpsc::channel();
        let r = Arc::clone(&reloader);
        let _watch = watch(
            &reloader.watched_paths(),
            Duration::from_millis(100),
            move || {
                let _ = tx.send(r.reload());
            },
        )
        .expect("watch the pack");
        // The reload that shows what is awaited, within 10 s (a write may be seen as
        // several changes, so earlier reloads are passed over).
        let until = |what: &str, done: &dyn Fn(&Compiled) -> bool| -> Compiled {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(Ok(c)) if done(&c) => return c,
                    Ok(Ok(_)) => continue,
                    Ok(Err(e)) => panic!("{what}: {e}"),
                    Err(_) => panic!("{what}: no such reload within 10 s"),
                }
            }
        };

        write(&pack.join("intel/feed.txt"), "198.51.100.7\n203.0.113.9\n");
        until("the added entry", &|c| holds(c, "203.0.113.9"));

        write(
            &pack.join("intel/feed.txt"),
            "203.0.113.10\n203.0.113.300\n",
        );
        let third = until("the broken file", &|c| c.error_count() > 0);
        let errors: Vec<String> = third.diagnostics.iter().map(|d| d.render(false)).collect();
        assert!(
            errors.iter().any(|e| e.contains("feed.txt:2:1")),
            "the error names the line: {errors:?}"
        );
        assert!(
            holds(&third, "203.0.113.9") && !holds(&third, "203.0.113.10"),
            "the last good list stays"
        );

        write(&pack.join("intel/feed.txt"), "203.0.113.10\n");
        let fourth = until("the fixed file", &|c| holds(c, "203.0.113.10"));
        assert_eq!(fourth.error_count(), 0);
        assert!(!holds(&fourth, "198.51.100.7"));
    }
}
