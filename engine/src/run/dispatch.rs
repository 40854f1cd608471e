//! The dispatch stage: literal tests of all rules, computed once per event and per
//! field, and the rules an event can match at all.
//!
//! At build time every string, address and integer test of every rule (`==`, `~=`,
//! `in`, `in~`, `contains`, `startswith`, `endswith` with or without `~`, `matches`,
//! `in cidr(…)`) is grouped by the field it reads and by cost: equality and membership
//! become one hash lookup per field, networks one table of address ranges (a binary
//! search), substrings one Aho-Corasick automaton per field (with a SIMD detector in
//! front that says whether any needle occurs at all), regexes one regex set. Identical
//! tests of different rules share one slot. Each rule gets an *anchor*: grouped tests
//! of which one must hold for the rule to match (from its top-level `and`, or from every
//! branch of an `or`), taken from cheap groups first; rules without one are always
//! visited.
//!
//! Per event, the groups holding anchors run; the rules whose anchor held are the
//! candidates. A candidate is dropped as soon as one of its required tests (top-level
//! conjuncts) is false, running the group of that test only then; the survivors are
//! evaluated, in rule order, by the reference evaluator reading the truths of their
//! grouped tests instead of testing again. Fields are read once per event
//! ([`Projection`]). Costly groups remember, per thread, which of their tests held for
//! the values they have seen ([`Memo`]). Semantics are the reference evaluator's (a
//! property test checks it): a missing field makes its tests false, a list holds when
//! an element does, non-strings never pass a string test.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;

use ipnet::IpNet;
use picket_grammar::ast::StrOp;

use super::builds::{Automaton, BuildCache, Builder, RegexSetAndGate};
use crate::compile::ir::{CmpOp, Cond, FieldRef, Operand, Pred, Test};
use crate::compile::RulePack;
use crate::event::{Event, FieldValue, Source};
use crate::intel::IntelList;

use super::eval;
use super::project::{Fields, FlowColumns, Projection};

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
    /// `in list(…)` of lists that apply to every account.
    Lists(ListSet),
}

/// The lists of an `in list(…)` test, equal when they are the same loaded lists.
#[derive(Debug, Clone)]
struct ListSet(Vec<Arc<IntelList>>);

impl PartialEq for ListSet {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl Eq for ListSet {}

impl std::hash::Hash for ListSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for list in &self.0 {
            std::ptr::hash(Arc::as_ptr(list), state);
        }
    }
}

impl ListSet {
    fn holds(&self, value: &FieldValue<'_>) -> bool {
        self.0.iter().any(|l| l.contains(value))
    }
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
        // Lists scoped to accounts need the event's account, not only the value.
        Test::Intel {
            lhs: Operand::Field(f),
            lists,
        } if !matches!(f, FieldRef::Elem(_))
            && lists.iter().all(|l| l.spec().accounts.is_none()) =>
        {
            Some((f, Literal::Lists(ListSet(lists.clone()))))
        }
        _ => None,
    }
}

fn same_field(a: &FieldRef, b: &FieldRef) -> bool {
    match (a, b) {
        (FieldRef::Catalog(x), FieldRef::Catalog(y)) => std::ptr::eq(*x, *y),
        (FieldRef::Raw(x), FieldRef::Raw(y)) => x == y,
        (FieldRef::Geo { def: x, .. }, FieldRef::Geo { def: y, .. }) => std::ptr::eq(*x, *y),
        _ => false,
    }
}

/// Substring tests of one field in one automaton. When some tests ignore case, the
/// automaton does, and a match of a test that does not is checked byte for byte.
#[derive(Debug)]
struct Patterns {
    automaton: AhoCorasick,
    /// Per pattern: operator code, the grouped test it decides, and whether case counts.
    targets: Vec<(u8, u32, bool)>,
    needles: Vec<Box<[u8]>>,
    /// Says whether any needle occurs at all (SIMD, many bytes per step), on the
    /// value lower-cased when `fold`: most values contain none, and the automaton
    /// runs only on those that do.
    detector: Option<aho_corasick::packed::Searcher>,
    fold: bool,
}

/// Up to this many patterns, substring automata are built as DFAs (fastest to run,
/// larger to build); beyond it the builder chooses.
const DFA_PATTERNS: usize = 5_000;

impl Patterns {
    /// `items`: (operator code, needle, test, ignores case).
    fn build(items: &[(u8, String, u32, bool)], builder: Builder<'_>) -> Option<Patterns> {
        if items.is_empty() {
            return None;
        }
        let nocase = items.iter().any(|i| i.3);
        let needles: Vec<String> = items.iter().map(|i| i.1.clone()).collect();
        let (automaton, detector) =
            builder.automaton(nocase, needles, || Patterns::build_automaton(items, nocase))?;
        Some(Patterns {
            automaton,
            targets: items.iter().map(|i| (i.0, i.2, !i.3)).collect(),
            needles: items.iter().map(|i| Box::from(i.1.as_bytes())).collect(),
            detector,
            fold: nocase,
        })
    }

