//! The dispatch stage: literal tests of all rules, computed once per event and per
//! field, and the rules an event can match at all.
//!
//! At build time every string test of every rule (`==`, `~=`, `in`, `in~`, `contains`,
//! `startswith`, `endswith`, with or without `~`) is grouped by the field it reads:
//! equality and membership become one hash lookup per field, substring tests one
//! Aho-Corasick automaton per field (one case-sensitive, one ASCII case-insensitive).
//! Identical tests of different rules share one slot. Each rule gets an *anchor*: a set
//! of grouped tests of which one must hold for the rule to match (taken from its
//! top-level `and`, or from every branch of an `or`); rules without one are always
//! visited.
//!
//! Per event, the groups of the event's source run once, giving the truth of every
//! grouped test; the rules whose anchor holds are evaluated, in rule order, by the
//! reference evaluator reading those truths instead of testing again. Semantics are the
//! reference evaluator's (a property test checks it): a missing field makes its tests
//! false, a list holds when an element does, non-strings never pass a string test.

use std::cell::RefCell;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use std::net::IpAddr;

use ipnet::IpNet;
use picket_grammar::ast::StrOp;

use crate::compile::ir::{CmpOp, Cond, FieldRef, Operand, Pred, Test};
use crate::compile::RulePack;
use crate::event::{Event, FieldValue, Source};

/// What a grouped test checks on each value of its field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Literal {
    /// `==` / `in`: equal to one of the values.
    Exact(Vec<String>),
    /// `~=` / `in~`: equal ignoring case (values lower-cased).
    ExactNocase(Vec<String>),
    /// Substring test; the needle is lower-cased ASCII when `nocase`.
    Sub {
        op: u8,
        needle: String,
        nocase: bool,
    },
    /// `matches /…/`: the pattern with inline flags.
    Regex(String),
    /// `in cidr(…)`.
    Cidr(Vec<IpNet>),
    /// `==` / `in` on addresses.
    Ips(Vec<IpAddr>),
    /// `==` / `in` on integers.
    Ints(Vec<i64>),
}

fn op_code(op: StrOp) -> u8 {
    match op {
        StrOp::Contains => 0,
        StrOp::StartsWith => 1,
        StrOp::EndsWith => 2,
    }
}

/// The field and literal of a test that can be grouped.
fn groupable(test: &Test) -> Option<(&FieldRef, Literal)> {
    match test {
        Test::Compare {
            lhs: Operand::Field(f),
            op,
            rhs: Operand::Lit(FieldValue::Str(v)),
        } if !matches!(f, FieldRef::Elem(_)) => match op {
            CmpOp::Eq => Some((f, Literal::Exact(vec![v.to_string()]))),
            CmpOp::EqNocase => Some((f, Literal::ExactNocase(vec![v.to_lowercase()]))),
            _ => None,
        },
        Test::In {
            lhs: Operand::Field(f),
            set,
        } if !matches!(f, FieldRef::Elem(_)) && set.ints.is_empty() && set.others.is_empty() => {
            let mut values: Vec<String> = set.strings.iter().cloned().collect();
            values.sort();
            Some((
                f,
                if set.nocase {
                    Literal::ExactNocase(values)
                } else {
                    Literal::Exact(values)
                },
            ))
        }
        Test::Str {
            lhs: Operand::Field(f),
            op,
            needle,
        } if !matches!(f, FieldRef::Elem(_))
            && !needle.text.is_empty()
            && (!needle.nocase || needle.text.is_ascii()) =>
        {
            Some((
                f,
                Literal::Sub {
                    op: op_code(*op),
                    needle: needle.text.clone(),
                    nocase: needle.nocase,
                },
            ))
        }
        Test::In {
            lhs: Operand::Field(f),
            set,
        } if !matches!(f, FieldRef::Elem(_))
            && set.strings.is_empty()
            && set.ints.is_empty()
            && !set.others.is_empty()
            && set.others.iter().all(|o| matches!(o, FieldValue::Ip(_))) =>
        {
            let mut ips: Vec<IpAddr> = set
                .others
                .iter()
                .filter_map(|o| match o {
                    FieldValue::Ip(ip) => Some(*ip),
                    _ => None,
                })
                .collect();
            ips.sort();
            Some((f, Literal::Ips(ips)))
        }
        Test::Compare {
            lhs: Operand::Field(f),
            op: CmpOp::Eq,
            rhs: Operand::Lit(FieldValue::Ip(ip)),
        } if !matches!(f, FieldRef::Elem(_)) => Some((f, Literal::Ips(vec![*ip]))),
        Test::Compare {
            lhs: Operand::Field(f),
            op: CmpOp::Eq,
            rhs: Operand::Lit(FieldValue::Int(i)),
        } if !matches!(f, FieldRef::Elem(_)) => Some((f, Literal::Ints(vec![*i]))),
        Test::In {
            lhs: Operand::Field(f),
            set,
        } if !matches!(f, FieldRef::Elem(_))
            && set.strings.is_empty()
            && set.others.is_empty()
            && !set.ints.is_empty() =>
        {
            let mut ints: Vec<i64> = set.ints.iter().copied().collect();
            ints.sort_unstable();
            Some((f, Literal::Ints(ints)))
        }
        Test::Regex {
            lhs: Operand::Field(f),
            source,
            ..
        } if !matches!(f, FieldRef::Elem(_)) => Some((f, Literal::Regex(source.clone()))),
        Test::Cidr {
            lhs: Operand::Field(f),
            nets,
        } if !matches!(f, FieldRef::Elem(_)) => Some((f, Literal::Cidr(nets.clone()))),
        _ => None,
    }
}

