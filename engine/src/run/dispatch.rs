//! The dispatch index: which rules an event can match at all, from one field lookup.
//!
//! For each source the index picks the string field that the most rules constrain in
//! their top-level conjunction (`api.operation == "StopLogging"`, `api.operation in
//! (…)`, or the raw `eventName` it reads), and maps each constrained value to its rules.
//! An event then visits the rules listed under its value plus the rules that do not
//! constrain the field, in rule order; the others cannot match, since a test of a field
//! against values it does not have is false (docs/language.md).

use std::collections::{HashMap, HashSet};

use crate::compile::ir::{CmpOp, Cond, FieldRef, Operand, Pred, Test};
use crate::compile::RulePack;
use crate::event::{catalog, Event, FieldDef, FieldType, FieldValue, Source};

/// The field an index dispatches on, with the raw path it reads for the source.
#[derive(Debug, Clone, Copy)]
struct KeyField {
    def: &'static FieldDef,
    raw: Option<&'static [&'static str]>,
}

impl KeyField {
    fn is(&self, field: &FieldRef) -> bool {
        match field {
            FieldRef::Catalog(d) => std::ptr::eq(*d, self.def),
            FieldRef::Raw(path) => self.raw.is_some_and(|raw| {
                raw.len() == path.len()
                    && raw.iter().zip(path).all(
                        |(r, seg)| matches!(seg, picket_grammar::ast::Segment::Name(n) if n == r),
                    )
            }),
            FieldRef::Elem(_) => false,
        }
    }
}

/// The index of one source.
#[derive(Debug, Default)]
struct SourceIndex {
    key: Option<KeyField>,
    by_value: HashMap<Box<str>, Vec<u32>>,
    /// Rules that do not constrain the key (all the source's rules when there is none).
    always: Vec<u32>,
}

/// Per-source dispatch indexes of a pack.
#[derive(Debug, Default)]
pub struct Dispatch {
    sources: [SourceIndex; 5],
}

/// Values of the key field that the condition requires, or `None` when it does not
/// constrain the key.
fn required(cond: &Cond, preds: &[Pred], key: &KeyField) -> Option<HashSet<Box<str>>> {
    match cond {
        Cond::Pred(i) => match &preds.get(*i as usize)?.test {
            Test::Compare {
                lhs: Operand::Field(f),
                op: CmpOp::Eq,
                rhs: Operand::Lit(FieldValue::Str(v)),
            } if key.is(f) => Some(HashSet::from([Box::from(v.as_ref())])),
            Test::In {
                lhs: Operand::Field(f),
                set,
            } if key.is(f) && !set.nocase && set.ints.is_empty() && set.others.is_empty() => {
                Some(set.strings.iter().map(|s| Box::from(s.as_str())).collect())
            }
            _ => None,
        },
        Cond::And(items) => items
            .iter()
            .filter_map(|c| required(c, preds, key))
            .reduce(|a, b| a.intersection(&b).cloned().collect()),
        Cond::Or(items) => {
            items
                .iter()
                .map(|c| required(c, preds, key))
                .try_fold(HashSet::new(), |mut acc, s| {
                    acc.extend(s?);
                    Some(acc)
                })
        }
        Cond::Not(_) | Cond::Const(_) | Cond::Quant { .. } => None,
    }
}

impl Dispatch {
    /// Builds the indexes of a pack.
    pub fn new(pack: &RulePack) -> Dispatch {
        let mut out = Dispatch::default();
        for (slot, source) in out.sources.iter_mut().zip(Source::ALL) {
            let rules = pack.rule_indexes(source);
            // The string field that the most rules constrain.
            let best = catalog::all()
                .iter()
                .filter(|d| d.ty == FieldType::Str && d.applies_to(source))
                .map(|def| {
                    let key = KeyField {
                        def,
                        raw: def.raw_path(source),
                    };
                    let n = rules
                        .iter()
                        .filter(|&&i| {
                            let r = &pack.rules[i as usize];
                            required(&r.cond, &r.preds, &key).is_some()
                        })
                        .count();
                    (n, key)
                })
                .filter(|(n, _)| *n > 0)
                .max_by_key(|(n, key)| (*n, std::cmp::Reverse(key.def.name)));
            let Some((_, key)) = best else {
                slot.always = rules.to_vec();
                continue;
            };
            slot.key = Some(key);
            for &i in rules {
                let r = &pack.rules[i as usize];
                match required(&r.cond, &r.preds, &key) {
                    Some(values) => {
                        for v in values {
                            slot.by_value.entry(v).or_default().push(i);
                        }
                    }
                    None => slot.always.push(i),
                }
            }
        }
        out
    }

