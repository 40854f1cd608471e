//! Projection: the fields a pack reads, each read at most once per event.
//!
//! A pack reads a known set of fields per source (the fields of its dispatch groups).
//! [`Fields`] reads each when first asked for and keeps the value, borrowed from the
//! record, so a field several groups or rules test is searched for once. Values are
//! what [`FieldRef::get`] returns.
//!
//! VPC flow records are flat: each field is a column, found by name once per log format
//! and then read by position.
//!
//! Measured and left out: finding every field in one walk over the record's objects (a
//! trie of keys), or listing the top-level entries once and searching the list, costs
//! more than reading the fields one by one: iterating the parser's objects entry by
//! entry is several times slower per entry than its own key lookup.

use std::sync::Arc;

use picket_grammar::ast::Segment;

use crate::compile::ir::FieldRef;
use crate::event::{vpcflow_numeric, Event, FieldDef, FieldValue, FlowFormat, Raw, Source};

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
}

/// The fields of one event, each read once, when first asked for.
pub(crate) struct Fields<'p, 'e> {
    projection: &'p Projection,
    event: &'e Event,
    /// Flow records: the column of each field in the record's format.
    positions: &'p [Option<usize>],
    /// Per field: `None` until read; `Some(None)` when missing.
    values: Vec<Option<Option<FieldValue<'e>>>>,
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

    fn read(&self, slot: usize) -> Option<FieldValue<'e>> {
        let p = self.projection;
        if let (Raw::Flow(record), Some((convert, numeric))) = (&self.event.raw, &p.columns[slot]) {
            if self.event.source == p.source {
                let column = (*self.positions.get(slot)?)?;
                return convert.apply(record.value_at(column, *numeric)?);
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
            fields,
        };
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
            FieldRef::Elem(_) => None,
        }
    }
}