    /// The automaton of the needles, and the detector that says whether any occurs.
    fn build_automaton(items: &[(u8, String, u32, bool)], nocase: bool) -> Automaton {
        let build = |kind| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(nocase)
                .kind(kind)
                .build(items.iter().map(|i| i.1.as_str()))
        };
        let automaton = build((items.len() <= DFA_PATTERNS).then_some(AhoCorasickKind::DFA))
            .or_else(|_| build(None))
            .ok()?;
        let detector = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(items.iter().map(|i| {
                if nocase {
                    i.1.to_ascii_lowercase()
                } else {
                    i.1.clone()
                }
            }))
            .build();
        Some((automaton, detector))
    }

    /// Whether some needle may occur in `hay` (never false when one does); `folded` is
    /// `hay` lower-cased when the detector reads it so.
    fn any(&self, hay: &str, folded: &[u8]) -> bool {
        match &self.detector {
            Some(d) if self.fold => d.find(folded).is_some(),
            Some(d) => d.find(hay).is_some(),
            None => self.automaton.find(hay).is_some(),
        }
    }

    fn run(&self, hay: &str, folded: &[u8], hit: &mut dyn FnMut(u32)) {
        if !self.any(hay, folded) {
            return;
        }
        for m in self.automaton.find_overlapping_iter(hay) {
            let p = m.pattern().as_usize();
            let (op, id, exact_case) = self.targets[p];
            let holds = match op {
                0 => true,
                1 => m.start() == 0,
                _ => m.end() == hay.len(),
            };
            if holds && (!exact_case || hay.as_bytes()[m.range()] == *self.needles[p]) {
                hit(id);
            }
        }
    }
}

/// `in cidr(…)` tests of one field as a table of disjoint address ranges: the networks'
/// bounds cut the address space into ranges, each knowing the tests that hold for every
/// address in it, so a lookup is one binary search whatever the number of networks.
#[derive(Debug, Default)]
struct NetTable {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

/// Sorted range starts; `ids[i]` holds from `starts[i]` to the next start.
#[derive(Debug)]
struct Ranges<T> {
    starts: Vec<T>,
    ids: Vec<Vec<u32>>,
}

impl<T> Default for Ranges<T> {
    fn default() -> Self {
        Ranges {
            starts: Vec::new(),
            ids: Vec::new(),
        }
    }
}

impl<T: Copy + Ord> Ranges<T> {
    /// `nets` as (first, last, id).
    fn build(nets: &[(T, T, u32)], zero: T, next: impl Fn(T) -> Option<T>) -> Ranges<T> {
        if nets.is_empty() {
            return Ranges::default();
        }
        let mut starts: Vec<T> = vec![zero];
        for &(first, last, _) in nets {
            starts.push(first);
            if let Some(after) = next(last) {
                starts.push(after);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut ids = vec![Vec::new(); starts.len()];
        for &(first, last, id) in nets {
            let from = starts.partition_point(|s| *s < first);
            let to = starts.partition_point(|s| *s <= last);
            for list in &mut ids[from..to] {
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
        }
        Ranges { starts, ids }
    }

    fn lookup(&self, addr: T) -> &[u32] {
        match self.starts.partition_point(|s| *s <= addr) {
            0 => &[],
            i => &self.ids[i - 1],
        }
    }
}

impl NetTable {
    fn build(nets: &[(IpNet, u32)]) -> NetTable {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (net, id) in nets {
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()), *id)),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()), *id)),
            }
        }
        NetTable {
            v4: Ranges::build(&v4, 0, |x| x.checked_add(1)),
            v6: Ranges::build(&v6, 0, |x| x.checked_add(1)),
        }
    }

    fn is_empty(&self) -> bool {
        self.v4.starts.is_empty() && self.v6.starts.is_empty()
    }

    fn lookup(&self, ip: IpAddr) -> &[u32] {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }
}

/// Every grouped test on one field.
#[derive(Debug, Default)]
struct FieldGroup {
    exact: FxHashMap<Box<str>, Vec<u32>>,
    exact_nocase: FxHashMap<Box<str>, Vec<u32>>,
    subs: Vec<(u8, String, u32, bool)>,
    patterns: Option<Patterns>,
    regexes: Vec<(String, u32)>,
    regex_set: Option<Regexes>,
    /// Says, on the lower-cased value, whether some regex may match (one of the
    /// literals every match of one of them starts with occurs); `None`: always run.
    regex_gate: Option<aho_corasick::packed::Searcher>,
    nets: Vec<(IpNet, u32)>,
    net_table: NetTable,
    ips: FxHashMap<IpAddr, Vec<u32>>,
    ints: FxHashMap<i64, Vec<u32>>,
    /// `in list(…)` tests.
    lists: Vec<(ListSet, u32)>,
    /// Any string test at all.
    strings: bool,
}

