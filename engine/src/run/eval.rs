//! The reference evaluator: walks a rule's condition tree over one event.
//!
//! Semantics (docs/language.md): a test on a missing field is false; a test on a list
//! holds when it holds for any element, except `!=`, which holds when no element is
//! equal.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

use picket_grammar::ast::StrOp;

use crate::compile::ir::{CmpOp, Cond, FieldRef, LitSet, Needle, Operand, Pred, Test};
use crate::compile::CompiledRule;
use crate::event::{Event, FieldValue};

/// Does the rule match the event?
pub fn matches(rule: &CompiledRule, event: &Event) -> bool {
    matches_with(rule, event, &|_| None)
}

/// Does the rule match the event? `known(i)` gives the truth of predicate `i` when it
/// was computed already (by the dispatch stage); other predicates are tested here.
pub fn matches_with(
    rule: &CompiledRule,
    event: &Event,
    known: &dyn Fn(u32) -> Option<bool>,
) -> bool {
    cond_pol(&rule.cond, &rule.preds, event, None, known, &mut None, true)
}

/// Does a condition (of a rule, whose predicate table is `preds`) hold for the event?
pub fn cond_holds(cond: &Cond, preds: &[Pred], event: &Event) -> bool {
    cond_pol(cond, preds, event, None, &|_| None, &mut None, true)
}

/// The value of an operand in an event (`None` when missing or null).
pub fn operand_value<'e>(o: &Operand, event: &'e Event) -> Option<FieldValue<'e>> {
    operand(o, event, None)
}

/// The element of the innermost `any(…)`/`all(…)` being evaluated, if any.
type Elem<'a, 'e> = Option<&'a FieldValue<'e>>;

/// The predicates that made the rule match (call after [`matches`] returned true).
pub fn explain(rule: &CompiledRule, event: &Event) -> Vec<String> {
    explain_with(rule, event, &|_| None)
}

