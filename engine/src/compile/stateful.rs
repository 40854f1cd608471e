//! Stateful detections in the IR: what a rule's `when:` asks beyond one event.
//!
//! A rule's `when:` parses to a [`picket_grammar::ast::Detection`]: a condition,
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

use super::ir::{CmpOp, Cond, Operand};
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
    pub fn default_group_by(&self) -> Vec<Key> {
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

/// A named key: as written, and resolved (a field, or a call such as
/// `first_label(dns.query)`).
pub type Key = (String, Operand);

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

/// `agg(arg) op limit [and …] over D by keys`
#[derive(Clone, Debug)]
pub struct Window {
    /// The tests; all must hold on one window.
    pub tests: Vec<WindowTest>,
    /// Window length in milliseconds.
    pub over_ms: i64,
    /// Grouping keys.
    pub by: Vec<Key>,
    /// Compared with the key's own history (one `count()` or `sum(…)` test) rather
    /// than with numbers: windows are fixed (aligned to multiples of the window
    /// length), each closed window is one sample of the baseline.
    pub baseline: Option<BaselineLimit>,
}

/// One aggregate and its comparison.
#[derive(Clone, Debug)]
pub struct WindowTest {
    /// The aggregate.
    pub func: AggFunc,
    /// Its argument.
    pub arg: Option<Operand>,
    /// `>`, `>=`, `<`, `<=`.
    pub op: CmpOp,
    /// The number it is compared with (unused against a baseline).
    pub limit: f64,
    /// As written (`distinct(dst.port)`), for explanations.
    pub text: String,
}

impl WindowTest {
    /// `count`, `distinct` and `sum` only grow as events arrive.
    pub fn grows(&self) -> bool {
        matches!(self.func, AggFunc::Count | AggFunc::Distinct | AggFunc::Sum)
    }
}

impl Window {
    /// Compared with the key's baseline rather than a number.
    pub fn is_anomaly(&self) -> bool {
        self.baseline.is_some()
    }

    /// Every test only grows: the window fires when *some* window holding the event
    /// passes (else: the window that ends at the event).
    pub fn grows(&self) -> bool {
        self.tests.iter().all(WindowTest::grows)
    }
}

/// A baseline comparison: `> baseline * F`, `> baseline + Z sigma`, `and at least N`.
#[derive(Clone, Debug)]
pub struct BaselineLimit {
    /// `baseline * F`
    pub factor: Option<f64>,
    /// `baseline + Z sigma`
    pub sigma: Option<f64>,
    /// `and at least N`
    pub floor: Option<f64>,
    /// Windows of history a key needs (`after learning D` / window length).
    pub min_history: u64,
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

/// The parts of a baseline limit: where it is written, factor, sigma, floor.
type LimitParts = (picket_grammar::Span, Option<f64>, Option<f64>, Option<f64>);

/// Resolves one `agg(f) op limit` test; the baseline limit, when it is one, apart.
fn resolve_test(
    r: &mut Resolver<'_>,
    t: &ast::AggTest,
    at: Place<'_>,
) -> Option<(WindowTest, Option<LimitParts>)> {
    let agg = &t.agg;
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
    let op = match t.op {
        CompareOp::Gt => CmpOp::Gt,
        CompareOp::Ge => CmpOp::Ge,
        CompareOp::Lt if !growing => CmpOp::Lt,
        CompareOp::Le if !growing => CmpOp::Le,
        other => {
            let mut d = Diagnostic::error(
                "C121",
                format!("`{}()` cannot be compared with `{other}`", agg.func.name()),
            )
            .with_primary(t.op_span.clone(), "not allowed here");
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
    let (limit, parts) = match &t.limit {
        Limit::Number(n, _) => (*n, None),
        Limit::Baseline {
            factor,
            sigma,
            floor,
            span,
        } => (0.0, Some((span.clone(), *factor, *sigma, *floor))),
    };
    let test = WindowTest {
        func: agg.func,
        arg,
        op,
        limit,
        text: text_of(at, &agg.span),
    };
    Some((test, parts))
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

fn keys(r: &mut Resolver<'_>, operands: &[ast::Operand], at: Place<'_>) -> Option<Vec<Key>> {
    let mut out = Vec::new();
    let mut ok = true;
    for o in operands {
        if let ast::Operand::Literal(lit) = o {
            r.report_at(
                at,
                Diagnostic::error("C123", "a key must be a field or a function of fields")
                    .with_primary(lit.span.clone(), "this is a constant")
                    .with_help(
                        "group by fields such as `src.ip`, or calls such as `lower(user_agent)`",
                    ),
            );
            ok = false;
            continue;
        }
        match r.operand_of(o, at) {
            Some((operand, _)) => out.push((text_of(at, o.span()), operand)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn resolve_stage(r: &mut Resolver<'_>, stage: &ast::Stage, at: Place<'_>) -> Option<Stage> {
    let text = text_of(at, &stage.span);
    let kind = match &stage.kind {
        StageKind::Threshold {
            tests,
            over,
            by,
            learning,
        } => {
            let mut resolved = Vec::new();
            let mut baseline = None;
            for t in tests {
                let (test, limit) = resolve_test(r, t, at)?;
                if let Some(limit) = limit {
                    baseline = Some((limit, t.op, t.agg.func));
                }
                resolved.push(test);
            }
            let by = keys(r, by, at)?;
            let baseline = match (baseline, learning) {
                (None, None) => None,
                (None, Some(l)) => {
                    r.report_at(
                        at,
                        Diagnostic::error("C122", "`after learning` needs a baseline")
                            .with_primary(l.span.clone(), "nothing to learn")
                            .with_help("compare with the key's history, e.g. `> baseline * 10`, or remove `after learning`"),
                    );
                    return None;
                }
                (Some(((span, ..), ..)), None) => {
                    r.report_at(
                        at,
                        Diagnostic::error("C122", "a baseline needs a learning period")
                            .with_primary(span.clone(), "compared with the key's history")
                            .with_help("add `after learning 1d` (or longer) after the keys"),
                    );
                    return None;
                }
                (Some(((span, factor, sigma, floor), op, func)), Some(l)) => {
                    let supported = matches!(func, AggFunc::Count | AggFunc::Sum)
                        && matches!(op, CompareOp::Gt | CompareOp::Ge)
                        && resolved.len() == 1;
                    if !supported {
                        r.report_at(
                            at,
                            Diagnostic::error(
                                "C122",
                                "a baseline comparison is one `count()` or `sum(…)` above the baseline, alone in its stage",
                            )
                            .with_primary(span.clone(), "compared with the key's history")
                            .with_help("write `count() > baseline * 10 …` or `sum(net.bytes) > baseline + 3 sigma …`; put other tests in a stage of their own"),
                        );
                        return None;
                    }
                    Some(BaselineLimit {
                        factor,
                        sigma,
                        floor,
                        min_history: (l.secs / over.secs.max(1)).max(1),
                    })
                }
            };
            StageOp::Window(Window {
                tests: resolved,
                over_ms: over.secs as i64 * 1000,
                by,
                baseline,
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