/// The tests that held for values a costly group (automata, regexes) has already
/// seen, per thread and group. Values repeat: a trail holds a few hundred distinct user
/// agents, principals and error messages, so most values are found here instead of
/// being searched again. Bounded: emptied when full.
#[derive(Debug, Default)]
struct Memo {
    seen: FxHashMap<Box<str>, Box<[u32]>>,
    /// For lower-casing values.
    buf: Vec<u8>,
}

/// Values remembered per group before the memo is emptied.
const MEMO_VALUES: usize = 4096;
/// Longer values are searched every time (long values rarely repeat).
const MEMO_MAX_LEN: usize = 256;

/// A detector of the literals that every match of one of `regexes` starts with,
/// lower-cased (so it reads a lower-cased value); `None` when some regex has no such
/// finite set (it may match anywhere), or there is nothing to detect.
fn regex_gate(regexes: &[(String, u32)]) -> Option<aho_corasick::packed::Searcher> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut literals: Vec<Vec<u8>> = Vec::new();
    for (pattern, _) in regexes {
        let hir = regex_syntax::parse(pattern).ok()?;
        let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        // Every match starts with one of these (none: the regex matches nothing).
        for literal in prefixes.literals()? {
            if literal.as_bytes().is_empty() {
                return None;
            }
            literals.push(literal.as_bytes().to_ascii_lowercase());
        }
    }
    literals.sort();
    literals.dedup();
    if literals.is_empty() {
        return None;
    }
    aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(literals)
        .build()
}

/// Regular expressions of one field: one set, or one by one when the set is too big.
#[derive(Debug)]
enum Regexes {
    Set(regex::RegexSet, Vec<u32>),
    Each(Vec<(regex::Regex, u32)>),
}

impl Regexes {
    /// The set of `items` and their gate, built or taken from the engine before.
    fn build(
        items: &[(String, u32)],
        builder: Builder<'_>,
    ) -> (Option<Regexes>, Option<aho_corasick::packed::Searcher>) {
        if items.is_empty() {
            return (None, None);
        }
        let patterns: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
        let (set, gate): RegexSetAndGate = builder.regexes(patterns, || {
            let set = regex::RegexSetBuilder::new(items.iter().map(|(p, _)| p))
                .size_limit(1 << 26)
                .dfa_size_limit(1 << 26)
                .build()
                .ok();
            (set, regex_gate(items))
        });
        let ids = items.iter().map(|(_, id)| *id).collect();
        let regexes = match set {
            Some(set) => Regexes::Set(set, ids),
            // Each pattern compiled on its own when the rules were compiled, so this
            // only fails on size: test them one by one.
            None => Regexes::Each(
                items
                    .iter()
                    .filter_map(|(p, id)| regex::Regex::new(p).ok().map(|re| (re, *id)))
                    .collect(),
            ),
        };
        (Some(regexes), gate)
    }

    fn run(&self, hay: &str, hit: &mut dyn FnMut(u32)) {
        match self {
            Regexes::Set(set, ids) => {
                // As for substrings: one search says whether any matches, the search
                // for which ones runs only then.
                if !set.is_match(hay) {
                    return;
                }
                for i in set.matches(hay).iter() {
                    hit(ids[i]);
                }
            }
            Regexes::Each(list) => {
                for (re, id) in list {
                    if re.is_match(hay) {
                        hit(*id);
                    }
                }
            }
        }
    }
}

