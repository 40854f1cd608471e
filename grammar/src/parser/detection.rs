//! Pairs of a rule's `when:` to [`Detection`]: the condition, then its stateful stages
//! or its sequence. Shapes the grammar accepts but that make no sense (a zero window,
//! `at least 0 times`, `seen < 0`) are rejected here with `G011`.

use pest::iterators::Pair;

use super::{build_expr, build_operand, compare_op, internal, literal_of, pair_span, Res, Rule};
use crate::ast::{
    AggFunc, AggTest, Aggregate, Detection, Duration, Limit, LitValue, Operand, Sequence, Span,
    Stage, StageKind, Step,
};
use crate::diagnostic::Diagnostic;

/// The most tests (`agg op limit`, joined by `and`) one window may have.
pub const MAX_WINDOW_TESTS: usize = 8;

/// The longest window, learning period or sequence span: a year.
pub const MAX_DURATION_SECS: u64 = 366 * 86_400;

/// Builds the `detection` pair.
pub(super) fn build(top: Pair<'_, Rule>) -> Res<Detection> {
    let span = pair_span(&top);
    let mut cond = None;
    let mut stages = Vec::new();
    let mut sequence = None;
    for p in top.into_inner() {
        match p.as_rule() {
            Rule::expr => cond = Some(build_expr(p)?),
            Rule::stage => stages.push(stage(p)?),
            Rule::sequence_tail => sequence = Some(p),
            Rule::EOI => {}
            _ => return Err(internal(pair_span(&p))),
        }
    }
    let cond = cond.ok_or_else(|| internal(span.clone()))?;
    match sequence {
        None => Ok(Detection::Filter { cond, stages }),
        Some(tail) => sequence_of(cond, tail),
    }
}

fn sequence_of(first: crate::ast::Expr, tail: Pair<'_, Rule>) -> Res<Detection> {
    let span = pair_span(&tail);
    let mut steps = vec![Step {
        span: first.span.clone(),
        cond: first,
        times: 1,
    }];
    let mut within = None;
    let mut by = Vec::new();
    for p in tail.into_inner() {
        match p.as_rule() {
            Rule::repeat => {
                let step = steps.last_mut().ok_or_else(|| internal(span.clone()))?;
                let (n, n_span) = uint_in(&p)?;
                if n == 0 || n > 10_000 {
                    return Err(invalid(n_span, "a step repeats 1 to 10,000 times"));
                }
                step.times = n as u32;
                step.span = step.span.to(&pair_span(&p));
            }
            Rule::expr => {
                let cond = build_expr(p)?;
                steps.push(Step {
                    span: cond.span.clone(),
                    cond,
                    times: 1,
                });
            }
            Rule::duration => within = Some(duration(p)?),
            Rule::by_clause => by = operands(p)?,
            Rule::kw_then | Rule::kw_within => {}
            _ => return Err(internal(pair_span(&p))),
        }
    }
    let within = within.ok_or_else(|| internal(span))?;
    Ok(Detection::Sequence(Sequence { steps, within, by }))
}

fn stage(pair: Pair<'_, Rule>) -> Res<Stage> {
    let outer = pair_span(&pair);
    let inner = pair
        .into_inner()
        .find(|p| matches!(p.as_rule(), Rule::threshold | Rule::baseline))
        .ok_or_else(|| internal(outer))?;
    let span = pair_span(&inner);
    let kind = match inner.as_rule() {
        Rule::threshold => threshold(inner)?,
        _ => baseline(inner)?,
    };
    Ok(Stage { kind, span })
}

fn threshold(pair: Pair<'_, Rule>) -> Res<StageKind> {
    let span = pair_span(&pair);
    let mut tests = Vec::new();
    let mut over = None;
    let mut by = Vec::new();
    let mut learning = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::agg_test => tests.push(agg_test(p)?),
            Rule::duration => over = Some(duration(p)?),
            Rule::by_clause => by = operands(p)?,
            Rule::learning => learning = Some(learning_of(p)?),
            Rule::kw_over | Rule::kw_and => {}
            _ => return Err(internal(pair_span(&p))),
        }
    }
    let (false, Some(over)) = (tests.is_empty(), over) else {
        return Err(internal(span));
    };
    if let Some(extra) = tests.get(MAX_WINDOW_TESTS) {
        return Err(invalid(
            extra.agg.span.clone(),
            "a window has at most 8 tests; split it into stages",
        ));
    }
    Ok(StageKind::Threshold {
        tests,
        over,
        by,
        learning,
    })
}

fn agg_test(pair: Pair<'_, Rule>) -> Res<AggTest> {
    let span = pair_span(&pair);
    let mut agg = None;
    let mut op = None;
    let mut limit = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::aggregate => agg = Some(aggregate(p)?),
            Rule::compare_op => op = Some((compare_op(&p)?, pair_span(&p))),
            Rule::number => {
                let s = pair_span(&p);
                limit = Some(Limit::Number(number(p)?, s));
            }
            Rule::anomaly => limit = Some(anomaly(p)?),
            _ => return Err(internal(pair_span(&p))),
        }
    }
    let (Some(agg), Some((op, op_span)), Some(limit)) = (agg, op, limit) else {
        return Err(internal(span));
    };
    Ok(AggTest {
        agg,
        op,
        op_span,
        limit,
    })
}