fn same_field(a: &FieldRef, b: &FieldRef) -> bool {
    match (a, b) {
        (FieldRef::Catalog(x), FieldRef::Catalog(y)) => std::ptr::eq(*x, *y),
        (FieldRef::Raw(x), FieldRef::Raw(y)) => x == y,
        _ => false,
    }
}

/// Substring patterns of one field and one case mode.
#[derive(Debug)]
struct Patterns {
    automaton: AhoCorasick,
    /// Per pattern: operator code and the grouped tests it decides.
    targets: Vec<(u8, u32)>,
}

impl Patterns {
    fn build(items: &[(u8, String, u32)], nocase: bool) -> Option<Patterns> {
        if items.is_empty() {
            return None;
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(nocase)
            .build(items.iter().map(|(_, n, _)| n.as_str()))
            .ok()?;
        Some(Patterns {
            automaton,
            targets: items.iter().map(|(op, _, id)| (*op, *id)).collect(),
        })
    }

    fn run(&self, hay: &str, truth: &mut [u64]) {
        for m in self.automaton.find_overlapping_iter(hay) {
            let (op, id) = self.targets[m.pattern().as_usize()];
            let holds = match op {
                0 => true,
                1 => m.start() == 0,
                _ => m.end() == hay.len(),
            };
            if holds {
                set_bit(truth, id);
            }
        }
    }
}

/// Every grouped test on one field.
#[derive(Debug)]
struct FieldGroup {
    field: FieldRef,
    exact: HashMap<Box<str>, Vec<u32>>,
    exact_nocase: HashMap<Box<str>, Vec<u32>>,
    subs: Vec<(u8, String, u32)>,
    subs_nocase: Vec<(u8, String, u32)>,
    patterns: Option<Patterns>,
    patterns_nocase: Option<Patterns>,
    regexes: Vec<(String, u32)>,
    regex_set: Option<Regexes>,
    nets: Vec<(IpNet, u32)>,
    ips: HashMap<IpAddr, Vec<u32>>,
    ints: HashMap<i64, Vec<u32>>,
}

/// Regular expressions of one field: one set, or one by one when the set is too big.
#[derive(Debug)]
enum Regexes {
    Set(regex::RegexSet, Vec<u32>),
    Each(Vec<(regex::Regex, u32)>),
}

impl Regexes {
    fn build(items: &[(String, u32)]) -> Option<Regexes> {
        if items.is_empty() {
            return None;
        }
        let ids = items.iter().map(|(_, id)| *id).collect();
        let set = regex::RegexSetBuilder::new(items.iter().map(|(p, _)| p))
            .size_limit(1 << 26)
            .dfa_size_limit(1 << 26)
            .build();
        match set {
            Ok(set) => Some(Regexes::Set(set, ids)),
            // Each pattern compiled on its own when the rules were compiled, so this
            // only fails on size: test them one by one.
            Err(_) => Some(Regexes::Each(
                items
                    .iter()
                    .filter_map(|(p, id)| regex::Regex::new(p).ok().map(|re| (re, *id)))
                    .collect(),
            )),
        }
    }

