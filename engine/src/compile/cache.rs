//! What a reload can reuse from the compilation before it: each YAML file loaded (by
//! its name and bytes), each condition parsed (by its text) and each regular expression
//! built (by its pattern and flags). A reload after one rule file changed loads and
//! parses that file only; names, types, macros and lists are still resolved for every
//! rule, since a change to a macro or a list reaches them all.
//!
//! Entries not used by a compilation are dropped after it, so the cache holds one
//! pack's worth.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use picket_grammar::ast::{Detection, Expr};
use picket_grammar::Diagnostic;

use super::load::Loaded;
use super::FileDiagnostic;

type FileKey = (String, u64);

#[derive(Default)]
struct Entries {
    files: HashMap<FileKey, Result<Loaded, Vec<FileDiagnostic>>>,
    detections: HashMap<String, Result<Detection, Diagnostic>>,
    conditions: HashMap<String, Result<Expr, Diagnostic>>,
    /// By flags, a NUL, and pattern; the error message when it does not build.
    regexes: HashMap<String, Result<regex::Regex, String>>,
    /// Keys used by the compilation under way.
    used_files: Vec<FileKey>,
    used_texts: Vec<String>,
}

/// Loaded files and parsed conditions, shared by successive compilations.
#[derive(Default)]
pub struct ParseCache {
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParseCache")
    }
}

fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut h = siphasher::sip::SipHasher13::new_with_keys(0x7069_636b, 0x6574);
    bytes.hash(&mut h);
    h.finish()
}

impl ParseCache {
    /// The file `name` with these bytes, loaded by `load` when not seen before.
    pub(crate) fn file(
        &self,
        name: &str,
        bytes: &[u8],
        load: impl FnOnce() -> Result<Loaded, Vec<FileDiagnostic>>,
    ) -> Result<Loaded, Vec<FileDiagnostic>> {
        let key = (name.to_string(), bytes_hash(bytes));
        if let Ok(mut e) = self.entries.lock() {
            e.used_files.push(key.clone());
            if let Some(hit) = e.files.get(&key) {
                return hit.clone();
            }
        }
        let loaded = load();
        if let Ok(mut e) = self.entries.lock() {
            e.files.insert(key, loaded.clone());
        }
        loaded
    }

    /// A rule's `when:` parsed.
    pub(crate) fn detection(&self, text: &str) -> Result<Detection, Diagnostic> {
        self.parsed(text, |e| &mut e.detections, picket_grammar::parse_detection)
    }

    /// A macro's body parsed.
    pub(crate) fn condition(&self, text: &str) -> Result<Expr, Diagnostic> {
        self.parsed(text, |e| &mut e.conditions, picket_grammar::parse_condition)
    }

    /// The regular expression of `pattern` with `flags`, built by `build` when not
    /// built before.
    pub(crate) fn regex(
        &self,
        pattern: &str,
        flags: &str,
        build: impl FnOnce(&str) -> Result<regex::Regex, String>,
    ) -> Result<regex::Regex, String> {
        let key = format!("{flags}\0{pattern}");
        self.parsed(&key, |e| &mut e.regexes, |_| build(pattern))
    }

    /// `text` parsed by `parse`, from the map `map` picks when there.
    fn parsed<T: Clone>(
        &self,
        text: &str,
        map: fn(&mut Entries) -> &mut HashMap<String, T>,
        parse: impl FnOnce(&str) -> T,
    ) -> T {
        if let Ok(mut e) = self.entries.lock() {
            e.used_texts.push(text.to_string());
            if let Some(hit) = map(&mut e).get(text) {
                return hit.clone();
            }
        }
        let parsed = parse(text);
        if let Ok(mut e) = self.entries.lock() {
            map(&mut e).insert(text.to_string(), parsed.clone());
        }
        parsed
    }

    /// Drops what the compilation that just ended did not use.
    pub(crate) fn finish(&self) {
        if let Ok(mut e) = self.entries.lock() {
            let files: std::collections::HashSet<FileKey> = e.used_files.drain(..).collect();
            let texts: std::collections::HashSet<String> = e.used_texts.drain(..).collect();
            e.files.retain(|k, _| files.contains(k));
            e.detections.retain(|k, _| texts.contains(k));
            e.conditions.retain(|k, _| texts.contains(k));
            e.regexes.retain(|k, _| texts.contains(k));
        }
    }

    /// Files held.
    pub fn files(&self) -> usize {
        self.entries.lock().map(|e| e.files.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile_with, CompileOptions, PackFiles};
    use std::sync::Arc;

    fn summary(c: &crate::compile::Compiled) -> (Vec<String>, Vec<String>) {
        (
            c.pack
                .rules
                .iter()
                .map(|r| format!("{} {:?}", r.meta.id, r.cond))
                .collect(),
            c.diagnostics.iter().map(|d| d.one_line()).collect(),
        )
    }

    /// A compilation with the cache gives what one without gives, before and after a
    /// file changes, and only the changed file is loaded again.
    #[test]
    fn cached_compilations_equal_fresh_ones() {
        let cache = Arc::new(ParseCache::default());
        let with = CompileOptions {
            cache: Some(Arc::clone(&cache)),
            ..CompileOptions::default()
        };
        let mut packs = vec![PackFiles::builtin()];
        let fresh = compile_with(&packs, &CompileOptions::default());
        let first = compile_with(&packs, &with);
        let second = compile_with(&packs, &with);
        assert_eq!(summary(&fresh), summary(&first));
        assert_eq!(summary(&fresh), summary(&second));
        let files = cache.files();
        assert!(files > 50, "{files} files cached");

        // Change one rule's condition, and break another.
        let (rel, text) = packs[0]
            .files
            .iter()
            .find(|(p, _)| p.ends_with("cloudtrail-logging-disabled.yaml"))
            .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
            .expect("a built-in rule");
        let changed = text.replace("\"StopLogging\", \"DeleteTrail\"", "\"StopLogging\"");
        assert_ne!(changed, text);
        packs[0].files.insert(rel.clone(), changed.into_bytes());
        let (broken_rel, broken) = packs[0]
            .files
            .iter()
            .find(|(p, _)| p.ends_with("password-policy-weakened.yaml"))
            .map(|(p, b)| {
                (
                    p.clone(),
                    String::from_utf8_lossy(b).replace("when: ", "when: (("),
                )
            })
            .expect("a built-in rule");
        packs[0].files.insert(broken_rel, broken.into_bytes());
        let fresh = compile_with(&packs, &CompileOptions::default());
        let cached = compile_with(&packs, &with);
        assert_eq!(summary(&fresh), summary(&cached));
        assert!(fresh.error_count() > 0);
        assert_eq!(cache.files(), files, "the old versions were dropped");
    }
}