/// [`explain`], with the truth of predicates computed already, as for [`matches_with`].
pub fn explain_with(
    rule: &CompiledRule,
    event: &Event,
    known: &dyn Fn(u32) -> Option<bool>,
) -> Vec<String> {
    let mut trace = Some(Vec::new());
    cond_pol(
        &rule.cond,
        &rule.preds,
        event,
        None,
        known,
        &mut trace,
        true,
    );
    // Each predicate once, in the order it first held (a handful: a scan is cheaper
    // than hashing them).
    let mut out: Vec<String> = Vec::new();
    for p in trace.unwrap_or_default() {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Evaluates a condition; with `trace`, records each predicate that supported the
/// outcome (true predicates, and `not …` for false ones under a negation).
fn cond_pol<'e>(
    c: &Cond,
    preds: &[Pred],
    event: &'e Event,
    elem: Elem<'_, 'e>,
    known: &dyn Fn(u32) -> Option<bool>,
    trace: &mut Option<Vec<String>>,
    positive: bool,
) -> bool {
    match c {
        Cond::Const(b) => *b,
        Cond::And(items) => {
            // Record only when the whole conjunction supports the outcome.
            let mark = trace.as_ref().map(Vec::len);
            let all = items
                .iter()
                .all(|i| cond_pol(i, preds, event, elem, known, trace, positive));
            if let (Some(t), Some(m)) = (trace.as_mut(), mark) {
                if all != positive {
                    t.truncate(m);
                }
            }
            all
        }
        Cond::Or(items) => {
            let mark = trace.as_ref().map(Vec::len);
            let any = items
                .iter()
                .any(|i| cond_pol(i, preds, event, elem, known, trace, positive));
            if let (Some(t), Some(m)) = (trace.as_mut(), mark) {
                if any != positive {
                    t.truncate(m);
                }
            }
            any
        }
        Cond::Not(inner) => !cond_pol(inner, preds, event, elem, known, trace, !positive),
        Cond::Quant { all, list, body } => {
            let items = match list.get_in(event, elem) {
                Some(FieldValue::List(items)) => items,
                Some(FieldValue::Null) | None => return false,
                Some(one) => vec![one],
            };
            if items.is_empty() {
                return false;
            }
            if *all {
                items
                    .iter()
                    .all(|it| cond_pol(body, preds, event, Some(it), known, trace, positive))
            } else {
                for it in &items {
                    let mark = trace.as_ref().map(Vec::len);
                    if cond_pol(body, preds, event, Some(it), known, trace, positive) {
                        return true;
                    }
                    if let (Some(t), Some(m)) = (trace.as_mut(), mark) {
                        t.truncate(m);
                    }
                }
                false
            }
        }
        Cond::Pred(i) => {
            let Some(p) = preds.get(*i as usize) else {
                return false;
            };
            let held = match elem {
                None => known(*i).unwrap_or_else(|| test_in(&p.test, event, None)),
                Some(_) => test_in(&p.test, event, elem),
            };
            if let Some(t) = trace.as_mut() {
                if held == positive {
                    t.push(if held {
                        p.text.clone()
                    } else {
                        format!("not {}", p.text)
                    });
                }
            }
            held
        }
    }
}

/// Evaluates one leaf test outside any quantifier.
pub fn test(t: &Test, event: &Event) -> bool {
    test_in(t, event, None)
}

/// Evaluates one leaf test; `elem` is the element of the enclosing quantifier.
fn test_in<'e>(t: &Test, event: &'e Event, elem: Elem<'_, 'e>) -> bool {
    let operand = |o: &Operand| operand(o, event, elem);
    match t {
        Test::Exists(f) => f
            .get_in(event, elem)
            .is_some_and(|v| !matches!(v, FieldValue::Null)),
        Test::Compare { lhs, op, rhs } => {
            let (Some(l), Some(r)) = (operand(lhs), operand(rhs)) else {
                return false;
            };
            compare(&l, *op, &r)
        }
        Test::Str { lhs, .. }
        | Test::In { lhs, .. }
        | Test::Cidr { lhs, .. }
        | Test::Regex { lhs, .. } => operand(lhs).is_some_and(|v| holds_for(t, &v)),
        Test::Intel { lhs, lists } => operand(lhs).is_some_and(|v| intel_holds(lists, &v, event)),
    }
}

/// The event's account, read once, for lists scoped to accounts.
struct Scope<'e> {
    event: &'e Event,
    account: Option<Option<FieldValue<'e>>>,
}

impl<'e> Scope<'e> {
    fn new(event: &'e Event) -> Self {
        Scope {
            event,
            account: None,
        }
    }

    /// Whether `list` applies to the event (the account is read only for a scoped list).
    fn admits(&mut self, list: &crate::intel::IntelList) -> bool {
        if list.spec().accounts.is_none() {
            return true;
        }
        let event = self.event;
        let account = self.account.get_or_insert_with(|| event.field("account"));
        list.applies_to(match account {
            Some(FieldValue::Str(s)) => Some(&**s),
            _ => None,
        })
    }
}

/// Whether one of the lists of an intel test holds `value` and applies to the event's
/// account.
fn intel_holds(
    lists: &[std::sync::Arc<crate::intel::IntelList>],
    value: &FieldValue<'_>,
    event: &Event,
) -> bool {
    let mut scope = Scope::new(event);
    lists.iter().any(|l| scope.admits(l) && l.contains(value))
}

/// The lists of an intel test that hold `value` and apply to the event's account, each
/// with the indicator that matched.
pub fn intel_hits<'l>(
    lists: &'l [std::sync::Arc<crate::intel::IntelList>],
    value: &FieldValue<'_>,
    event: &Event,
) -> Vec<crate::intel::Hit<'l>> {
    let mut scope = Scope::new(event);
    lists
        .iter()
        .filter(|l| scope.admits(l))
        .filter_map(|l| l.lookup(value))
        .collect()
}

