//! Projection: the fields a pack reads, each read at most once per event.
//!
//! A pack reads a known set of fields per source (the fields of its dispatch groups).
//! [`Fields`] reads each when first asked for and keeps the value, borrowed from the
//! record, so a field several groups or rules test is searched for once. Values are
//! what [`FieldRef::get`] returns.
//!
//! JSON records: the top-level keys the pack's paths start with are found in one walk
//! over the record's top-level entries, the first time a field is read. Each entry's key
//! is ruled out by its length (one bit test) or matched against the few wanted keys of
//! that length, and the walk stops once every wanted key is found. The parser's own
//! lookup compares the wanted key with every key in turn, and CloudTrail records have
//! twenty or so, so reading ten fields one by one cost more than the walk and a few
//! nested lookups (`userIdentity.arn`). Computed fields (`actor.name`) read the record
//! themselves.
//!
//! VPC flow records are flat: each field is a column, found by name once per log format
//! and then read by position.
//!
//! Measured and left out: a trie of keys over every object of the record, or listing
//! the top-level entries once and searching the list: both cost more than reading the
//! fields one by one.

use std::sync::Arc;

use picket_grammar::ast::Segment;
use smallvec::SmallVec;
use sonic_rs::value::object;
use sonic_rs::{JsonContainerTrait, Value};

use crate::compile::ir::FieldRef;
use crate::event::{
    vpcflow_numeric, walk_path, Event, FieldDef, FieldValue, FlowFormat, Raw, Source,
};

/// How a value read at a flow column becomes the field's value.
#[derive(Clone, Copy, Debug)]
enum Convert {
    /// A catalog field: converted to its type.
    Catalog(&'static FieldDef),
    /// A raw path: the value as it is.
    Raw,
}

impl Convert {
    fn apply<'e>(self, v: FieldValue<'e>) -> Option<FieldValue<'e>> {
        match self {
            Convert::Catalog(def) => def.convert(v),
            Convert::Raw => (!v.is_null()).then_some(v),
        }
    }
}

/// The fields a pack reads for one source.
#[derive(Debug)]
pub(crate) struct Projection {
    source: Source,
    fields: Vec<FieldRef>,
    /// Flow records: how the value of each field that is a column converts, and
    /// whether the column holds integers (else `None`).
    columns: Vec<Option<(Convert, bool)>>,
    /// JSON records: the top-level keys the fields' paths start with.
    top: TopKeys,
    /// JSON records, per field whose path starts with a key: that key's index in `top`.
    top_of: Vec<Option<u16>>,
}

/// The top-level keys a projection's paths start with, and a quick test of a record's
/// key against them.
#[derive(Debug, Default)]
struct TopKeys {
    /// The keys, by index.
    keys: Vec<Box<str>>,
    /// Bit `n` is set when some key is `n` bytes long (keys of 64 bytes or more set
    /// bit 63 and are compared in full).
    lengths: u64,
}

impl TopKeys {
    /// The index of `key`, adding it when new.
    fn intern(&mut self, key: &str) -> u16 {
        if let Some(i) = self.keys.iter().position(|k| &**k == key) {
            return i as u16;
        }
        self.keys.push(key.into());
        self.lengths |= Self::length_bit(key);
        (self.keys.len() - 1) as u16
    }

    fn length_bit(key: &str) -> u64 {
        1u64 << key.len().min(63)
    }

    /// The index of `key`, if it is one of the keys.
    #[inline]
    fn find(&self, key: &str) -> Option<usize> {
        if self.lengths & Self::length_bit(key) == 0 {
            return None;
        }
        self.keys.iter().position(|k| &**k == key)
    }
}

/// The values of a projection's top-level keys in one record, found by walking the
/// record's top-level entries only as far as the keys asked for so far need: a key near
/// the start costs a few entries, a missing key one walk to the end, shared by every
/// other key.
#[derive(Default)]
struct TopScan<'e> {
    /// Per key: its value once met (the first, when a key repeats); empty until the
    /// walk starts (a projection asks for a top-level key only when it has some).
    found: SmallVec<[Option<&'e Value>; 16]>,
    /// The entries not walked yet; `None` before the walk and once at its end.
    rest: Option<object::Iter<'e>>,
}