fn aggregate(pair: Pair<'_, Rule>) -> Res<Aggregate> {
    let span = pair_span(&pair);
    let mut func = None;
    let mut arg = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::agg_name => {
                func = Some(match p.as_str() {
                    "count" => AggFunc::Count,
                    "distinct" => AggFunc::Distinct,
                    "sum" => AggFunc::Sum,
                    "min" => AggFunc::Min,
                    "max" => AggFunc::Max,
                    _ => AggFunc::Avg,
                })
            }
            Rule::operand => arg = Some(build_operand(p)?),
            _ => {}
        }
    }
    let func = func.ok_or_else(|| internal(span.clone()))?;
    match (func, &arg) {
        (AggFunc::Count, Some(a)) => Err(Diagnostic::error("G011", "`count()` takes no argument")
            .with_primary(a.span().clone(), "remove this")
            .with_help("`count()` counts events; to count different values use `distinct(field)`")),
        (AggFunc::Count, None) | (_, Some(_)) => Ok(Aggregate { func, arg, span }),
        (f, None) => Err(
            Diagnostic::error("G011", format!("`{}()` needs a field", f.name()))
                .with_primary(span, "no argument")
                .with_help(format!("e.g. `{}(net.bytes)`", f.name())),
        ),
    }
}

fn anomaly(pair: Pair<'_, Rule>) -> Res<Limit> {
    let span = pair_span(&pair);
    let mut factor = None;
    let mut sigma = None;
    let mut floor = None;
    let mut times = false;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::times => times = true,
            Rule::plus => times = false,
            Rule::number => {
                let s = pair_span(&p);
                let n = number(p)?;
                if n <= 0.0 {
                    return Err(invalid(s, "must be greater than 0"));
                }
                if times {
                    factor = Some(n);
                } else {
                    sigma = Some(n);
                }
            }
            Rule::floor => {
                let n = p
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::number)
                    .ok_or_else(|| internal(span.clone()))?;
                floor = Some(number(n)?);
            }
            _ => {}
        }
    }
    Ok(Limit::Baseline {
        factor,
        sigma,
        floor,
        span,
    })
}

fn baseline(pair: Pair<'_, Rule>) -> Res<StageKind> {
    let span = pair_span(&pair);
    let mut rare = false;
    let mut kind_span = span.clone();
    let mut terms = Vec::new();
    let mut by = Vec::new();
    let mut seen_below = None;
    let mut novelty = None;
    let mut learning = None;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::baseline_kind => {
                rare = p.as_str() == "rare";
                kind_span = pair_span(&p);
            }
            Rule::terms => terms = operands(p)?,
            Rule::by_clause => by = operands(p)?,
            Rule::seen => {
                let (n, s) = uint_in(&p)?;
                if n == 0 {
                    return Err(invalid(
                        s,
                        "nothing is seen fewer than 0 times; use `seen < 1` or `new`",
                    ));
                }
                seen_below = Some((n, s));
            }
            Rule::novelty => {
                let d = p
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::duration)
                    .ok_or_else(|| internal(span.clone()))?;
                novelty = Some(duration(d)?);
            }
            Rule::learning => learning = Some(learning_of(p)?),
            _ => {}
        }
    }
    let learning = learning.ok_or_else(|| internal(span.clone()))?;
    match (rare, &seen_below) {
        (true, None) => {
            return Err(Diagnostic::error("G011", "`rare` needs `seen < N`")
                .with_primary(kind_span, "how rare?")
                .with_help("e.g. `rare user_agent by actor.arn seen < 3 after learning 14d`"))
        }
        (false, Some((_, s))) => {
            return Err(Diagnostic::error("G011", "`new` means never seen")
                .with_primary(s.clone(), "`new` takes no `seen < N`")
                .with_help("write `rare …` to fire on values seen fewer than N times"))
        }
        _ => {}
    }
    Ok(StageKind::Baseline {
        rare,
        kind_span,
        terms,
        by,
        seen_below,
        novelty,
        learning,
    })
}

fn learning_of(pair: Pair<'_, Rule>) -> Res<Duration> {
    let span = pair_span(&pair);
    let d = pair
        .into_inner()
        .find(|q| q.as_rule() == Rule::duration)
        .ok_or_else(|| internal(span))?;
    duration(d)
}

fn operands(pair: Pair<'_, Rule>) -> Res<Vec<Operand>> {
    pair.into_inner()
        .filter(|q| q.as_rule() == Rule::operand)
        .map(build_operand)
        .collect()
}

/// A `duration` pair, checked to be above zero and at most a year.
fn duration(pair: Pair<'_, Rule>) -> Res<Duration> {
    let lit = literal_of(pair)?;
    let LitValue::Duration(secs) = lit.value else {
        return Err(internal(lit.span));
    };
    if secs == 0 {
        return Err(invalid(lit.span, "a duration here must be longer than 0"));
    }
    if secs > MAX_DURATION_SECS {
        return Err(invalid(lit.span, "at most 366d"));
    }
    Ok(Duration {
        secs,
        span: lit.span,
    })
}

/// A `number` pair as a float.
fn number(pair: Pair<'_, Rule>) -> Res<f64> {
    let span = pair_span(&pair);
    let inner = pair.into_inner().next().ok_or_else(|| internal(span))?;
    let lit = literal_of(inner)?;
    match lit.value {
        LitValue::Int(i) => Ok(i as f64),
        LitValue::Float(f) => Ok(f),
        _ => Err(internal(lit.span)),
    }
}

/// The `uint` inside a pair.
fn uint_in(pair: &Pair<'_, Rule>) -> Res<(u64, Span)> {
    let p = pair
        .clone()
        .into_inner()
        .find(|q| q.as_rule() == Rule::uint)
        .ok_or_else(|| internal(pair_span(pair)))?;
    let span = pair_span(&p);
    let n = p
        .as_str()
        .parse::<u64>()
        .map_err(|_| invalid(span.clone(), "too large"))?;
    Ok((n, span))
}

fn invalid(span: Span, label: &str) -> Diagnostic {
    Diagnostic::error("G011", "invalid value").with_primary(span, label.to_string())
}