/// The truth of a test whose left side is a field (outside any quantifier) and whose
/// right side, if any, is a literal, given the field's value (`None`: missing), as
/// [`test`] computes it; `None` for tests of another shape. For readers that have read
/// the field already.
pub(crate) fn test_on_value(t: &Test, value: Option<&FieldValue<'_>>) -> Option<bool> {
    let value = value.filter(|v| !v.is_null());
    match t {
        Test::Exists(FieldRef::Catalog(_) | FieldRef::Raw(_)) => Some(value.is_some()),
        Test::Compare {
            lhs: Operand::Field(FieldRef::Catalog(_) | FieldRef::Raw(_)),
            op,
            rhs: Operand::Lit(r),
        } => Some(value.is_some_and(|l| compare(l, *op, r))),
        Test::Str { lhs, .. }
        | Test::In { lhs, .. }
        | Test::Cidr { lhs, .. }
        | Test::Regex { lhs, .. }
            if matches!(lhs, Operand::Field(FieldRef::Catalog(_) | FieldRef::Raw(_))) =>
        {
            Some(value.is_some_and(|v| holds_for(t, v)))
        }
        _ => None,
    }
}

/// The field a test reads when [`test_on_value`] can decide it.
pub(crate) fn tested_field(t: &Test) -> Option<&FieldRef> {
    let f = match t {
        Test::Exists(f) => f,
        Test::Compare {
            lhs: Operand::Field(f),
            rhs: Operand::Lit(_),
            ..
        } => f,
        Test::Str {
            lhs: Operand::Field(f),
            ..
        }
        | Test::In {
            lhs: Operand::Field(f),
            ..
        }
        | Test::Cidr {
            lhs: Operand::Field(f),
            ..
        }
        | Test::Regex {
            lhs: Operand::Field(f),
            ..
        } => f,
        _ => return None,
    };
    (!matches!(f, FieldRef::Elem(_))).then_some(f)
}

fn compare(l: &FieldValue<'_>, op: CmpOp, r: &FieldValue<'_>) -> bool {
    match op {
        CmpOp::Ne => !any(l, &|x| equal(x, r, false)),
        CmpOp::Eq => any(l, &|x| equal(x, r, false)),
        CmpOp::EqNocase => any(l, &|x| equal(x, r, true)),
        CmpOp::Lt => any(l, &|x| order(x, r) == Some(Ordering::Less)),
        CmpOp::Le => any(l, &|x| {
            matches!(order(x, r), Some(Ordering::Less | Ordering::Equal))
        }),
        CmpOp::Gt => any(l, &|x| order(x, r) == Some(Ordering::Greater)),
        CmpOp::Ge => any(l, &|x| {
            matches!(order(x, r), Some(Ordering::Greater | Ordering::Equal))
        }),
    }
}

/// A one-sided test (substring, membership, network, regex) on the value of its left
/// side.
fn holds_for(t: &Test, v: &FieldValue<'_>) -> bool {
    match t {
        Test::Str { op, needle, .. } => any(v, &|x| match x {
            FieldValue::Str(s) => str_test(s, *op, needle),
            _ => false,
        }),
        Test::In { set, .. } => any(v, &|x| in_set(x, set)),
        Test::Cidr { nets, .. } => any(v, &|x| {
            as_ip(x).is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)))
        }),
        Test::Regex { re, .. } => any(v, &|x| matches!(x, FieldValue::Str(s) if re.is_match(s))),
        Test::Exists(_) | Test::Compare { .. } | Test::Intel { .. } => false,
    }
}

fn operand<'e>(o: &Operand, event: &'e Event, elem: Elem<'_, 'e>) -> Option<FieldValue<'e>> {
    match o {
        Operand::Field(f) => f
            .get_in(event, elem)
            .filter(|v| !matches!(v, FieldValue::Null)),
        Operand::Lit(v) => Some(v.clone()),
        Operand::Call(func, args) => {
            let values: Option<Vec<_>> = args.iter().map(|a| operand(a, event, elem)).collect();
            func.eval(&values?)
        }
    }
}

