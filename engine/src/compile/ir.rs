//! The intermediate representation a rule compiles to: names resolved, types checked,
//! literals parsed (IPs, CIDRs, regexes, case-folded needles, hash sets), macros expanded.
//!
//! A condition is a tree of [`Cond`] whose leaves index the rule's [`Pred`] table, so the
//! evaluator can report which predicates held (the finding's `matched`).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use picket_grammar::ast::{Segment, StrOp};

use crate::event::{Event, FieldDef, FieldValue};
use crate::functions::Function;
use crate::intel::geo::{GeoAttr, GeoDb};
use crate::intel::IntelList;

/// A boolean tree over predicates.
#[derive(Clone, Debug)]
pub enum Cond {
    /// All hold.
    And(Vec<Cond>),
    /// One holds.
    Or(Vec<Cond>),
    /// Does not hold.
    Not(Box<Cond>),
    /// Predicate number `n` of the rule.
    Pred(u32),
    /// A constant.
    Const(bool),
    /// `any(list, body)` / `all(list, body)`: `body` over the elements of `list`, with
    /// [`FieldRef::Elem`] paths read from the element.
    Quant {
        /// Every element (else: at least one).
        all: bool,
        /// The array.
        list: FieldRef,
        /// The condition on each element.
        body: Box<Cond>,
    },
}

/// A leaf test with the text it was written as.
#[derive(Clone, Debug)]
pub struct Pred {
    /// The source text, for explanations.
    pub text: String,
    /// The test.
    pub test: Test,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `~=`
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

/// A leaf test.
#[derive(Clone, Debug)]
pub enum Test {
    /// `lhs op rhs`
    Compare {
        /// Left.
        lhs: Operand,
        /// Operator.
        op: CmpOp,
        /// Right.
        rhs: Operand,
    },
    /// `lhs contains|startswith|endswith[~] "needle"`
    Str {
        /// Haystack.
        lhs: Operand,
        /// Operator.
        op: StrOp,
        /// The needle (lower-cased when `nocase`).
        needle: Needle,
    },
    /// `lhs in (…)` or `lhs in list_name`
    In {
        /// The value.
        lhs: Operand,
        /// The set.
        set: LitSet,
    },
    /// `lhs in cidr(…)`
    Cidr {
        /// The address.
        lhs: Operand,
        /// The networks.
        nets: Vec<IpNet>,
    },
    /// `lhs matches /re/`
    Regex {
        /// The text.
        lhs: Operand,
        /// The compiled expression.
        re: regex::Regex,
        /// The pattern with its flags inline (`(?i)kali`), for building sets.
        source: String,
    },
    /// `path exists`
    Exists(FieldRef),
    /// `lhs in list("name")` / `lhs in list(threat)`: in one of the declared lists that
    /// apply to the event's account.
    Intel {
        /// The value (an address, a domain name, a URL or text).
        lhs: Operand,
        /// The lists, as loaded when the pack was compiled.
        lists: Vec<Arc<IntelList>>,
    },
}

impl Test {
    /// Does the test read the element of an enclosing `any(…)`/`all(…)`? Such a test
    /// has no value of its own outside the quantifier.
    pub fn reads_element(&self) -> bool {
        fn op(o: &Operand) -> bool {
            match o {
                Operand::Field(FieldRef::Elem(_)) => true,
                Operand::Call(_, args) => args.iter().any(op),
                _ => false,
            }
        }
        match self {
            Test::Compare { lhs, rhs, .. } => op(lhs) || op(rhs),
            Test::Str { lhs, .. }
            | Test::In { lhs, .. }
            | Test::Cidr { lhs, .. }
            | Test::Regex { lhs, .. }
            | Test::Intel { lhs, .. } => op(lhs),
            Test::Exists(f) => matches!(f, FieldRef::Elem(_)),
        }
    }
}

/// The right side of a substring test.
#[derive(Clone, Debug)]
pub struct Needle {
    /// As written (lower-cased when `nocase`).
    pub text: String,
    /// Case-insensitive.
    pub nocase: bool,
    /// Automaton for case-insensitive `contains`.
    pub finder: Option<AhoCorasick>,
}

/// Members of an `in` test, by kind so lookups are hash lookups.
#[derive(Clone, Debug, Default)]
pub struct LitSet {
    /// Strings (lower-cased when `nocase`).
    pub strings: HashSet<String>,
    /// Integers (floats that are whole numbers too).
    pub ints: HashSet<i64>,
    /// Other members, compared one by one (floats, IPs, booleans).
    pub others: Vec<FieldValue<'static>>,
    /// Case-insensitive.
    pub nocase: bool,
}

/// A value-producing operand.
#[derive(Clone)]
pub enum Operand {
    /// A field of the event.
    Field(FieldRef),
    /// A constant.
    Lit(FieldValue<'static>),
    /// A function call.
    Call(&'static dyn Function, Vec<Operand>),
}

impl fmt::Debug for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field(r) => write!(f, "{r:?}"),
            Operand::Lit(v) => write!(f, "{v:?}"),
            Operand::Call(func, args) => write!(f, "{}({args:?})", func.name()),
        }
    }
}

/// A resolved field: a catalog entry or a raw path of the source record.
#[derive(Clone)]
pub enum FieldRef {
    /// Normalized field.
    Catalog(&'static FieldDef),
    /// Raw path.
    Raw(Vec<Segment>),
    /// Path relative to the element of the innermost `any(…)`/`all(…)`.
    Elem(Vec<Segment>),
    /// A geo field (`src.country`): what the databases say of the address in `ip`.
    Geo {
        /// The catalog field, for names.
        def: &'static FieldDef,
        /// What it says.
        attr: GeoAttr,
        /// The field holding the address.
        ip: Box<FieldRef>,
        /// The databases the pack was compiled with (`None`: none, the field is missing).
        db: Option<Arc<GeoDb>>,
    },
}

impl FieldRef {
    /// The field's value in an event (element paths have no value outside a
    /// quantifier).
    pub fn get<'e>(&self, event: &'e Event) -> Option<FieldValue<'e>> {
        self.get_in(event, None)
    }

    /// The field's value in an event, with the element of the enclosing quantifier.
    pub fn get_in<'e>(
        &self,
        event: &'e Event,
        elem: Option<&FieldValue<'e>>,
    ) -> Option<FieldValue<'e>> {
        match self {
            FieldRef::Catalog(def) => def.get(event),
            FieldRef::Raw(path) => event.raw_get(path),
            FieldRef::Elem(path) => match elem? {
                FieldValue::Object(v) => crate::event::walk_path(v, path),
                scalar if path.is_empty() => Some(scalar.clone()),
                _ => None,
            },
            FieldRef::Geo { attr, ip, db, .. } => {
                let db = db.as_ref()?;
                let ip = match ip.get_in(event, elem)? {
                    FieldValue::Ip(ip) => ip,
                    FieldValue::Str(s) => crate::event::parse_ip(&s)?,
                    _ => return None,
                };
                db.lookup(ip, *attr)
            }
        }
    }
}

impl fmt::Debug for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Catalog(def) => write!(f, "{}", def.name),
            FieldRef::Raw(path) => write!(f, "raw{path:?}"),
            FieldRef::Elem(path) => write!(f, "elem{path:?}"),
            FieldRef::Geo { def, .. } => write!(f, "{}", def.name),
        }
    }
}