impl FieldGroup {
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
                self.subs.push((*op, needle.clone(), id, *nocase));
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
            Literal::Lists(lists) => self.lists.push((lists.clone(), id)),
        }
    }

    fn finish(&mut self, builder: Builder<'_>) {
        self.patterns = Patterns::build(&self.subs, builder);
        (self.regex_set, self.regex_gate) = Regexes::build(&self.regexes, builder);
        self.net_table = NetTable::build(&self.nets);
        self.strings = !self.exact.is_empty()
            || !self.exact_nocase.is_empty()
            || self.patterns.is_some()
            || self.regex_set.is_some();
    }

    /// Runs the regex set (behind its gate) and the substring automaton on `s`, calling
    /// `hit` with each test that holds. The value is lower-cased once, into `buf`, when
    /// the gate or the automaton's detector reads it so.
    fn search(&self, s: &str, buf: &mut Vec<u8>, hit: &mut dyn FnMut(u32)) {
        buf.clear();
        if self.regex_gate.is_some() || self.patterns.as_ref().is_some_and(|p| p.fold) {
            buf.extend(s.bytes().map(|b| b.to_ascii_lowercase()));
        }
        let folded: &[u8] = buf;
        if let Some(re) = &self.regex_set {
            if self
                .regex_gate
                .as_ref()
                .is_none_or(|gate| gate.find(folded).is_some())
            {
                re.run(s, hit);
            }
        }
        if let Some(p) = &self.patterns {
            p.run(s, folded, hit);
        }
    }

    /// Runs the automata and regexes on `s`, or takes their result from the memo.
    fn run_costly(&self, s: &str, truth: &mut [u64], memo: &mut Memo) {
        if s.len() > MEMO_MAX_LEN {
            return self.search(s, &mut memo.buf, &mut |id| set_bit(truth, id));
        }
        if let Some(ids) = memo.seen.get(s) {
            ids.iter().for_each(|&id| set_bit(truth, id));
            return;
        }
        let mut ids = Vec::new();
        self.search(s, &mut memo.buf, &mut |id| ids.push(id));
        ids.iter().for_each(|&id| set_bit(truth, id));
        if memo.seen.len() >= MEMO_VALUES {
            memo.seen.clear();
        }
        memo.seen.insert(Box::from(s), ids.into_boxed_slice());
    }

    /// Sets the bit of every test of the group that holds for the field's value.
    fn run(&self, value: &FieldValue<'_>, truth: &mut [u64], memo: &mut Memo) {
        if let FieldValue::List(items) = value {
            return items.iter().for_each(|v| self.run(v, truth, memo));
        }
        for (lists, id) in &self.lists {
            if lists.holds(value) {
                set_bit(truth, *id);
            }
        }
        if !self.ints.is_empty() {
            // Numbers compare by value: a whole float equals the integer.
            let i = match value {
                FieldValue::Int(i) => Some(*i),
                FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
                _ => None,
            };
            if let Some(ids) = i.and_then(|i| self.ints.get(&i)) {
                ids.iter().for_each(|&id| set_bit(truth, id));
            }
        }
        if !self.ips.is_empty() || !self.net_table.is_empty() {
            // Addresses, and strings that parse as addresses (as `==` compares them).
            let ip = match value {
                FieldValue::Ip(ip) => Some(*ip),
                FieldValue::Str(s) => crate::event::parse_ip(s),
                _ => None,
            };
            if let Some(ip) = ip {
                if let Some(ids) = self.ips.get(&ip) {
                    ids.iter().for_each(|&id| set_bit(truth, id));
                }
                for &id in self.net_table.lookup(ip) {
                    set_bit(truth, id);
                }
            }
        }
        if !self.strings {
            return;
        }
        let FieldValue::Str(s) = value else {
            return;
        };
        let s: &str = s;
        if self.regex_set.is_some() || self.patterns.is_some() {
            self.run_costly(s, truth, memo);
        }
        if let Some(ids) = self.exact.get(s) {
            ids.iter().for_each(|&id| set_bit(truth, id));
        }
        if !self.exact_nocase.is_empty() {
            // Lower-cased as the reference does (`to_lowercase`), without a copy when
            // there is nothing to lower.
            let lower: Cow<'_, str> = if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
            {
                Cow::Borrowed(s)
            } else {
                Cow::Owned(s.to_lowercase())
            };
            if let Some(ids) = self.exact_nocase.get(lower.as_ref()) {
                ids.iter().for_each(|&id| set_bit(truth, id));
            }
        }
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
#[derive(Debug)]
struct SourcePlan {
    /// The grouped tests, per field and cost: hash lookups and address tables in one
    /// group, automata and regexes in another.
    groups: Vec<FieldGroup>,
    /// The fields the groups read.
    projection: Projection,
    /// Per group: its field in the projection.
    group_field: Vec<u32>,
    /// Per group: its tests are automata or regexes.
    costly: Vec<bool>,
    /// Grouped tests.
    slots: usize,
    /// Per rule of the pack (empty for rules of other sources): the slot of each of its
    /// predicates, `u32::MAX` when not grouped.
    pred_slots: Vec<Vec<u32>>,
    /// Per rule: slots that must all hold for it to match (its top-level conjuncts that
    /// are grouped tests), checked before it is evaluated.
    required: Vec<Vec<u32>>,
    /// Per rule: the groups its grouped tests belong to, run before it is evaluated.
    rule_groups: Vec<Vec<u32>>,
    /// Per rule: its other tests that read one field and compare it with literals
    /// (`net.bytes > 1000000`, `error.code exists`), as (predicate, field), decided
    /// from the field read once per event before it is evaluated.
    field_preds: Vec<Vec<(u32, u32, Test)>>,
    /// Per rule: its top-level conjuncts that are a negated predicate or a predicate not
    /// grouped (those are `required`), as (predicate, must hold); a candidate is dropped
    /// when one is decided the other way.
    conjuncts: Vec<Vec<(u32, bool)>>,
    /// Per slot: the rules anchored on it.
    anchored: Vec<Vec<u32>>,
    /// Rules without an anchor.
    always: Vec<u32>,
    /// Rules anchored on some slot, for statistics.
    anchored_rules: usize,
    /// The group of each slot.
    slot_group: Vec<u32>,
    /// Groups run for every event (they hold anchors); the others run when a candidate
    /// rule needs them.
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

/// Slots of the top-level conjuncts of a condition that are grouped tests.
/// The index of `field` (as [`canonical`] names it for `source`) in the fields a plan
/// reads, added when new.
fn field_slot(fields: &mut Vec<FieldRef>, field: &FieldRef, source: Source) -> usize {
    let field = canonical(field, source);
    match fields.iter().position(|f| same_field(f, &field)) {
        Some(f) => f,
        None => {
            fields.push(field);
            fields.len() - 1
        }
    }
}

/// The top-level conjuncts of a condition that are a predicate or a negated one, as
/// (predicate, must hold).
fn conjuncts(cond: &Cond, out: &mut Vec<(u32, bool)>) {
    match cond {
        Cond::Pred(i) => out.push((*i, true)),
        Cond::Not(inner) => {
            if let Cond::Pred(i) = **inner {
                out.push((i, false));
            }
        }
        Cond::And(items) => items.iter().for_each(|c| conjuncts(c, out)),
        _ => {}
    }
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

    fn build(pack: &RulePack, source: Source, builder: Builder<'_>) -> SourcePlan {
        let mut fields: Vec<FieldRef> = Vec::new();
        let mut groups: Vec<FieldGroup> = Vec::new();
        // Per group: its field, and whether its tests are costly (automata, regexes).
        let mut group_of: Vec<(u32, bool)> = Vec::new();
        let mut pred_slots = vec![Vec::new(); pack.rules.len()];
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
                    let f = field_slot(&mut fields, field, source);
                    let costly = matches!(literal, Literal::Sub { .. } | Literal::Regex(_));
                    let g = match group_of
                        .iter()
                        .position(|&(gf, gc)| gf == f as u32 && gc == costly)
                    {
                        Some(g) => g,
                        None => {
                            group_of.push((f as u32, costly));
                            groups.push(FieldGroup::default());
                            groups.len() - 1
                        }
                    };
                    let next = ids.len() as u32;
                    let id = *ids.entry((g, literal.clone())).or_insert(next);
                    if id == next {
                        groups[g].add(&literal, id);
                    }
                    id
                })
                .collect();
            pred_slots[r as usize] = slots;
        }
        let mut field_preds = vec![Vec::new(); pack.rules.len()];
        for &r in pack.rule_indexes(source) {
            let rule = &pack.rules[r as usize];
            for (i, p) in rule.preds.iter().enumerate() {
                if pred_slots[r as usize][i] != u32::MAX {
                    continue;
                }
                let Some(field) = eval::tested_field(&p.test) else {
                    continue;
                };
                let f = field_slot(&mut fields, field, source);
                field_preds[r as usize].push((i as u32, f as u32, p.test.clone()));
            }
        }
        let slots = ids.len();
        let mut slot_group = vec![0; slots];
        for ((g, _), id) in &ids {
            slot_group[*id as usize] = *g as u32;
        }
        let mut plan = SourcePlan {
            eager: vec![false; groups.len()],
            groups,
            projection: Projection::new(source, fields),
            group_field: group_of.iter().map(|(f, _)| *f).collect(),
            costly: group_of.iter().map(|(_, c)| *c).collect(),
            slots,
            required: vec![Vec::new(); pack.rules.len()],
            rule_groups: vec![Vec::new(); pack.rules.len()],
            field_preds,
            conjuncts: vec![Vec::new(); pack.rules.len()],
            anchored: vec![Vec::new(); slots],
            always: Vec::new(),
            anchored_rules: 0,
            slot_group,
            pred_slots,
        };
        // Greedy: the group that anchors the most rules not yet anchored, then the next.
        let mut remaining: Vec<u32> = pack.rule_indexes(source).to_vec();
        loop {
            // Score: how finely the group splits the rules (distinct anchor slots), then
            // how many it anchors. `outcome == "success"` anchors many rules on one slot
            // that nearly every event sets; `api.operation` spreads them over many.
            // Cheap groups (hash lookups, address tables) first: a rule anchored on
            // `api.service == …` runs its `user_agent contains …` automaton only when
            // the service matched.
            let cheap_left = (0..plan.groups.len()).any(|g| {
                !plan.eager[g]
                    && !plan.costly[g]
                    && remaining.iter().any(|&r| {
                        anchor(
                            &pack.rules[r as usize].cond,
                            &plan.pred_slots[r as usize],
                            &plan.slot_group,
                            &|x| x as usize == g,
                        )
                        .is_some()
                    })
            });
            let best = (0..plan.groups.len() as u32)
                .filter(|g| {
                    let g = *g as usize;
                    let wait = cheap_left && plan.costly[g];
                    !plan.eager[g] && !wait
                })
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
        for &r in pack.rule_indexes(source) {
            let slots = &plan.pred_slots[r as usize];
            let mut all = Vec::new();
            conjuncts(&pack.rules[r as usize].cond, &mut all);
            // Conjuncts that are grouped tests are required slots, checked first (the
            // cheapest first: tests of groups that run anyway); the others are decided
            // after the rule's groups and field tests ran.
            let mut required = Vec::new();
            all.retain(|&(pred, must)| {
                let slot = slots.get(pred as usize).copied().unwrap_or(u32::MAX);
                if !must || slot == u32::MAX {
                    return true;
                }
                if !required.contains(&slot) {
                    required.push(slot);
                }
                false
            });
            required.sort_by_key(|s| !plan.eager[plan.slot_group[*s as usize] as usize]);
            plan.required[r as usize] = required;
            plan.conjuncts[r as usize] = all;
            let mut groups: Vec<u32> = slots
                .iter()
                .filter(|s| **s != u32::MAX)
                .map(|s| plan.slot_group[*s as usize])
                .filter(|g| !plan.eager[*g as usize])
                .collect();
            groups.sort_unstable();
            groups.dedup();
            plan.rule_groups[r as usize] = groups;
        }
        for g in &mut plan.groups {
            g.finish(builder);
        }
        plan
    }
}