/// Holds for the value, or for any element of a list.
fn any(v: &FieldValue<'_>, f: &dyn Fn(&FieldValue<'_>) -> bool) -> bool {
    match v {
        FieldValue::List(items) => items.iter().any(|i| any(i, f)),
        other => f(other),
    }
}

fn as_ip(v: &FieldValue<'_>) -> Option<IpAddr> {
    match v {
        FieldValue::Ip(ip) => Some(*ip),
        FieldValue::Str(s) => crate::event::parse_ip(s),
        _ => None,
    }
}

fn as_f64(v: &FieldValue<'_>) -> Option<f64> {
    match v {
        FieldValue::Int(i) => Some(*i as f64),
        FieldValue::Float(f) => Some(*f),
        _ => None,
    }
}

fn equal(a: &FieldValue<'_>, b: &FieldValue<'_>, nocase: bool) -> bool {
    use FieldValue as V;
    match (a, b) {
        (V::Str(x), V::Str(y)) if nocase => eq_nocase(x, y),
        (V::Str(x), V::Str(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Ip(x), V::Ip(y)) => x == y,
        (V::Time(x), V::Time(y)) => x == y,
        (V::Null, V::Null) => true,
        (V::Ip(_), V::Str(_)) | (V::Str(_), V::Ip(_)) => as_ip(a).is_some() && as_ip(a) == as_ip(b),
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn eq_nocase(x: &str, y: &str) -> bool {
    if x.is_ascii() && y.is_ascii() {
        x.eq_ignore_ascii_case(y)
    } else {
        x.to_lowercase() == y.to_lowercase()
    }
}

fn order(a: &FieldValue<'_>, b: &FieldValue<'_>) -> Option<Ordering> {
    use FieldValue as V;
    match (a, b) {
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
    }
}

fn str_test(hay: &str, op: StrOp, needle: &Needle) -> bool {
    if !needle.nocase {
        return match op {
            StrOp::Contains => hay.contains(needle.text.as_str()),
            StrOp::StartsWith => hay.starts_with(needle.text.as_str()),
            StrOp::EndsWith => hay.ends_with(needle.text.as_str()),
        };
    }
    let n = needle.text.as_bytes();
    if !needle.text.is_ascii() {
        let lower = hay.to_lowercase();
        return match op {
            StrOp::Contains => lower.contains(needle.text.as_str()),
            StrOp::StartsWith => lower.starts_with(needle.text.as_str()),
            StrOp::EndsWith => lower.ends_with(needle.text.as_str()),
        };
    }
    let h = hay.as_bytes();
    match op {
        StrOp::Contains => match &needle.finder {
            Some(f) => f.is_match(hay),
            None => hay.to_ascii_lowercase().contains(needle.text.as_str()),
        },
        StrOp::StartsWith => h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n),
        StrOp::EndsWith => h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n),
    }
}

fn in_set(v: &FieldValue<'_>, set: &LitSet) -> bool {
    // `x in (a, b)` holds exactly when `x == a or x == b` would.
    let others = || set.others.iter().any(|o| equal(v, o, set.nocase));
    match v {
        FieldValue::Str(s) => {
            let hit = if set.nocase {
                let lower: Cow<'_, str> = if s.chars().any(char::is_uppercase) {
                    Cow::Owned(s.to_lowercase())
                } else {
                    Cow::Borrowed(s.as_ref())
                };
                set.strings.contains(lower.as_ref())
            } else {
                set.strings.contains(s.as_ref())
            };
            hit || others()
        }
        FieldValue::Int(i) => set.ints.contains(i) || others(),
        FieldValue::Float(f) if f.fract() == 0.0 => set.ints.contains(&(*f as i64)) || others(),
        _ => others(),
    }
}