    fn run(&self, hay: &str, truth: &mut [u64]) {
        match self {
            Regexes::Set(set, ids) => {
                for i in set.matches(hay).iter() {
                    set_bit(truth, ids[i]);
                }
            }
            Regexes::Each(list) => {
                for (re, id) in list {
                    if re.is_match(hay) {
                        set_bit(truth, *id);
                    }
                }
            }
        }
    }
}

impl FieldGroup {
    fn new(field: FieldRef) -> FieldGroup {
        FieldGroup {
            field,
            exact: HashMap::new(),
            exact_nocase: HashMap::new(),
            subs: Vec::new(),
            subs_nocase: Vec::new(),
            patterns: None,
            patterns_nocase: None,
            regexes: Vec::new(),
            regex_set: None,
            nets: Vec::new(),
            ips: HashMap::new(),
            ints: HashMap::new(),
        }
    }

    fn add(&mut self, literal: &Literal, id: u32) {
        match literal {
            Literal::Exact(values) => {
                for v in values {
                    self.exact.entry(v.as_str().into()).or_default().push(id);
                }
            }
            Literal::ExactNocase(values) => {
                for v in values {
                    self.exact_nocase
                        .entry(v.as_str().into())
                        .or_default()
                        .push(id);
                }
            }
            Literal::Sub { op, needle, nocase } => {
                let list = if *nocase {
                    &mut self.subs_nocase
                } else {
                    &mut self.subs
                };
                list.push((*op, needle.clone(), id));
            }
            Literal::Regex(source) => self.regexes.push((source.clone(), id)),
            Literal::Cidr(nets) => self.nets.extend(nets.iter().map(|n| (*n, id))),
            Literal::Ips(ips) => {
                for ip in ips {
                    self.ips.entry(*ip).or_default().push(id);
                }
            }
            Literal::Ints(ints) => {
                for i in ints {
                    self.ints.entry(*i).or_default().push(id);
                }
            }
        }
    }

    fn finish(&mut self) {
        self.patterns = Patterns::build(&self.subs, false);
        self.patterns_nocase = Patterns::build(&self.subs_nocase, true);
        self.regex_set = Regexes::build(&self.regexes);
    }

    fn run(&self, event: &Event, truth: &mut [u64]) {
        let Some(value) = self.field.get(event) else {
            return;
        };
        let strings = !self.exact.is_empty()
            || !self.exact_nocase.is_empty()
            || self.patterns.is_some()
            || self.patterns_nocase.is_some()
            || self.regex_set.is_some();
        if !self.ints.is_empty() {
            for_each_leaf(&value, &mut |v| {
                // Numbers compare by value: a whole float equals the integer.
                let i = match v {
                    FieldValue::Int(i) => Some(*i),
                    FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
                    _ => None,
                };
                if let Some(ids) = i.and_then(|i| self.ints.get(&i)) {
                    ids.iter().for_each(|&id| set_bit(truth, id));
                }
            });
        }
        if !self.ips.is_empty() {
            for_each_leaf(&value, &mut |v| {
                // Addresses, and strings that parse as addresses (as `==` compares them).
                let ip = match v {
                    FieldValue::Ip(ip) => Some(*ip),
                    FieldValue::Str(s) => s.parse().ok(),
                    _ => None,
                };
                if let Some(ids) = ip.and_then(|ip| self.ips.get(&ip)) {
                    ids.iter().for_each(|&id| set_bit(truth, id));
                }
            });
        }
        if !self.nets.is_empty() {
            for_each_leaf(&value, &mut |v| {
                let ip = match v {
                    FieldValue::Ip(ip) => Some(*ip),
                    FieldValue::Str(s) => s.parse().ok(),
                    _ => None,
                };
                if let Some(ip) = ip {
                    for (net, id) in &self.nets {
                        if net.contains(&ip) {
                            set_bit(truth, *id);
                        }
                    }
                }
            });
        }
        if !strings {
            return;
        }
        for_each_leaf(&value, &mut |v| {
            let FieldValue::Str(s) = v else {
                return;
            };
            let s: &str = s;
            if let Some(re) = &self.regex_set {
                re.run(s, truth);
            }
            if let Some(ids) = self.exact.get(s) {
                ids.iter().for_each(|&id| set_bit(truth, id));
            }
            if !self.exact_nocase.is_empty() {
                let lower = s.to_lowercase();
                if let Some(ids) = self.exact_nocase.get(lower.as_str()) {
                    ids.iter().for_each(|&id| set_bit(truth, id));
                }
            }
            if let Some(p) = &self.patterns {
                p.run(s, truth);
            }
            if let Some(p) = &self.patterns_nocase {
                p.run(s, truth);
            }
        });
    }
}

/// Every non-list value, looking into lists (a test on a list holds for any element).
fn for_each_leaf(v: &FieldValue<'_>, f: &mut dyn FnMut(&FieldValue<'_>)) {
    match v {
        FieldValue::List(items) => items.iter().for_each(|i| for_each_leaf(i, f)),
        leaf => f(leaf),
    }
}