impl<'e> TopScan<'e> {
    /// The value of key `wanted` (an index into `keys`) in `record`.
    #[inline]
    fn get(&mut self, keys: &TopKeys, record: &'e Value, wanted: usize) -> Option<&'e Value> {
        if self.found.is_empty() {
            self.found.resize(keys.keys.len(), None);
            self.rest = record.as_object().map(|object| object.iter());
        } else if let Some(value) = self.found[wanted] {
            return Some(value);
        }
        let rest = self.rest.as_mut()?;
        for (key, value) in rest.by_ref() {
            if let Some(i) = keys.find(key) {
                if self.found[i].is_none() {
                    self.found[i] = Some(value);
                    if i == wanted {
                        return Some(value);
                    }
                }
            }
        }
        self.rest = None;
        None
    }
}

/// The fields of one event, each read once, when first asked for.
pub(crate) struct Fields<'p, 'e> {
    projection: &'p Projection,
    event: &'e Event,
    /// Flow records: the column of each field in the record's format.
    positions: &'p [Option<usize>],
    /// Per field: `None` until read; `Some(None)` when missing.
    values: Vec<Option<Option<FieldValue<'e>>>>,
    /// JSON records: the values of the projection's top-level keys met so far.
    top: TopScan<'e>,
}

impl<'e> Fields<'_, 'e> {
    /// The value of field `slot`; `None` when missing.
    pub(crate) fn get(&mut self, slot: usize) -> Option<&FieldValue<'e>> {
        if self.values[slot].is_none() {
            let value = self.read(slot);
            self.values[slot] = Some(value);
        }
        self.values[slot].as_ref().and_then(Option::as_ref)
    }

    fn read(&mut self, slot: usize) -> Option<FieldValue<'e>> {
        let p = self.projection;
        if self.event.source == p.source {
            match &self.event.raw {
                Raw::Flow(record) => {
                    if let Some((convert, numeric)) = &p.columns[slot] {
                        let column = (*self.positions.get(slot)?)?;
                        return convert.apply(record.value_at(column, *numeric)?);
                    }
                }
                Raw::Json(record) => {
                    if let Some(key) = p.top_of[slot] {
                        let value = self.top.get(&p.top, record, key as usize)?;
                        return p.read_below(slot, value);
                    }
                }
            }
        }
        p.fields[slot].get(self.event)
    }
}

/// Column positions of one flow log format, per field of a projection.
#[derive(Default)]
pub(crate) struct FlowColumns {
    format: Option<Arc<FlowFormat>>,
    positions: Vec<Option<usize>>,
}

impl Projection {
    /// The projection of `fields` (indexes are slots) for events of `source`.
    pub(crate) fn new(source: Source, fields: Vec<FieldRef>) -> Projection {
        let mut projection = Projection {
            source,
            columns: Vec::new(),
            top: TopKeys::default(),
            top_of: Vec::new(),
            fields,
        };
        if source != Source::VpcFlow {
            let mut top = TopKeys::default();
            projection.top_of = projection
                .fields
                .iter()
                .map(|field| Some(top.intern(Self::first_key(source, field)?)))
                .collect();
            projection.top = top;
        }
        projection.columns = projection
            .fields
            .iter()
            .map(|field| {
                if source != Source::VpcFlow {
                    return None;
                }
                let name = projection.column_name(field)?;
                let convert = match field {
                    FieldRef::Catalog(def) => Convert::Catalog(def),
                    _ => Convert::Raw,
                };
                Some((convert, vpcflow_numeric(name)))
            })
            .collect();
        projection
    }

    /// The fields, by slot.
    pub(crate) fn fields(&self) -> &[FieldRef] {
        &self.fields
    }

    /// The fields of `event`, read when first asked for; the columns of a flow record
    /// are read here, by position.
    pub(crate) fn read<'p, 'e>(
        &'p self,
        event: &'e Event,
        flow: &'p mut FlowColumns,
    ) -> Fields<'p, 'e> {
        let values: Vec<Option<Option<FieldValue<'e>>>> = vec![None; self.fields.len()];
        if let Raw::Flow(record) = &event.raw {
            if !flow
                .format
                .as_ref()
                .is_some_and(|f| Arc::ptr_eq(f, record.format_arc()))
            {
                flow.positions = self
                    .fields
                    .iter()
                    .zip(&self.columns)
                    .map(|(field, column)| {
                        column.as_ref()?;
                        record.format().position(self.column_name(field)?)
                    })
                    .collect();
                flow.format = Some(Arc::clone(record.format_arc()));
            }
        }
        Fields {
            projection: self,
            event,
            positions: &flow.positions,
            values,
            top: TopScan::default(),
        }
    }