    /// Calls `visit` with the index of every rule the event may match, in rule order.
    pub fn candidates(&self, event: &Event, mut visit: impl FnMut(u32)) {
        let slot = &self.sources[Source::ALL
            .iter()
            .position(|s| *s == event.source)
            .unwrap_or(0)];
        let listed: &[u32] = match &slot.key {
            Some(key) => match key.def.get(event) {
                Some(FieldValue::Str(v)) => {
                    slot.by_value.get(v.as_ref()).map_or(&[], Vec::as_slice)
                }
                _ => &[],
            },
            None => &[],
        };
        // Merge two ascending lists.
        let (mut a, mut b) = (listed.iter().peekable(), slot.always.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x <= y => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some(&i) = next {
                visit(i);
            }
        }
    }

    /// A one-line description per source, for `--profile` and tests.
    pub fn describe(&self) -> Vec<String> {
        Source::ALL
            .iter()
            .zip(&self.sources)
            .map(|(s, slot)| match &slot.key {
                Some(k) => format!(
                    "{s}: on {} ({} values, {} rules always visited)",
                    k.def.name,
                    slot.by_value.len(),
                    slot.always.len()
                ),
                None => format!("{s}: no key ({} rules always visited)", slot.always.len()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, PackFiles};

    fn pack(rules: &[(&str, &str)]) -> RulePack {
        let mut files = PackFiles::default();
        for (name, when) in rules {
            let text = format!(
                "id: account.{name}\ntype: Policy:IAMUser/RootCredentialUsage\ntitle: t\nseverity: low\nsource: cloudtrail\ncategory: account\ndescription: d\nwhen: {when}\n"
            );
            files
                .files
                .insert(format!("account/{name}.yaml"), text.into_bytes());
        }
        let compiled = compile(&[files]);
        assert_eq!(compiled.error_count(), 0, "{:?}", compiled.diagnostics);
        compiled.pack
    }

    #[test]
    fn conjunctions_and_disjunctions_constrain_the_key() {
        let p = pack(&[
            (
                "a",
                r#"api.operation == "StopLogging" and outcome == "success""#,
            ),
            ("b", r#"api.operation in ("DeleteTrail", "StopLogging")"#),
            (
                "c",
                r#"eventName == "DeleteTrail" or api.operation == "UpdateTrail""#,
            ),
            ("d", r#"user_agent contains "kali""#),
            ("e", r#"not (api.operation == "StopLogging")"#),
            (
                "f",
                r#"api.operation == "StopLogging" or user_agent contains "x""#,
            ),
            (
                "g",
                r#"api.operation in ("A", "B") and api.operation in ("B", "C")"#,
            ),
        ]);
        let d = Dispatch::new(&p);
        let slot = &d.sources[0];
        assert_eq!(slot.key.map(|k| k.def.name), Some("api.operation"));
        let get = |v: &str| slot.by_value.get(v).cloned().unwrap_or_default();
        assert_eq!(get("StopLogging"), vec![0, 1]);
        assert_eq!(get("DeleteTrail"), vec![1, 2]);
        assert_eq!(get("UpdateTrail"), vec![2]);
        assert_eq!(get("B"), vec![6]);
        assert!(get("A").is_empty() && get("C").is_empty());
        assert_eq!(slot.always, vec![3, 4, 5]);
    }

    #[test]
    fn builtin_pack_is_indexed() {
        let compiled = compile(&[PackFiles::builtin()]);
        let d = Dispatch::new(&compiled.pack);
        let lines = d.describe();
        assert!(
            lines[0].starts_with("cloudtrail: on api.operation"),
            "{lines:?}"
        );
    }
}