fn set_bit(truth: &mut [u64], id: u32) {
    if let Some(w) = truth.get_mut(id as usize / 64) {
        *w |= 1 << (id % 64);
    }
}

fn get(truth: &[u64], id: u32) -> bool {
    truth
        .get(id as usize / 64)
        .is_some_and(|w| w & (1 << (id % 64)) != 0)
}

/// The plan of one source.
#[derive(Debug, Default)]
struct SourcePlan {
    groups: Vec<FieldGroup>,
    /// Grouped tests.
    slots: usize,
    /// Per rule of the pack (empty for rules of other sources): the slot of each of its
    /// predicates, `u32::MAX` when not grouped.
    pred_slots: Vec<Vec<u32>>,
    /// Per slot: the rules anchored on it.
    anchored: Vec<Vec<u32>>,
    /// Rules without an anchor.
    always: Vec<u32>,
    /// Rules anchored on some slot, for statistics.
    anchored_rules: usize,
    /// The group of each slot.
    slot_group: Vec<u32>,
    /// Groups run for every event (they hold anchors); the others' tests are left to
    /// the evaluator, which runs them only for the rules that need them.
    eager: Vec<bool>,
}

/// Slots, in groups that `usable` accepts, of which one must hold for the condition to
/// hold; `None` when there are none.
fn anchor(
    cond: &Cond,
    slots: &[u32],
    slot_group: &[u32],
    usable: &dyn Fn(u32) -> bool,
) -> Option<Vec<u32>> {
    match cond {
        Cond::Pred(i) => slots
            .get(*i as usize)
            .filter(|s| **s != u32::MAX && usable(slot_group[**s as usize]))
            .map(|s| vec![*s]),
        Cond::And(items) => items
            .iter()
            .filter_map(|c| anchor(c, slots, slot_group, usable))
            .min_by_key(Vec::len),
        Cond::Or(items) => items.iter().try_fold(Vec::new(), |mut acc, c| {
            acc.extend(anchor(c, slots, slot_group, usable)?);
            Some(acc)
        }),
        Cond::Not(_) | Cond::Const(_) | Cond::Quant { .. } => None,
    }
}

/// A raw path that is exactly what a string catalog field reads for the source is that
/// field (`eventName` is `api.operation` for CloudTrail), so both share a group.
fn canonical(field: &FieldRef, source: Source) -> FieldRef {
    if let FieldRef::Raw(path) = field {
        let names: Option<Vec<&str>> = path
            .iter()
            .map(|seg| match seg {
                picket_grammar::ast::Segment::Name(n) => Some(n.as_str()),
                picket_grammar::ast::Segment::Index(_) => None,
            })
            .collect();
        if let Some(names) = names {
            if let Some(def) = crate::event::catalog::all().iter().find(|d| {
                d.ty == crate::event::FieldType::Str
                    && d.raw_path(source).is_some_and(|p| p == names.as_slice())
            }) {
                return FieldRef::Catalog(def);
            }
        }
    }
    field.clone()
}