    /// The key a JSON field's path starts with, when the field is a path of the record
    /// (not computed) that starts with a key.
    fn first_key(source: Source, field: &FieldRef) -> Option<&str> {
        match field {
            FieldRef::Catalog(def) => def.raw_path(source)?.first().copied(),
            FieldRef::Raw(path) => match path.first()? {
                Segment::Name(name) => Some(name),
                Segment::Index(_) => None,
            },
            FieldRef::Elem(_) | FieldRef::Geo { .. } => None,
        }
    }

    /// The value of field `slot`, whose path starts with a top-level key whose value is
    /// `value`: the rest of the path walked from there, as reading the whole path would.
    fn read_below<'e>(&self, slot: usize, value: &'e Value) -> Option<FieldValue<'e>> {
        match &self.fields[slot] {
            FieldRef::Catalog(def) => {
                def.convert(walk_path(value, def.raw_path(self.source)?.get(1..)?)?)
            }
            FieldRef::Raw(path) => walk_path(value, path.get(1..)?),
            FieldRef::Elem(_) | FieldRef::Geo { .. } => None,
        }
    }

    /// The flow column a field reads.
    fn column_name<'a>(&self, field: &'a FieldRef) -> Option<&'a str> {
        match field {
            FieldRef::Catalog(def) => match def.raw_path(self.source)? {
                [name] => Some(name),
                _ => None,
            },
            FieldRef::Raw(path) => match path.as_slice() {
                [Segment::Name(name)] => Some(name),
                _ => None,
            },
            FieldRef::Elem(_) | FieldRef::Geo { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{catalog, parse_dotted, Origin};

    fn event(json: &str) -> Event {
        let raw = Raw::Json(sonic_rs::from_str(json).expect("test JSON"));
        let origin = Origin {
            file: "t".into(),
            line: 1,
            record: 0,
        };
        Event::new(Source::CloudTrail, raw, origin)
    }

    /// Fields read through the top-level walk, in any order, equal the same fields read
    /// whole: repeated keys (the first wins), missing keys, null, nested paths below a
    /// top key, arrays below it, and a record that is not an object.
    #[test]
    fn the_top_level_walk_reads_what_a_whole_path_reads() {
        let fields: Vec<FieldRef> = ["api.operation", "error.code", "actor.arn", "user_agent"]
            .iter()
            .map(|n| FieldRef::Catalog(catalog::lookup(n).expect("catalog field")))
            .chain(
                [
                    "requestParameters.bucketName",
                    "resources.ARN",
                    "resources[1].ARN",
                    "eventName",
                ]
                .iter()
                .map(|p| FieldRef::Raw(parse_dotted(p).expect("path"))),
            )
            .collect();
        let projection = Projection::new(Source::CloudTrail, fields);
        let records = [
            r#"{"eventName":"GetObject","userAgent":"a","eventName":"Second","userIdentity":{"arn":"arn:x"},"requestParameters":{"bucketName":"b"},"resources":[{"ARN":"r1"},{"ARN":"r2"}]}"#,
            r#"{"userIdentity":null,"errorCode":"AccessDenied","requestParameters":null,"userAgent":null}"#,
            r#"{"resources":{"ARN":"one"},"eventName":"ListBuckets"}"#,
            r#"["not", "an", "object"]"#,
            r#"{}"#,
        ];
        let orders: [&[usize]; 3] = [
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[7, 6, 5, 4, 3, 2, 1, 0],
            &[3, 1, 7, 0, 5],
        ];
        for record in records {
            let ev = event(record);
            for order in orders {
                let mut flow = FlowColumns::default();
                let mut read = projection.read(&ev, &mut flow);
                for &slot in order {
                    let whole = projection.fields()[slot].get(&ev);
                    assert_eq!(read.get(slot), whole.as_ref(), "{record}: field {slot}");
                }
            }
        }
        let ev = event(records[0]);
        let mut flow = FlowColumns::default();
        let mut read = projection.read(&ev, &mut flow);
        assert_eq!(read.get(7), Some(&FieldValue::str("GetObject")));
        assert_eq!(read.get(3), Some(&FieldValue::str("a")));
    }
}
