//! Typed syntax tree of a condition. Every node carries the [`Span`] of the text it came
//! from (byte offsets into the condition string), so later stages can point at it.

use std::fmt;
use std::ops::Range;

/// Byte range into the condition text. Line and column are computed only when a
/// diagnostic is rendered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span(pub Range<u32>);

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span(start as u32..end as u32)
    }
    /// First byte.
    pub fn start(&self) -> usize {
        self.0.start as usize
    }
    /// One past the last byte.
    pub fn end(&self) -> usize {
        self.0.end as usize
    }
    /// The smallest span covering both.
    pub fn to(&self, other: &Span) -> Span {
        Span(self.0.start.min(other.0.start)..self.0.end.max(other.0.end))
    }
}

/// A boolean condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind of condition.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of condition.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `lhs == rhs`, `lhs < rhs`, `lhs ~= rhs` …
    Compare {
        /// Left operand.
        lhs: Operand,
        /// The operator.
        op: CompareOp,
        /// Right operand.
        rhs: Operand,
    },
    /// `lhs contains rhs`, `lhs startswith~ rhs` …
    StrMatch {
        /// Left operand.
        lhs: Operand,
        /// The operator.
        op: StrOp,
        /// Case-insensitive (`~` suffix).
        nocase: bool,
        /// Right operand.
        rhs: Operand,
    },
    /// `lhs in (…)`, `lhs in~ (…)`, `lhs in list_name`, `lhs in cidr(…)`.
    In {
        /// Left operand.
        lhs: Operand,
        /// Case-insensitive (`in~`).
        nocase: bool,
        /// What it must be in.
        set: InSet,
    },
    /// `lhs matches /re/flags`
    Matches {
        /// Left operand.
        lhs: Operand,
        /// The regular expression.
        regex: RegexLit,
    },
    /// `path exists`
    Exists(Path),
    /// A bare name used as a condition: a macro reference (resolved by the engine).
    Ref(Ident),
    /// `true` or `false` as a whole condition.
    Bool(bool),
    /// `any(path, cond)` / `all(path, cond)`: `cond` holds for one / every element of the
    /// array at `path`. Paths inside `cond` are relative to the element.
    Quantified {
        /// `all` (every element) rather than `any` (at least one).
        all: bool,
        /// The array.
        list: Path,
        /// The condition on each element.
        cond: Box<Expr>,
    },
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `~=` (case-insensitive string equality)
    EqNocase,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Substring operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrOp {
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
}

/// The right side of `in`.
#[derive(Clone, Debug, PartialEq)]
pub enum InSet {
    /// `in ("a", "b", 3)`; the span covers the parentheses.
    Items(Vec<Literal>, Span),
    /// `in name`: a pack-level named list.
    Named(Ident),
    /// `in cidr("10.0.0.0/8", 192.168.0.0/16)`; the span covers `cidr(...)`.
    Cidr(Vec<Literal>, Span),
    /// `in list("tor-exit-nodes")` or `in list(threat)`; the span covers `list(...)`.
    Intel(IntelRef, Span),
}

/// Which declared lists `list(…)` names.
#[derive(Clone, Debug, PartialEq)]
pub enum IntelRef {
    /// `list("name")`: one list, by name (the span covers the quoted name).
    Name(String, Span),
    /// `list(threat)`: every list of a kind (checked by the engine).
    Kind(Ident),
}

/// A value-producing operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A field path.
    Path(Path),
    /// A literal.
    Literal(Literal),
    /// A function call, e.g. `lower(userAgent)`.
    Call(Call),
}

impl Operand {
    /// Where the operand is written.
    pub fn span(&self) -> &Span {
        match self {
            Operand::Path(p) => &p.span,
            Operand::Literal(l) => &l.span,
            Operand::Call(c) => &c.span,
        }
    }
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Function name.
    pub name: Ident,
    /// Arguments.
    pub args: Vec<Operand>,
    /// The whole call.
    pub span: Span,
}

/// A name with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A dotted field path: `actor.arn`, `requestParameters.bucketName`,
/// `resources[0].ARN`, `annotations["authorization.k8s.io/decision"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// The segments in order.
    pub segments: Vec<Segment>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path written back in canonical dotted form (`a.b[0]["c.d"]`).
    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Name(n) if is_plain_name(n) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(n);
                }
                Segment::Name(n) => {
                    out.push_str("[\"");
                    out.push_str(n);
                    out.push_str("\"]");
                }
                Segment::Index(ix) => {
                    out.push('[');
                    out.push_str(&ix.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object key.
    Name(String),
    /// An array index.
    Index(u32),
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: LitValue,
    /// Where.
    pub span: Span,
}

/// Literal values.
#[derive(Clone, Debug, PartialEq)]
pub enum LitValue {
    /// `"text"` or `'text'` (escapes resolved).
    Str(String),
    /// `42`, `-1`
    Int(i64),
    /// `1.5`
    Float(f64),
    /// `true` / `false`
    Bool(bool),
    /// `null`
    Null,
    /// `5m`, `30s`, `2h`, `14d`: in seconds.
    Duration(u64),
    /// A bare IPv4 address `10.0.0.1` or CIDR `10.0.0.0/8`, kept as text; the engine
    /// parses and checks it.
    Ip(String),
}

/// `/pattern/flags`
#[derive(Clone, Debug, PartialEq)]
pub struct RegexLit {
    /// The pattern, with `\/` unescaped to `/`.
    pub pattern: String,
    /// Flags after the closing slash (`i`, `m`, `s`, `x`).
    pub flags: String,
    /// The whole literal.
    pub span: Span,
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::EqNocase => "~=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        })
    }
}

