//! Stateful detections in the IR: what a rule's `when:` asks beyond one event.
//!
//! A rule's `when:` parses to a [`Detection`](picket_grammar::ast::Detection): a condition,
//! alone or piped into stages (`| count() > 20 over 5m by src.ip`, `| new (a, b) after
//! learning 14d`), or a sequence (`a then b within 10m by key`). [`resolve_detection`]
//! turns it into the rule's per-event [`Cond`] (for a sequence: any of its steps), which
//! the dispatch index and the evaluators use like any other, plus a [`Stateful`] part
//! that the state store (`run::state`) runs on the events that meet the condition.
//!
//! Checks with diagnostics: aggregate arguments have a type the aggregate can use,
//! thresholds on growing aggregates (`count`, `distinct`, `sum`) are `>`/`>=` (a window
//! that must stay *below* a number would need the absence of events), baseline
//! comparisons need `after learning`, keys are fields of the rule's sources.

use picket_grammar::ast::{self, AggFunc, CompareOp, Detection, Limit, StageKind};
use picket_grammar::Diagnostic;

use super::ir::{CmpOp, Cond, FieldRef, Operand};
use super::resolve::{Place, Resolver};
use crate::event::FieldType;

/// The stateful part of a rule.
#[derive(Clone, Debug)]
pub enum Stateful {
    /// Stages after the condition, in order.
    Stages(Vec<Stage>),
    /// A sequence of steps.
    Sequence(Sequence),
}

impl Stateful {
    /// The keys its findings aggregate on when the rule sets no `group_by`: those of
    /// the last stage (a baseline's entity keys and terms), or the sequence's.
    pub fn default_group_by(&self) -> Vec<(String, FieldRef)> {
        match self {
            Stateful::Sequence(s) => s.by.clone(),
            Stateful::Stages(stages) => match stages.last().map(|s| &s.kind) {
                Some(StageOp::Window(w)) => w.by.clone(),
                Some(StageOp::Baseline(b)) => b.by.iter().chain(&b.terms).cloned().collect(),
                None => Vec::new(),
            },
        }
    }
}

/// A named key: as written, and resolved.
pub type Key = (String, FieldRef);

/// One stage.
#[derive(Clone, Debug)]
pub struct Stage {
    /// The stage as written (whitespace collapsed), for explanations.
    pub text: String,
    /// What it does.
    pub kind: StageOp,
}

/// What a stage does.
#[derive(Clone, Debug)]
pub enum StageOp {
    /// An aggregate over a sliding window, against a number or the key's baseline.
    Window(Window),
    /// First-seen / rare combinations of values.
    Baseline(Baseline),
}

/// `agg(arg) op limit over D by keys`
#[derive(Clone, Debug)]
pub struct Window {
    /// The aggregate.
    pub func: AggFunc,
    /// Its argument.
    pub arg: Option<Operand>,
    /// `>`, `>=`, `<`, `<=`.
    pub op: CmpOp,
    /// What the aggregate is compared with.
    pub limit: WindowLimit,
    /// Window length in milliseconds.
    pub over_ms: i64,
    /// Grouping keys.
    pub by: Vec<Key>,
}

impl Window {
    /// Compared with the key's baseline rather than a number.
    pub fn is_anomaly(&self) -> bool {
        matches!(self.limit, WindowLimit::Baseline { .. })
    }
}

/// The right side of a window's comparison.
#[derive(Clone, Debug)]
pub enum WindowLimit {
    /// A fixed number: the window slides.
    Number(f64),
    /// The key's own history: windows are fixed (aligned to multiples of the window
    /// length), each closed window is one sample of the baseline.
    Baseline {
        /// `baseline * F`
        factor: Option<f64>,
        /// `baseline + Z sigma`
        sigma: Option<f64>,
        /// `and at least N`
        floor: Option<f64>,
        /// Windows of history a key needs (`after learning D` / window length).
        min_history: u64,
    },
}

