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
use crate::event::{Event, FieldDef, FieldValue, FlowFormat, Raw, Source};

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
    /// Flow records: the column name of each field that is one (else `None`).
    columns: Vec<Option<(Box<str>, Convert)>>,
}

/// The fields of one event, each read once, when first asked for.
pub(crate) struct Fields<'p, 'e> {
    projection: &'p Projection,
    event: &'e Event,
    /// Per field: `None` until read; `Some(None)` when missing.
    values: Vec<Option<Option<FieldValue<'e>>>>,
}

impl<'e> Fields<'_, 'e> {
    /// The value of field `slot`; `None` when missing.
    pub(crate) fn get(&mut self, slot: usize) -> Option<&FieldValue<'e>> {
        let value = &mut self.values[slot];
        if value.is_none() {
            *value = Some(self.projection.fields[slot].get(self.event));
        }
        value.as_ref().and_then(Option::as_ref)
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
        let columns = fields
            .iter()
            .map(|field| {
                if source != Source::VpcFlow {
                    return None;
                }
                match field {
                    FieldRef::Catalog(def) => match def.raw_path(source)? {
                        [name] => Some((Box::from(*name), Convert::Catalog(def))),
                        _ => None,
                    },
                    FieldRef::Raw(path) => match path.as_slice() {
                        [Segment::Name(name)] => Some((Box::from(name.as_str()), Convert::Raw)),
                        _ => None,
                    },
                    FieldRef::Elem(_) => None,
                }
            })
            .collect();
        Projection {
            source,
            fields,
            columns,
        }
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
        flow: &mut FlowColumns,
    ) -> Fields<'p, 'e> {
        let mut values: Vec<Option<Option<FieldValue<'e>>>> = vec![None; self.fields.len()];
        if let (Raw::Flow(record), true) = (&event.raw, event.source == self.source) {
            if !flow
                .format
                .as_ref()
                .is_some_and(|f| Arc::ptr_eq(f, record.format_arc()))
            {
                flow.positions = self
                    .columns
                    .iter()
                    .map(|c| {
                        c.as_ref()
                            .and_then(|(name, _)| record.format().position(name))
                    })
                    .collect();
                flow.format = Some(Arc::clone(record.format_arc()));
            }
            for (slot, column) in self.columns.iter().enumerate() {
                if let Some((name, convert)) = column {
                    values[slot] = Some(
                        flow.positions[slot]
                            .and_then(|i| record.value_at(i, name))
                            .and_then(|v| convert.apply(v)),
                    );
                }
            }
        }
        Fields {
            projection: self,
            event,
            values,
        }
    }
}