impl fmt::Display for StrOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StrOp::Contains => "contains",
            StrOp::StartsWith => "startswith",
            StrOp::EndsWith => "endswith",
        })
    }
}

/// A rule's `when:` as a whole: a condition on each event, alone or followed by
/// stateful stages, or a sequence of conditions.
#[derive(Clone, Debug, PartialEq)]
pub enum Detection {
    /// `cond`, `cond | stage | stage …`
    Filter {
        /// The condition every event must meet.
        cond: Expr,
        /// Stateful stages, in order; each sees the events the previous ones let pass.
        stages: Vec<Stage>,
    },
    /// `a then b … within 10m by key`
    Sequence(Sequence),
}

/// A stateful stage after `|`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// What it does.
    pub kind: StageKind,
    /// The stage, without its `|`.
    pub span: Span,
}

/// The kinds of stateful stage.
#[derive(Clone, Debug, PartialEq)]
pub enum StageKind {
    /// `count() > 20 over 5m by src.ip`, or against a learned baseline:
    /// `sum(net.bytes) > baseline * 10 over 1h by instance.id after learning 1d`.
    Threshold {
        /// The aggregates and what they are compared with; all must hold on one window.
        tests: Vec<AggTest>,
        /// The window length.
        over: Duration,
        /// Grouping keys: fields or calls such as `lower(user_agent)` (empty: one group).
        by: Vec<Operand>,
        /// `after learning D`: history a key needs before it can fire.
        learning: Option<Duration>,
    },
    /// `new (a, b) [by k] [for D] after learning D`, `rare a by k seen < N after learning D`.
    Baseline {
        /// `rare` (with `seen < N`) rather than `new`.
        rare: bool,
        /// Its span.
        kind_span: Span,
        /// The values whose combination is learned.
        terms: Vec<Operand>,
        /// Entity keys: learning counts from when each entity was first seen.
        by: Vec<Operand>,
        /// `seen < N`: the combination was seen fewer than N times before.
        seen_below: Option<(u64, Span)>,
        /// `for D`: the combination counts as new for D after it was first seen.
        novelty: Option<Duration>,
        /// `after learning D`.
        learning: Duration,
    },
}

/// `agg(f) op limit`: one test of a window.
#[derive(Clone, Debug, PartialEq)]
pub struct AggTest {
    /// `count()`, `distinct(f)`, `sum(f)` …
    pub agg: Aggregate,
    /// The comparison.
    pub op: CompareOp,
    /// Its span.
    pub op_span: Span,
    /// A number, or a multiple of the key's baseline.
    pub limit: Limit,
}

/// An aggregate function over a window.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// Which one.
    pub func: AggFunc,
    /// Its argument (none for `count()`).
    pub arg: Option<Operand>,
    /// The whole call.
    pub span: Span,
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count()`: events.
    Count,
    /// `distinct(f)`: different values of `f`.
    Distinct,
    /// `sum(f)`
    Sum,
    /// `min(f)`
    Min,
    /// `max(f)`
    Max,
    /// `avg(f)`
    Avg,
}

impl AggFunc {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Distinct => "distinct",
            AggFunc::Sum => "sum",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Avg => "avg",
        }
    }
}

/// The right side of a threshold.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// A number.
    Number(f64, Span),
    /// `baseline * F` or `baseline + Z sigma`, optionally `and at least N`.
    Baseline {
        /// `* F`: a factor of the key's mean.
        factor: Option<f64>,
        /// `+ Z sigma`: standard deviations above the key's mean.
        sigma: Option<f64>,
        /// `and at least N`: a floor the value must also reach.
        floor: Option<f64>,
        /// The whole limit.
        span: Span,
    },
}

/// A length of time, with where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration {
    /// Seconds.
    pub secs: u64,
    /// Where.
    pub span: Span,
}

/// `a then b … within D by key`
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// All steps fall within this span of time.
    pub within: Duration,
    /// The steps share these key values.
    pub by: Vec<Operand>,
}

/// One step of a sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The condition.
    pub cond: Expr,
    /// `at least N times` (1 when absent).
    pub times: u32,
    /// The step with its repetition.
    pub span: Span,
}