/// `new|rare terms by keys [seen < N] [for D] after learning D`
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The values whose combination is learned.
    pub terms: Vec<Key>,
    /// Entity keys (learning counts per entity); empty: learning counts per rule.
    pub by: Vec<Key>,
    /// Passes when the combination was seen fewer than this many times before (1 for
    /// `new`).
    pub seen_below: u64,
    /// Passes for this long after the combination was first seen (a `new` that lasts).
    pub novelty_ms: Option<i64>,
    /// Learning period in milliseconds.
    pub learning_ms: i64,
}

/// `a [at least N times] then b … within D by keys`
#[derive(Clone, Debug)]
pub struct Sequence {
    /// The steps.
    pub steps: Vec<Step>,
    /// Longest time from the first step's event to the last's, in milliseconds.
    pub within_ms: i64,
    /// Keys the steps share.
    pub by: Vec<Key>,
    /// The sequence as written after its steps (`within 10m by src.ip`).
    pub text: String,
}

/// One step.
#[derive(Clone, Debug)]
pub struct Step {
    /// Its condition (predicates index the rule's table).
    pub cond: Cond,
    /// Events it needs (`at least N times`).
    pub times: u32,
    /// As written.
    pub text: String,
}

/// The text of `span` in the condition, whitespace collapsed.
fn text_of(at: Place<'_>, span: &picket_grammar::Span) -> String {
    at.cond
        .text
        .get(span.start()..span.end())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resolves a parsed `when:`: the per-event condition, and the stateful part if any.
/// `None` when something did not resolve (the diagnostics are in the resolver).
pub fn resolve_detection(
    r: &mut Resolver<'_>,
    detection: &Detection,
    at: Place<'_>,
) -> Option<(Cond, Option<Stateful>)> {
    match detection {
        Detection::Filter { cond, stages } => {
            let cond = r.expr(cond, at);
            let mut out = Vec::new();
            let mut ok = true;
            for stage in stages {
                match resolve_stage(r, stage, at) {
                    Some(s) => out.push(s),
                    None => ok = false,
                }
            }
            let cond = cond?;
            if !ok {
                return None;
            }
            let stateful = (!out.is_empty()).then_some(Stateful::Stages(out));
            Some((cond, stateful))
        }
        Detection::Sequence(seq) => {
            let mut steps = Vec::new();
            let mut ok = true;
            for step in &seq.steps {
                match r.expr(&step.cond, at) {
                    Some(cond) => steps.push(Step {
                        cond,
                        times: step.times,
                        text: text_of(at, &step.span),
                    }),
                    None => ok = false,
                }
            }
            let by = keys(r, &seq.by, at);
            let (true, Some(by)) = (ok, by) else {
                return None;
            };
            let any = Cond::Or(steps.iter().map(|s| s.cond.clone()).collect());
            let text = format!(
                "within {} by {}",
                text_of(at, &seq.within.span),
                by.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Some((
                any,
                Some(Stateful::Sequence(Sequence {
                    steps,
                    within_ms: seq.within.secs as i64 * 1000,
                    by,
                    text,
                })),
            ))
        }
    }
}

fn keys(r: &mut Resolver<'_>, paths: &[ast::Path], at: Place<'_>) -> Option<Vec<Key>> {
    let mut out = Vec::new();
    let mut ok = true;
    for p in paths {
        match r.field(p, at) {
            Some((f, _)) => out.push((p.dotted(), f)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn resolve_stage(r: &mut Resolver<'_>, stage: &ast::Stage, at: Place<'_>) -> Option<Stage> {
    let text = text_of(at, &stage.span);
    let kind = match &stage.kind {
        StageKind::Threshold {
            agg,
            op,
            op_span,
            limit,
            over,
            by,
            learning,
        } => {
            let arg = match &agg.arg {
                Some(a) => {
                    let (operand, ty) = r.operand_of(a, at)?;
                    let numeric = matches!(ty, FieldType::Int | FieldType::Float | FieldType::Any);
                    if !numeric && !matches!(agg.func, AggFunc::Distinct) {
                        r.report_at(
                            at,
                            Diagnostic::error(
                                "C120",
                                format!("`{}()` needs a number, not {}", agg.func.name(), ty.name()),
                            )
                            .with_primary(a.span().clone(), format!("this is {}", ty.name()))
                            .with_help("aggregate a numeric field such as `net.bytes`, or count different values with `distinct(…)`"),
                        );
                        return None;
                    }
                    Some(operand)
                }
                None => None,
            };
            let growing = matches!(agg.func, AggFunc::Count | AggFunc::Distinct | AggFunc::Sum);
            let op = match op {
                CompareOp::Gt => CmpOp::Gt,
                CompareOp::Ge => CmpOp::Ge,
                CompareOp::Lt if !growing => CmpOp::Lt,
                CompareOp::Le if !growing => CmpOp::Le,
                other => {
                    let mut d = Diagnostic::error(
                        "C121",
                        format!("`{}()` cannot be compared with `{other}`", agg.func.name()),
                    )
                    .with_primary(op_span.clone(), "not allowed here");
                    d = if growing {
                        d.with_note(format!(
                            "a window fires when `{}()` reaches a threshold; staying below one would mean waiting for events that do not come",
                            agg.func.name()
                        ))
                        .with_help("use `>` or `>=`")
                    } else {
                        d.with_help("use `>`, `>=`, `<` or `<=`")
                    };
                    r.report_at(at, d);
                    return None;
                }
            };
            let by = keys(r, by, at)?;
            let over_ms = over.secs as i64 * 1000;
            let limit = match (limit, learning) {
                (Limit::Number(n, _), None) => WindowLimit::Number(*n),
                (Limit::Number(..), Some(l)) => {
                    r.report_at(
                        at,
                        Diagnostic::error("C122", "`after learning` needs a baseline")
                            .with_primary(l.span.clone(), "nothing to learn")
                            .with_help("compare with the key's history, e.g. `> baseline * 10`, or remove `after learning`"),
                    );
                    return None;
                }
                (Limit::Baseline { span, .. }, None) => {
                    r.report_at(
                        at,
                        Diagnostic::error("C122", "a baseline needs a learning period")
                            .with_primary(span.clone(), "compared with the key's history")
                            .with_help("add `after learning 1d` (or longer) after the keys"),
                    );
                    return None;
                }
                (
                    Limit::Baseline {
                        factor,
                        sigma,
                        floor,
                        span,
                    },
                    Some(l),
                ) => {
                    if !matches!(agg.func, AggFunc::Count | AggFunc::Sum)
                        || !matches!(op, CmpOp::Gt | CmpOp::Ge)
                    {
                        r.report_at(
                            at,
                            Diagnostic::error(
                                "C122",
                                "only `count()` and `sum(…)` above a baseline are supported",
                            )
                            .with_primary(span.clone(), "compared with the key's history")
                            .with_help("write `count() > baseline * 10 …` or `sum(net.bytes) > baseline + 3 sigma …`"),
                        );
                        return None;
                    }
                    let min_history = (l.secs / over.secs.max(1)).max(1);
                    WindowLimit::Baseline {
                        factor: *factor,
                        sigma: *sigma,
                        floor: *floor,
                        min_history,
                    }
                }
            };
            StageOp::Window(Window {
                func: agg.func,
                arg,
                op,
                limit,
                over_ms,
                by,
            })
        }
        StageKind::Baseline {
            terms,
            by,
            seen_below,
            novelty,
            learning,
            ..
        } => {
            let terms = keys(r, terms, at);
            let by = keys(r, by, at);
            StageOp::Baseline(Baseline {
                terms: terms?,
                by: by?,
                seen_below: seen_below.as_ref().map_or(1, |(n, _)| *n),
                novelty_ms: novelty.as_ref().map(|d| d.secs as i64 * 1000),
                learning_ms: learning.secs as i64 * 1000,
            })
        }
    };
    Some(Stage { text, kind })
}