impl SourcePlan {
    /// Anchors rule `r` on slots of the groups `usable` accepts; false when it has none.
    fn try_anchor(&mut self, pack: &RulePack, r: u32, usable: &dyn Fn(u32) -> bool) -> bool {
        let rule = &pack.rules[r as usize];
        let Some(anchors) = anchor(
            &rule.cond,
            &self.pred_slots[r as usize],
            &self.slot_group,
            usable,
        ) else {
            return false;
        };
        for a in anchors {
            let list = &mut self.anchored[a as usize];
            if list.last() != Some(&r) {
                list.push(r);
            }
        }
        self.anchored_rules += 1;
        true
    }

    fn build(pack: &RulePack, source: Source) -> SourcePlan {
        let mut plan = SourcePlan {
            pred_slots: vec![Vec::new(); pack.rules.len()],
            ..SourcePlan::default()
        };
        let mut ids: HashMap<(usize, Literal), u32> = HashMap::new();
        for &r in pack.rule_indexes(source) {
            let rule = &pack.rules[r as usize];
            let slots: Vec<u32> = rule
                .preds
                .iter()
                .map(|p: &Pred| {
                    let Some((field, literal)) = groupable(&p.test) else {
                        return u32::MAX;
                    };
                    let field = canonical(field, source);
                    let g = match plan
                        .groups
                        .iter()
                        .position(|g| same_field(&g.field, &field))
                    {
                        Some(g) => g,
                        None => {
                            plan.groups.push(FieldGroup::new(field));
                            plan.groups.len() - 1
                        }
                    };
                    let next = ids.len() as u32;
                    let id = *ids.entry((g, literal.clone())).or_insert(next);
                    if id == next {
                        plan.groups[g].add(&literal, id);
                    }
                    id
                })
                .collect();
            plan.pred_slots[r as usize] = slots;
        }
        plan.slots = ids.len();
        plan.slot_group = vec![0; plan.slots];
        for ((g, _), id) in &ids {
            plan.slot_group[*id as usize] = *g as u32;
        }
        // Greedy: the group that anchors the most rules not yet anchored, then the next.
        let mut remaining: Vec<u32> = pack.rule_indexes(source).to_vec();
        plan.eager = vec![false; plan.groups.len()];
        plan.anchored = vec![Vec::new(); plan.slots];
        loop {
            // Score: how finely the group splits the rules (distinct anchor slots), then
            // how many it anchors. `outcome == "success"` anchors many rules on one slot
            // that nearly every event sets; `api.operation` spreads them over many.
            let best = (0..plan.groups.len() as u32)
                .filter(|g| !plan.eager[*g as usize])
                .map(|g| {
                    let mut slots = std::collections::HashSet::new();
                    let mut n = 0;
                    for &r in &remaining {
                        let rule = &pack.rules[r as usize];
                        if let Some(a) = anchor(
                            &rule.cond,
                            &plan.pred_slots[r as usize],
                            &plan.slot_group,
                            &|x| x == g,
                        ) {
                            n += 1;
                            slots.extend(a);
                        }
                    }
                    ((slots.len(), n), std::cmp::Reverse(g))
                })
                .max();
            let Some(((_, n), std::cmp::Reverse(g))) = best else {
                break;
            };
            if n == 0 {
                break;
            }
            plan.eager[g as usize] = true;
            remaining.retain(|&r| !plan.try_anchor(pack, r, &|x| x == g));
        }
        // Then `or`s whose branches are anchored in different eager groups.
        let eager = plan.eager.clone();
        remaining.retain(|&r| !plan.try_anchor(pack, r, &|x| eager[x as usize]));
        plan.always = remaining;
        for g in &mut plan.groups {
            g.finish();
        }
        plan
    }
}

/// The truth of a rule's predicate (by its index in the rule) when the dispatch stage
/// computed it.
pub type Known<'a> = dyn Fn(u32) -> Option<bool> + 'a;

/// Called with each candidate rule and what is known of its predicates.
pub type Visit<'a> = dyn FnMut(u32, &Known<'_>) + 'a;

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    truth: Vec<u64>,
    candidates: Vec<u32>,
    seen: Vec<u32>,
    stamp: u32,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Per-source plans of a pack.
#[derive(Debug, Default)]
pub struct Dispatch {
    sources: [SourcePlan; 5],
    rules: usize,
}