/// The truth of a rule's predicate (by its index in the rule) when the dispatch stage
/// computed it.
pub type Known<'a> = dyn Fn(u32) -> Option<bool> + 'a;

/// Called with each candidate rule and what is known of its predicates.
pub type Visit<'a> = dyn FnMut(u32, &Known<'_>) + 'a;

/// A field as rules write it: `actor.arn`, `requestParameters.roleArn`, `resources[0].ARN`.
fn field_name(field: &FieldRef) -> String {
    let path = match field {
        FieldRef::Catalog(def) | FieldRef::Geo { def, .. } => return def.name.to_string(),
        FieldRef::Raw(path) | FieldRef::Elem(path) => path,
    };
    let mut out = String::new();
    for seg in path {
        match seg {
            picket_grammar::ast::Segment::Name(n) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(n);
            }
            picket_grammar::ast::Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Runs group `g` of `plan` (source `source`) unless it ran for this event already;
/// timed when profiling.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run_group(
    plan: &SourcePlan,
    source: usize,
    g: usize,
    truth: &mut [u64],
    ran: &mut [bool],
    fields: &mut Fields<'_, '_>,
    memos: &mut [Memo],
    times: &mut Option<&mut GroupTimes>,
) {
    if ran[g] {
        return;
    }
    ran[g] = true;
    let start = times.is_some().then(std::time::Instant::now);
    if let Some(v) = fields.get(plan.group_field[g] as usize) {
        plan.groups[g].run(v, truth, &mut memos[g]);
    }
    if let (Some(t), Some(start)) = (times.as_deref_mut(), start) {
        t.runs[source][g] += 1;
        t.nanos[source][g] += start.elapsed().as_nanos() as u64;
    }
}

/// Per source and group of tests: how many events ran it, and the nanoseconds it took
/// (reading its field included).
#[derive(Clone, Debug, Default)]
pub struct GroupTimes {
    /// Runs, per source (in [`Source::ALL`] order) and group.
    pub runs: [Vec<u64>; 5],
    /// Nanoseconds, likewise.
    pub nanos: [Vec<u64>; 5],
}

impl GroupTimes {
    /// Adds another thread's times.
    pub fn merge(&mut self, other: &GroupTimes) {
        for s in 0..5 {
            for (mine, theirs) in [
                (&mut self.runs[s], &other.runs[s]),
                (&mut self.nanos[s], &other.nanos[s]),
            ] {
                if mine.len() < theirs.len() {
                    mine.resize(theirs.len(), 0);
                }
                for (a, b) in mine.iter_mut().zip(theirs) {
                    *a += b;
                }
            }
        }
    }
}

/// Reusable per-thread buffers.
#[derive(Default)]
struct Scratch {
    truth: Vec<u64>,
    candidates: Vec<u32>,
    /// Candidate rules of the current event, one bit per rule of the pack.
    chosen: Vec<u64>,
    /// Per group: run for the current event.
    ran: Vec<bool>,
    /// Truths of the current candidate's field tests.
    decided: Vec<(u32, bool)>,
    flow: FlowColumns,
    /// The dispatch the memos and the flow column table belong to.
    owner: u64,
    /// Per source and group.
    memos: [Vec<Memo>; 5],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Per-source plans of a pack.
#[derive(Debug)]
pub struct Dispatch {
    sources: [SourcePlan; 5],
    rules: usize,
    /// Tells this dispatch's per-thread memos from another's.
    id: u64,
}

static NEXT_DISPATCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Dispatch {
    /// Builds the plans of a pack.
    pub fn new(pack: &RulePack) -> Dispatch {
        Dispatch::build(pack, Builder(None))
    }

    /// Builds the plans of a pack, taking from `cache` the automata and regex sets
    /// built before for the same patterns (and dropping from it those not used).
    pub fn with_cache(pack: &RulePack, cache: &BuildCache) -> Dispatch {
        let dispatch = Dispatch::build(pack, Builder(Some(cache)));
        cache.finish();
        dispatch
    }

    fn build(pack: &RulePack, builder: Builder<'_>) -> Dispatch {
        Dispatch {
            rules: pack.rules.len(),
            sources: Source::ALL.map(|source| SourcePlan::build(pack, source, builder)),
            id: NEXT_DISPATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    fn source_index(source: Source) -> usize {
        Source::ALL.iter().position(|s| *s == source).unwrap_or(0)
    }

    /// Calls `visit(rule, known)` for every rule the event may match, in rule order;
    /// `known(pred)` is the truth of the rule's predicate `pred` when the dispatch
    /// stage computed it (every grouped test of the rule).
    pub fn candidates(&self, event: &Event, visit: &mut Visit<'_>) {
        self.candidates_timed(event, visit, None);
    }

    /// [`Dispatch::candidates`], adding to `times` the runs and nanoseconds of each
    /// group of tests (for profiles).
    pub fn candidates_timed(
        &self,
        event: &Event,
        visit: &mut Visit<'_>,
        times: Option<&mut GroupTimes>,
    ) {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.candidates_in(event, &mut scratch, visit, times),
            // Re-entered from inside `visit`: use fresh buffers.
            Err(_) => self.candidates_in(event, &mut Scratch::default(), visit, times),
        })
    }

    /// What each group of tests of each source is, for profiles: the field, the kind
    /// of tests, how many tests and how many rules have one.
    pub fn group_labels(&self) -> [Vec<String>; 5] {
        std::array::from_fn(|s| {
            let plan = &self.sources[s];
            let fields = plan.projection.fields();
            (0..plan.groups.len())
                .map(|g| {
                    let tests = plan.slot_group.iter().filter(|x| **x as usize == g).count();
                    let rules = plan
                        .pred_slots
                        .iter()
                        .filter(|slots| {
                            slots.iter().any(|x| {
                                *x != u32::MAX && plan.slot_group[*x as usize] as usize == g
                            })
                        })
                        .count();
                    let plural = |n: usize| if n == 1 { "" } else { "s" };
                    format!(
                        "{} {}: {tests} {} test{} of {rules} rule{}",
                        Source::ALL[s],
                        field_name(&fields[plan.group_field[g] as usize]),
                        if plan.costly[g] {
                            "substring/regex"
                        } else {
                            "lookup"
                        },
                        plural(tests),
                        plural(rules),
                    )
                })
                .collect()
        })
    }

    fn candidates_in(
        &self,
        event: &Event,
        scratch: &mut Scratch,
        visit: &mut Visit<'_>,
        mut times: Option<&mut GroupTimes>,
    ) {
        let source = Self::source_index(event.source);
        let plan = &self.sources[source];
        if let Some(t) = times.as_deref_mut() {
            if t.runs[source].len() < plan.groups.len() {
                t.runs[source].resize(plan.groups.len(), 0);
                t.nanos[source].resize(plan.groups.len(), 0);
            }
        }
        if scratch.owner != self.id {
            // Memos and flow column tables belong to this dispatch's groups and
            // projections: another's are dropped.
            scratch.owner = self.id;
            scratch.memos = Default::default();
            scratch.flow = FlowColumns::default();
        }
        let Scratch {
            truth,
            candidates,
            chosen,
            ran,
            decided,
            flow,
            memos,
            ..
        } = scratch;
        let memos = &mut memos[source];
        if memos.len() < plan.groups.len() {
            memos.resize_with(plan.groups.len(), Memo::default);
        }

        let mut fields = plan.projection.read(event, flow);
        truth.clear();
        truth.resize(plan.slots.div_ceil(64), 0);
        ran.clear();
        ran.resize(plan.groups.len(), false);
        for (g, eager) in plan.eager.iter().enumerate() {
            if *eager {
                run_group(plan, source, g, truth, ran, &mut fields, memos, &mut times);
            }
        }
        // Candidates as a bitset over the pack's rules, read back in rule order.
        chosen.resize(self.rules.div_ceil(64), 0);
        for &r in &plan.always {
            chosen[r as usize / 64] |= 1 << (r % 64);
        }
        for (w, word) in truth.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                for &r in plan.anchored.get(slot).map_or(&[][..], Vec::as_slice) {
                    chosen[r as usize / 64] |= 1 << (r % 64);
                }
            }
        }
        candidates.clear();
        for (w, word) in chosen.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                candidates.push((w * 64) as u32 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        'rules: for &r in candidates.iter() {
            for &s in &plan.required[r as usize] {
                let g = plan.slot_group[s as usize] as usize;
                run_group(plan, source, g, truth, ran, &mut fields, memos, &mut times);
                if !get(truth, s) {
                    continue 'rules;
                }
            }
            for &g in &plan.rule_groups[r as usize] {
                let g = g as usize;
                run_group(plan, source, g, truth, ran, &mut fields, memos, &mut times);
            }
            decided.clear();
            for (pred, field, test) in &plan.field_preds[r as usize] {
                if let Some(held) = eval::test_on_value(test, fields.get(*field as usize)) {
                    decided.push((*pred, held));
                }
            }
            let slots = &plan.pred_slots[r as usize];
            let truth: &[u64] = truth;
            let decided: &[(u32, bool)] = decided;
            let known = |pred: u32| match slots.get(pred as usize).filter(|s| **s != u32::MAX) {
                Some(s) => Some(get(truth, *s)),
                None => decided.iter().find(|(p, _)| *p == pred).map(|(_, h)| *h),
            };
            if plan.conjuncts[r as usize]
                .iter()
                .any(|(pred, must)| known(*pred).is_some_and(|held| held != *must))
            {
                continue;
            }
            visit(r, &known);
        }
    }

    /// A one-line description per source, for profiles and tests.
    pub fn describe(&self) -> Vec<String> {
        Source::ALL
            .iter()
            .zip(&self.sources)
            .map(|(s, p)| {
                let fields = p.projection.fields();
                let eager: Vec<String> = p
                    .group_field
                    .iter()
                    .zip(&p.eager)
                    .filter(|(_, e)| **e)
                    .map(|(f, _)| field_name(&fields[*f as usize]))
                    .collect();
                format!(
                    "{s}: {} grouped tests on {} fields, anchors on [{}], {} rules anchored, {} always visited",
                    p.slots,
                    fields.len(),
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
    fn network_table_finds_every_net_holding_an_address() {
        let nets: Vec<(IpNet, u32)> = [
            ("10.0.0.0/8", 0),
            ("10.1.0.0/16", 1),
            ("10.1.2.3/32", 2),
            ("0.0.0.0/0", 3),
            ("255.255.255.255/32", 4),
            ("2001:db8::/32", 5),
        ]
        .iter()
        .map(|(n, id)| (n.parse().expect("net"), *id))
        .collect();
        let table = NetTable::build(&nets);
        let ids = |ip: &str| {
            let mut v = table.lookup(ip.parse().expect("ip")).to_vec();
            v.sort_unstable();
            v
        };
        assert_eq!(ids("10.1.2.3"), vec![0, 1, 2, 3]);
        assert_eq!(ids("10.1.2.4"), vec![0, 1, 3]);
        assert_eq!(ids("10.2.0.0"), vec![0, 3]);
        assert_eq!(ids("11.0.0.0"), vec![3]);
        assert_eq!(ids("9.255.255.255"), vec![3]);
        assert_eq!(ids("255.255.255.255"), vec![3, 4]);
        assert_eq!(ids("2001:db8::1"), vec![5]);
        assert_eq!(ids("2001:db9::1"), Vec::<u32>::new());
    }

    #[test]
    fn substring_tests_keep_case_where_it_counts_also_from_the_memo() {
        let mut group = FieldGroup::default();
        let sub = |op, needle: &str, nocase| Literal::Sub {
            op,
            needle: needle.to_string(),
            nocase,
        };
        group.add(&sub(0, "Kali", false), 0);
        group.add(&sub(0, "kali", true), 1);
        group.add(&sub(1, "aws-cli", true), 2);
        group.add(&sub(2, "/1", false), 3);
        group.finish(Builder(None));
        let mut memo = Memo::default();
        for _ in 0..2 {
            let mut truth = vec![0u64];
            group.run(&FieldValue::str("AWS-CLI on KALI/1"), &mut truth, &mut memo);
            assert_eq!(
                truth[0],
                0b1110,
                "second pass from the memo: {}",
                memo.seen.len()
            );
            let mut truth = vec![0u64];
            group.run(&FieldValue::str("x Kali"), &mut truth, &mut memo);
            assert_eq!(truth[0], 0b0011);
        }
        assert_eq!(memo.seen.len(), 2);
    }

    #[test]
    fn regex_gate_lets_through_every_value_a_regex_may_match() {
        let gate = |patterns: &[&str]| {
            let items: Vec<(String, u32)> = patterns.iter().map(|p| (p.to_string(), 0)).collect();
            regex_gate(&items)
        };
        let passes = |g: &aho_corasick::packed::Searcher, hay: &str| {
            g.find(hay.to_ascii_lowercase().as_bytes()).is_some()
        };
        let g = gate(&["(?i)kali", "^aws-cli/", "pacu[0-9]+"]).expect("finite prefixes");
        for hay in ["x KALI y", "aws-cli/2.15", "a pacu12", "Kali"] {
            assert!(passes(&g, hay), "{hay}");
        }
        for hay in ["boto3/1.34", "curl/8", "paCu"] {
            assert!(!passes(&g, hay), "{hay}");
        }
        // A regex that may match anywhere (or the empty string) turns the gate off.
        assert!(gate(&["kali", ".*x"]).is_none());
        assert!(gate(&["kali", "a?"]).is_none());
        assert!(gate(&[]).is_none());
    }

    #[test]
    fn builtin_pack_is_indexed() {
        let compiled = compile(&[PackFiles::builtin()]);
        let d = Dispatch::new(&compiled.pack);
        let lines = d.describe();
        assert!(lines[0].starts_with("cloudtrail: "), "{lines:?}");
        // Every built-in rule has an anchor; CloudTrail dispatches on the API first.
        assert!(d.sources.iter().all(|p| p.always.is_empty()), "{lines:?}");
        assert!(lines[0].contains("anchors on [api."), "{lines:?}");
    }
}