impl Dispatch {
    /// Builds the plans of a pack.
    pub fn new(pack: &RulePack) -> Dispatch {
        let mut out = Dispatch {
            rules: pack.rules.len(),
            ..Dispatch::default()
        };
        for (slot, source) in out.sources.iter_mut().zip(Source::ALL) {
            *slot = SourcePlan::build(pack, source);
        }
        out
    }

    fn plan(&self, source: Source) -> &SourcePlan {
        &self.sources[Source::ALL.iter().position(|s| *s == source).unwrap_or(0)]
    }

    /// Calls `visit(rule, known)` for every rule the event may match, in rule order;
    /// `known(pred)` is the truth of the rule's predicate `pred` when the dispatch
    /// stage already computed it.
    pub fn candidates(&self, event: &Event, visit: &mut Visit<'_>) {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.candidates_in(event, &mut scratch, visit),
            // Re-entered from inside `visit`: use fresh buffers.
            Err(_) => self.candidates_in(event, &mut Scratch::default(), visit),
        })
    }

    fn candidates_in(&self, event: &Event, scratch: &mut Scratch, visit: &mut Visit<'_>) {
        let plan = self.plan(event.source);
        let Scratch {
            truth,
            candidates,
            seen,
            stamp,
        } = scratch;
        truth.clear();
        truth.resize(plan.slots.div_ceil(64), 0);
        for (g, eager) in plan.groups.iter().zip(&plan.eager) {
            if *eager {
                g.run(event, truth);
            }
        }
        if seen.len() < self.rules {
            seen.resize(self.rules, 0);
        }
        *stamp = stamp.wrapping_add(1);
        if *stamp == 0 {
            seen.iter_mut().for_each(|s| *s = 0);
            *stamp = 1;
        }
        candidates.clear();
        candidates.extend_from_slice(&plan.always);
        for (w, word) in truth.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                for &r in plan.anchored.get(slot).map_or(&[][..], Vec::as_slice) {
                    if seen[r as usize] != *stamp {
                        seen[r as usize] = *stamp;
                        candidates.push(r);
                    }
                }
            }
        }
        candidates.sort_unstable();
        let truth: &[u64] = truth;
        for &r in candidates.iter() {
            let slots = &plan.pred_slots[r as usize];
            let known = |pred: u32| {
                slots
                    .get(pred as usize)
                    .filter(|s| {
                        **s != u32::MAX && plan.eager[plan.slot_group[**s as usize] as usize]
                    })
                    .map(|s| get(truth, *s))
            };
            visit(r, &known);
        }
    }

    /// A one-line description per source, for profiles and tests.
    pub fn describe(&self) -> Vec<String> {
        Source::ALL
            .iter()
            .zip(&self.sources)
            .map(|(s, p)| {
                let eager: Vec<String> = p
                    .groups
                    .iter()
                    .zip(&p.eager)
                    .filter(|(_, e)| **e)
                    .map(|(g, _)| format!("{:?}", g.field))
                    .collect();
                format!(
                    "{s}: {} grouped tests on {} fields, anchors on [{}], {} rules anchored, {} always visited",
                    p.slots,
                    p.groups.len(),
                    eager.join(", "),
                    p.anchored_rules,
                    p.always.len()
                )
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
    fn anchors_come_from_conjunctions_and_every_branch_of_disjunctions() {
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
        let plan = &d.sources[0];
        // Identical tests share a slot: `api.operation == "StopLogging"` of a and f.
        assert_eq!(plan.pred_slots[0][0], plan.pred_slots[5][0]);
        // d is anchored on its `contains`; e (a negation) and f (an `or` with an
        // ungroupable-free branch) are too / are not.
        assert_eq!(plan.always, vec![4]);
        assert_eq!(plan.anchored_rules, 6);
    }

    #[test]
    fn builtin_pack_is_indexed() {
        let compiled = compile(&[PackFiles::builtin()]);
        let d = Dispatch::new(&compiled.pack);
        let lines = d.describe();
        assert!(lines[0].starts_with("cloudtrail: "), "{lines:?}");
        // Every built-in rule has an anchor; CloudTrail dispatches on the API first.
        assert!(d.sources.iter().all(|p| p.always.is_empty()), "{lines:?}");
        assert!(lines[0].contains("anchors on [api.operation"), "{lines:?}");
    }
}
