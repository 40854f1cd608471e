//! Writing MaxMind DB files (binary format 2.0), the format of GeoIP2 and GeoLite2
//! databases, which picket reads with the `maxminddb` crate to give an address its
//! country, city, autonomous system and organisation.
//!
//! Tests build small databases with [`MmdbWriter`] on the fly, and a user can build one
//! of their own, for instance to name the office networks:
//!
//! ```
//! use picket::intel::mmdb::{asn_record, MmdbWriter};
//!
//! let mut writer = MmdbWriter::new("GeoLite2-ASN", 6)?;
//! writer.insert("198.51.100.0/24".parse()?, asn_record(64500, "Example Corp office"))?;
//! writer.insert("2001:db8:1::/48".parse()?, asn_record(64501, "Example Corp VPN"))?;
//! let bytes = writer.to_bytes();
//!
//! let reader = maxminddb::Reader::from_source(bytes)?;
//! let asn: maxminddb::geoip2::Asn = reader
//!     .lookup("198.51.100.7".parse()?)?
//!     .decode()?
//!     .expect("inside 198.51.100.0/24");
//! assert_eq!(asn.autonomous_system_organization, Some("Example Corp office"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Which record answers
//!
//! The most specific network holding an address answers, whatever the order of the
//! inserts: inserting `10.0.0.0/8` after `10.1.0.0/16` leaves `10.1.0.0/16` in place
//! and fills the rest of `10.0.0.0/8`. Inserting the same network again replaces its
//! record. Host bits are ignored (`10.1.2.3/16` is `10.1.0.0/16`).
//!
//! An IPv6 database (`ip_version` 6) holds IPv4 networks too, at `::a.b.c.d/(96 + len)`,
//! which is where readers look IPv4 addresses up; an IPv6 network that covers part of
//! `::/96` covers those IPv4 addresses as well. The IPv4-mapped (`::ffff:0:0/96`) and
//! 6to4 (`2002::/16`) ranges are not made aliases of the IPv4 networks: look IPv4
//! addresses up as IPv4. An IPv4 database (`ip_version` 4) refuses IPv6 networks.
//!
//! # The file
//!
//! Following the MaxMind DB specification (<https://maxmind.github.io/MaxMind-DB/>):
//!
//! 1. The search tree: a binary trie over the address bits, `node_count` nodes of two
//!    records each (left for a 0 bit, right for a 1 bit). A record below `node_count`
//!    is another node, a record equal to `node_count` means "no data", and a record
//!    above it points into the data section (`record - node_count - 16`). Records are 24,
//!    28 or 32 bits wide: the smallest width that holds every record value is used,
//!    unless [`MmdbWriter::set_min_record_size`] asks for a wider one.
//! 2. Sixteen zero bytes.
//! 3. The data section: each distinct record once, in the format's typed encoding.
//!    Identical records are stored once, and a repeated value (a map key such as
//!    `names`, a country's `names` map) is written as a pointer to its first copy when
//!    the pointer is shorter.
//! 4. The marker `"\xAB\xCD\xEFMaxMind.com"`, then the metadata map:
//!    `binary_format_major_version` (2), `binary_format_minor_version` (0),
//!    `build_epoch`, `database_type`, `description`, `ip_version`, `languages`,
//!    `node_count` and `record_size`.
//!
//! Records can be any [`MmdbValue`]; [`city_record`] and [`asn_record`] build the two
//! standard shapes picket reads.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use ipnet::IpNet;

/// The bytes that open the metadata section.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// Zero bytes between the search tree and the data section.
const DATA_SECTION_SEPARATOR: usize = 16;

/// The largest size a control byte can carry: bytes of a string, pairs of a map,
/// elements of an array.
pub const MAX_VALUE_SIZE: usize = 65_821 + 0xFF_FFFF;

/// The deepest nesting of maps and arrays in a record. Readers decode up to 512 levels
/// but skip (a field the caller does not ask for, `Reader::verify`) only 128.
pub const MAX_DEPTH: usize = 128;

const TYPE_POINTER: u8 = 1;
const TYPE_STRING: u8 = 2;
const TYPE_DOUBLE: u8 = 3;
const TYPE_BYTES: u8 = 4;
const TYPE_UINT16: u8 = 5;
const TYPE_UINT32: u8 = 6;
const TYPE_MAP: u8 = 7;
const TYPE_INT32: u8 = 8;
const TYPE_UINT64: u8 = 9;
const TYPE_UINT128: u8 = 10;
const TYPE_ARRAY: u8 = 11;
const TYPE_BOOLEAN: u8 = 14;
const TYPE_FLOAT: u8 = 15;

/// A value of the MaxMind DB data section: what a network's record is made of.
#[derive(Clone, Debug, PartialEq)]
pub enum MmdbValue {
    /// A map from text keys to values, written in the given order; keys must differ.
    Map(Vec<(String, MmdbValue)>),
    /// UTF-8 text.
    Str(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An unsigned 16-bit integer.
    U16(u16),
    /// An unsigned 32-bit integer (`autonomous_system_number`, `geoname_id`).
    U32(u32),
    /// An unsigned 64-bit integer.
    U64(u64),
    /// An unsigned 128-bit integer.
    U128(u128),
    /// A signed 32-bit integer.
    I32(i32),
    /// A double-precision float (`latitude`, `longitude`).
    F64(f64),
    /// A single-precision float.
    F32(f32),
    /// A boolean (`is_in_european_union`).
    Bool(bool),
    /// An array of values (`subdivisions`).
    Array(Vec<MmdbValue>),
}

impl From<&str> for MmdbValue {
    fn from(s: &str) -> MmdbValue {
        MmdbValue::Str(s.to_string())
    }
}

impl From<String> for MmdbValue {
    fn from(s: String) -> MmdbValue {
        MmdbValue::Str(s)
    }
}

impl From<u32> for MmdbValue {
    fn from(n: u32) -> MmdbValue {
        MmdbValue::U32(n)
    }
}

impl From<u64> for MmdbValue {
    fn from(n: u64) -> MmdbValue {
        MmdbValue::U64(n)
    }
}

impl From<f64> for MmdbValue {
    fn from(x: f64) -> MmdbValue {
        MmdbValue::F64(x)
    }
}

impl From<bool> for MmdbValue {
    fn from(b: bool) -> MmdbValue {
        MmdbValue::Bool(b)
    }
}

/// A record in the shape of GeoIP2 and GeoLite2 City databases, as the
/// `maxminddb::geoip2::City` reader type decodes it:
/// `{country: {iso_code, names: {en}}, city: {names: {en}}}`, the `city` map only when
/// a city is given.
pub fn city_record(country_iso: &str, country_name: &str, city: Option<&str>) -> MmdbValue {
    let names = |name: &str| MmdbValue::Map(vec![("en".to_string(), name.into())]);
    let mut fields = vec![(
        "country".to_string(),
        MmdbValue::Map(vec![
            ("iso_code".to_string(), country_iso.into()),
            ("names".to_string(), names(country_name)),
        ]),
    )];
    if let Some(city) = city {
        fields.push((
            "city".to_string(),
            MmdbValue::Map(vec![("names".to_string(), names(city))]),
        ));
    }
    MmdbValue::Map(fields)
}

/// A record in the shape of GeoLite2 ASN databases, as the `maxminddb::geoip2::Asn`
/// reader type decodes it: `{autonomous_system_number, autonomous_system_organization}`.
pub fn asn_record(asn: u32, org: &str) -> MmdbValue {
    MmdbValue::Map(vec![
        ("autonomous_system_number".to_string(), MmdbValue::U32(asn)),
        ("autonomous_system_organization".to_string(), org.into()),
    ])
}

/// Why a database cannot be built as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MmdbError {
    /// The IP version is neither 4 nor 6.
    #[error("ip_version must be 4 or 6, not {0}")]
    IpVersion(u8),
    /// The database type is empty.
    #[error("the database type must not be empty (for example \"GeoLite2-City\")")]
    EmptyDatabaseType,
    /// An IPv6 network was inserted into an IPv4 database.
    #[error("{0} is an IPv6 network and this database holds IPv4 networks only (build it with ip_version 6)")]
    Ipv6InIpv4Database(IpNet),
    /// A map has the same key twice.
    #[error("a map has the key {0:?} twice")]
    DuplicateKey(String),
    /// A string, byte string, map or array is larger than the format can say.
    #[error("a {what} of {len} is larger than the format allows ({MAX_VALUE_SIZE})")]
    TooLarge {
        /// What is too large, with its unit ("string (bytes)", "map (pairs)", ...).
        what: &'static str,
        /// Its size.
        len: usize,
    },
    /// Maps and arrays are nested deeper than [`MAX_DEPTH`].
    #[error("maps and arrays are nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// The tree and the data would not fit 32-bit records (about 4 GiB).
    #[error("the database would outgrow 32-bit records (about 4 GiB of search tree and data)")]
    DatabaseTooLarge,
}

/// The width of the search tree's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordSize {
    /// 24 bits (6 bytes a node): record values below 2^24.
    Bits24,
    /// 28 bits (7 bytes a node): record values below 2^28.
    Bits28,
    /// 32 bits (8 bytes a node): record values below 2^32.
    Bits32,
}

impl RecordSize {
    /// The width in bits, as the metadata's `record_size` says it.
    pub fn bits(self) -> u16 {
        match self {
            RecordSize::Bits24 => 24,
            RecordSize::Bits28 => 28,
            RecordSize::Bits32 => 32,
        }
    }

    /// The narrowest width that holds every record value up to `max_value`, if any.
    pub fn smallest_for(max_value: u64) -> Option<RecordSize> {
        [RecordSize::Bits24, RecordSize::Bits28, RecordSize::Bits32]
            .into_iter()
            .find(|size| max_value < 1u64 << size.bits())
    }
}

/// Builds a MaxMind DB file: networks and their records in, the file's bytes out.
///
/// See the [module documentation](self) for which record answers an address and how
/// the file is laid out.
#[derive(Clone, Debug)]
pub struct MmdbWriter {
    database_type: String,
    ip_version: u8,
    description: BTreeMap<String, String>,
    languages: Vec<String>,
    build_epoch: Option<u64>,
    min_record_size: RecordSize,
    /// The records, indexed by the values of `networks`.
    records: Vec<MmdbValue>,
    /// (prefix length, network bits) in the search tree's address space → record.
    networks: BTreeMap<(u8, u128), usize>,
    /// The encoded size of every record inserted: a bound on the data section.
    data_bound: u64,
}

impl MmdbWriter {
    /// A writer for an empty database of the given type (`"GeoLite2-City"`,
    /// `"GeoLite2-ASN"`, or a name of one's own) holding IPv4 networks only
    /// (`ip_version` 4) or IPv6 and IPv4 networks (6).
    ///
    /// The description is `{en: <database type>}` and the languages `["en"]` until set;
    /// the build time is the time of [`to_bytes`](Self::to_bytes) unless set.
    pub fn new(database_type: &str, ip_version: u8) -> Result<MmdbWriter, MmdbError> {
        if ip_version != 4 && ip_version != 6 {
            return Err(MmdbError::IpVersion(ip_version));
        }
        if database_type.is_empty() {
            return Err(MmdbError::EmptyDatabaseType);
        }
        check_size("database type (bytes)", database_type.len())?;
        Ok(MmdbWriter {
            database_type: database_type.to_string(),
            ip_version,
            description: BTreeMap::from([("en".to_string(), database_type.to_string())]),
            languages: vec!["en".to_string()],
            build_epoch: None,
            min_record_size: RecordSize::Bits24,
            records: Vec::new(),
            networks: BTreeMap::new(),
            data_bound: 0,
        })
    }

    /// The database type given to [`new`](Self::new).
    pub fn database_type(&self) -> &str {
        &self.database_type
    }

    /// The IP version given to [`new`](Self::new): 4 or 6.
    pub fn ip_version(&self) -> u8 {
        self.ip_version
    }

    /// How many distinct networks were inserted.
    pub fn len(&self) -> usize {
        self.networks.len()
    }

    /// Whether no network was inserted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Sets the description in one language (`"en"`); the metadata holds one per language.
    pub fn set_description(&mut self, language: &str, text: &str) -> Result<(), MmdbError> {
        check_size("description (bytes)", text.len())?;
        check_size("language code (bytes)", language.len())?;
        if !self.description.contains_key(language) {
            check_size("description (languages)", self.description.len() + 1)?;
        }
        self.description
            .insert(language.to_string(), text.to_string());
        Ok(())
    }

    /// Sets the languages the records' `names` maps hold (`["en", "de"]`).
    pub fn set_languages<I, S>(&mut self, languages: I) -> Result<(), MmdbError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let languages: Vec<String> = languages.into_iter().map(Into::into).collect();
        check_size("language list (languages)", languages.len())?;
        for language in &languages {
            check_size("language code (bytes)", language.len())?;
        }
        self.languages = languages;
        Ok(())
    }

    /// Sets the build time, in seconds since the Unix epoch, so that the same inserts
    /// give the same bytes.
    pub fn set_build_epoch(&mut self, epoch: u64) {
        self.build_epoch = Some(epoch);
    }

    /// Asks for records at least this wide; a wider width is still used when the
    /// database needs it.
    pub fn set_min_record_size(&mut self, size: RecordSize) {
        self.min_record_size = size;
    }

    /// Adds a network and its record. The most specific network holding an address
    /// answers for it, whatever the order of the inserts; the same network inserted
    /// again gets the new record. Host bits of `net` are ignored.
    ///
    /// Errors: an IPv6 network in an IPv4 database; a record with a map key twice,
    /// nested deeper than [`MAX_DEPTH`], or with a string, byte string, map or array
    /// larger than [`MAX_VALUE_SIZE`]; a database that would outgrow 32-bit records.
    pub fn insert(&mut self, net: IpNet, record: MmdbValue) -> Result<(), MmdbError> {
        let key = self.tree_key(net)?;
        let encoded_len = validate(&record, 0)?;
        let networks = self.networks.len() + usize::from(!self.networks.contains_key(&key));
        // Each network adds at most one node per address bit.
        let nodes_bound = 1 + networks as u64 * u64::from(self.depth());
        let data_bound = self.data_bound.saturating_add(encoded_len);
        let largest_record = nodes_bound
            .saturating_add(DATA_SECTION_SEPARATOR as u64)
            .saturating_add(data_bound);
        if largest_record > u64::from(u32::MAX) {
            return Err(MmdbError::DatabaseTooLarge);
        }
        self.data_bound = data_bound;
        match self.networks.get(&key) {
            Some(&index) => self.records[index] = record,
            None => {
                self.records.push(record);
                self.networks.insert(key, self.records.len() - 1);
            }
        }
        Ok(())
    }

    /// The database file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let nodes = self.build_tree();
        let node_count = nodes.len() as u64;

        // The data section: each record the tree reaches, once.
        let mut data = DataSection::default();
        let mut offsets: Vec<Option<u64>> = vec![None; self.records.len()];
        for node in &nodes {
            for child in node {
                if let Child::Data(index) = *child {
                    let index = index as usize;
                    if offsets[index].is_none() {
                        offsets[index] = Some(data.add_record(&self.records[index]));
                    }
                }
            }
        }

        // `insert` keeps every record value below 2^32, so a width is always found.
        let largest = node_count + DATA_SECTION_SEPARATOR as u64 + data.buf.len() as u64;
        let record_size = RecordSize::smallest_for(largest)
            .unwrap_or(RecordSize::Bits32)
            .max(self.min_record_size);
        let value = |child: Child| -> u32 {
            let value = match child {
                Child::Empty => node_count,
                Child::Node(n) => u64::from(n),
                Child::Data(index) => {
                    let offset = offsets[index as usize].unwrap_or_default();
                    node_count + DATA_SECTION_SEPARATOR as u64 + offset
                }
            };
            value as u32
        };

        let node_bytes = usize::from(record_size.bits()) / 4;
        let mut out = Vec::with_capacity(
            nodes.len() * node_bytes + DATA_SECTION_SEPARATOR + data.buf.len() + 256,
        );
        for node in &nodes {
            let (left, right) = (value(node[0]), value(node[1]));
            match record_size {
                RecordSize::Bits24 => {
                    out.extend_from_slice(&left.to_be_bytes()[1..]);
                    out.extend_from_slice(&right.to_be_bytes()[1..]);
                }
                RecordSize::Bits28 => {
                    out.extend_from_slice(&left.to_be_bytes()[1..]);
                    out.push((((left >> 24) & 0x0F) << 4) as u8 | ((right >> 24) & 0x0F) as u8);
                    out.extend_from_slice(&right.to_be_bytes()[1..]);
                }
                RecordSize::Bits32 => {
                    out.extend_from_slice(&left.to_be_bytes());
                    out.extend_from_slice(&right.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&[0; DATA_SECTION_SEPARATOR]);
        out.extend_from_slice(&data.buf);
        out.extend_from_slice(METADATA_MARKER);
        let metadata = self.metadata(node_count as u32, record_size);
        encode_plain(&metadata, &mut out, &mut Vec::new());
        out
    }

    /// The metadata map.
    fn metadata(&self, node_count: u32, record_size: RecordSize) -> MmdbValue {
        let build_epoch = self.build_epoch.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        let description = self
            .description
            .iter()
            .map(|(language, text)| (language.clone(), text.as_str().into()))
            .collect();
        let languages = self.languages.iter().map(|l| l.as_str().into()).collect();
        MmdbValue::Map(vec![
            ("binary_format_major_version".to_string(), MmdbValue::U16(2)),
            ("binary_format_minor_version".to_string(), MmdbValue::U16(0)),
            ("build_epoch".to_string(), MmdbValue::U64(build_epoch)),
            (
                "database_type".to_string(),
                self.database_type.as_str().into(),
            ),
            ("description".to_string(), MmdbValue::Map(description)),
            (
                "ip_version".to_string(),
                MmdbValue::U16(u16::from(self.ip_version)),
            ),
            ("languages".to_string(), MmdbValue::Array(languages)),
            ("node_count".to_string(), MmdbValue::U32(node_count)),
            (
                "record_size".to_string(),
                MmdbValue::U16(record_size.bits()),
            ),
        ])
    }

    /// Bits in the search tree's addresses: 32 or 128.
    fn depth(&self) -> u8 {
        if self.ip_version == 4 {
            32
        } else {
            128
        }
    }

    /// A network as (prefix length, address bits) in the search tree's address space.
    fn tree_key(&self, net: IpNet) -> Result<(u8, u128), MmdbError> {
        match (net.trunc(), self.ip_version) {
            (IpNet::V4(v4), 4) => Ok((v4.prefix_len(), u128::from(u32::from(v4.network())))),
            (IpNet::V4(v4), _) => Ok((96 + v4.prefix_len(), u128::from(u32::from(v4.network())))),
            (IpNet::V6(v6), 6) => Ok((v6.prefix_len(), u128::from(v6.network()))),
            (IpNet::V6(_), _) => Err(MmdbError::Ipv6InIpv4Database(net)),
        }
    }

    /// The search tree; node 0 is the root.
    ///
    /// Networks go in from the least to the most specific, so a network only ever
    /// replaces what a less specific one (or an equal one) left: walking down, a record
    /// in the way is split into a node whose two records both keep it, and the last
    /// step sets the network's own record. A node's subtree is never overwritten, as
    /// only a more specific network, which comes later, could have made it.
    fn build_tree(&self) -> Vec<[Child; 2]> {
        let depth = u32::from(self.depth());
        let mut nodes = vec![[Child::Empty; 2]];
        for (&(prefix, bits), &index) in &self.networks {
            let record = Child::Data(index as u32);
            let Some(last) = u32::from(prefix).checked_sub(1) else {
                // The whole address space.
                nodes[0] = [record; 2];
                continue;
            };
            let bit_at = |i: u32| ((bits >> (depth - 1 - i)) & 1) as usize;
            let mut node = 0;
            for i in 0..last {
                let bit = bit_at(i);
                node = match nodes[node][bit] {
                    Child::Node(n) => n as usize,
                    inherited => {
                        let n = nodes.len();
                        nodes.push([inherited; 2]);
                        nodes[node][bit] = Child::Node(n as u32);
                        n
                    }
                };
            }
            nodes[node][bit_at(last)] = record;
        }
        nodes
    }
}

/// One record of a search tree node, before it is numbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Child {
    /// No data.
    Empty,
    /// Another node, by index.
    Node(u32),
    /// A record, by index into the writer's records.
    Data(u32),
}

fn check_size(what: &'static str, len: usize) -> Result<(), MmdbError> {
    if len > MAX_VALUE_SIZE {
        Err(MmdbError::TooLarge { what, len })
    } else {
        Ok(())
    }
}

/// Checks that a value can be written, and gives its encoded size without pointers.
fn validate(value: &MmdbValue, depth: usize) -> Result<u64, MmdbError> {
    let header = |type_num: u8, size: usize| header_len(type_num, size) as u64;
    Ok(match value {
        MmdbValue::Map(pairs) => {
            if depth >= MAX_DEPTH {
                return Err(MmdbError::TooDeep);
            }
            check_size("map (pairs)", pairs.len())?;
            let mut keys = std::collections::HashSet::with_capacity(pairs.len());
            let mut len = header(TYPE_MAP, pairs.len());
            for (key, value) in pairs {
                if !keys.insert(key.as_str()) {
                    return Err(MmdbError::DuplicateKey(key.clone()));
                }
                check_size("map key (bytes)", key.len())?;
                len += header(TYPE_STRING, key.len()) + key.len() as u64;
                len += validate(value, depth + 1)?;
            }
            len
        }
        MmdbValue::Array(items) => {
            if depth >= MAX_DEPTH {
                return Err(MmdbError::TooDeep);
            }
            check_size("array (elements)", items.len())?;
            let mut len = header(TYPE_ARRAY, items.len());
            for item in items {
                len += validate(item, depth + 1)?;
            }
            len
        }
        MmdbValue::Str(s) => {
            check_size("string (bytes)", s.len())?;
            header(TYPE_STRING, s.len()) + s.len() as u64
        }
        MmdbValue::Bytes(b) => {
            check_size("byte string (bytes)", b.len())?;
            header(TYPE_BYTES, b.len()) + b.len() as u64
        }
        // At most 16 bytes of payload behind a two-byte header.
        _ => {
            let mut scratch = Vec::with_capacity(18);
            encode_scalar(value, &mut scratch);
            scratch.len() as u64
        }
    })
}

/// Bytes of a control byte and its size bytes.
fn header_len(type_num: u8, size: usize) -> usize {
    let extended = usize::from(type_num > 7);
    let size_bytes = match size {
        0..=28 => 0,
        29..=284 => 1,
        285..=65_820 => 2,
        _ => 3,
    };
    1 + extended + size_bytes
}

/// Writes a control byte: the type (or 0 and an extended type byte after it) and the
/// size, with 1 to 3 more size bytes for sizes from 29 on. Sizes were validated.
fn push_header(out: &mut Vec<u8>, type_num: u8, size: usize) {
    let (field, extra, extra_len) = match size {
        0..=28 => (size as u8, 0, 0),
        29..=284 => (29, size - 29, 1),
        285..=65_820 => (30, size - 285, 2),
        _ => (31, size - 65_821, 3),
    };
    let type_bits = if type_num > 7 { 0 } else { type_num << 5 };
    out.push(type_bits | field);
    if type_num > 7 {
        out.push(type_num - 7);
    }
    let extra = (extra as u32).to_be_bytes();
    out.extend_from_slice(&extra[4 - extra_len..]);
}

/// Writes an unsigned integer in as few big-endian bytes as it needs.
fn push_uint(out: &mut Vec<u8>, type_num: u8, be_bytes: &[u8]) {
    let leading_zeros = be_bytes.iter().take_while(|b| **b == 0).count();
    let bytes = &be_bytes[leading_zeros..];
    push_header(out, type_num, bytes.len());
    out.extend_from_slice(bytes);
}

/// Writes a value that holds no other value.
fn encode_scalar(value: &MmdbValue, out: &mut Vec<u8>) {
    match value {
        MmdbValue::Str(s) => {
            push_header(out, TYPE_STRING, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        MmdbValue::Bytes(b) => {
            push_header(out, TYPE_BYTES, b.len());
            out.extend_from_slice(b);
        }
        MmdbValue::U16(n) => push_uint(out, TYPE_UINT16, &n.to_be_bytes()),
        MmdbValue::U32(n) => push_uint(out, TYPE_UINT32, &n.to_be_bytes()),
        MmdbValue::U64(n) => push_uint(out, TYPE_UINT64, &n.to_be_bytes()),
        MmdbValue::U128(n) => push_uint(out, TYPE_UINT128, &n.to_be_bytes()),
        MmdbValue::I32(n) if *n >= 0 => push_uint(out, TYPE_INT32, &n.to_be_bytes()),
        // A negative number needs all four bytes: fewer are read as a positive one.
        MmdbValue::I32(n) => {
            push_header(out, TYPE_INT32, 4);
            out.extend_from_slice(&n.to_be_bytes());
        }
        MmdbValue::F64(x) => {
            push_header(out, TYPE_DOUBLE, 8);
            out.extend_from_slice(&x.to_be_bytes());
        }
        MmdbValue::F32(x) => {
            push_header(out, TYPE_FLOAT, 4);
            out.extend_from_slice(&x.to_be_bytes());
        }
        MmdbValue::Bool(b) => push_header(out, TYPE_BOOLEAN, usize::from(*b)),
        MmdbValue::Map(_) | MmdbValue::Array(_) => {}
    }
}

/// Where one value's encoding lies in a plain (pointer-free) encoding, in pre-order:
/// a map's keys and values, an array's elements, follow it.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    /// The index of the span after this value's last descendant.
    next: usize,
}

/// Writes a value without pointers, noting every value's span.
fn encode_plain(value: &MmdbValue, out: &mut Vec<u8>, spans: &mut Vec<Span>) {
    let me = spans.len();
    spans.push(Span {
        start: out.len(),
        end: 0,
        next: 0,
    });
    match value {
        MmdbValue::Map(pairs) => {
            push_header(out, TYPE_MAP, pairs.len());
            for (key, value) in pairs {
                let key_span = spans.len();
                spans.push(Span {
                    start: out.len(),
                    end: 0,
                    next: 0,
                });
                push_header(out, TYPE_STRING, key.len());
                out.extend_from_slice(key.as_bytes());
                spans[key_span].end = out.len();
                spans[key_span].next = spans.len();
                encode_plain(value, out, spans);
            }
        }
        MmdbValue::Array(items) => {
            push_header(out, TYPE_ARRAY, items.len());
            for item in items {
                encode_plain(item, out, spans);
            }
        }
        scalar => encode_scalar(scalar, out),
    }
    spans[me].end = out.len();
    spans[me].next = spans.len();
}

/// Bytes a pointer to this data section offset takes.
fn pointer_len(offset: u64) -> usize {
    match offset {
        0..2_048 => 2,
        2_048..526_336 => 3,
        526_336..134_744_064 => 4,
        _ => 5,
    }
}

/// Writes a pointer to a data section offset (below 2^32).
fn push_pointer(out: &mut Vec<u8>, offset: u64) {
    let ctrl = TYPE_POINTER << 5;
    match offset {
        0..2_048 => {
            out.push(ctrl | (offset >> 8) as u8);
            out.push(offset as u8);
        }
        2_048..526_336 => {
            let v = offset - 2_048;
            out.push(ctrl | 0x08 | (v >> 16) as u8);
            out.extend_from_slice(&(v as u32).to_be_bytes()[2..]);
        }
        526_336..134_744_064 => {
            let v = offset - 526_336;
            out.push(ctrl | 0x10 | (v >> 24) as u8);
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
        _ => {
            out.push(ctrl | 0x18);
            out.extend_from_slice(&(offset as u32).to_be_bytes());
        }
    }
}

/// The data section being written, with the offset of every value written so far,
/// by its plain encoding.
#[derive(Default)]
struct DataSection {
    buf: Vec<u8>,
    seen: HashMap<Vec<u8>, u64>,
}

impl DataSection {
    /// Writes a record, or finds the same record written before; gives its offset.
    fn add_record(&mut self, record: &MmdbValue) -> u64 {
        let mut plain = Vec::new();
        let mut spans = Vec::new();
        encode_plain(record, &mut plain, &mut spans);
        if let Some(&offset) = self.seen.get(&plain) {
            return offset;
        }
        let offset = self.buf.len() as u64;
        let mut cursor = 0;
        self.emit(record, &plain, &spans, &mut cursor);
        offset
    }

    /// Writes the value whose span is at `cursor`: a pointer to an earlier copy when
    /// that is shorter, else the value itself, its children written the same way.
    fn emit(&mut self, value: &MmdbValue, plain: &[u8], spans: &[Span], cursor: &mut usize) {
        if self.emit_pointer(plain, spans, cursor) {
            return;
        }
        let span = spans[*cursor];
        *cursor += 1;
        let offset = self.buf.len() as u64;
        match value {
            MmdbValue::Map(pairs) => {
                push_header(&mut self.buf, TYPE_MAP, pairs.len());
                for (_, value) in pairs {
                    self.emit_leaf(plain, spans, cursor);
                    self.emit(value, plain, spans, cursor);
                }
            }
            MmdbValue::Array(items) => {
                push_header(&mut self.buf, TYPE_ARRAY, items.len());
                for item in items {
                    self.emit(item, plain, spans, cursor);
                }
            }
            _ => self.buf.extend_from_slice(&plain[span.start..span.end]),
        }
        self.remember(&plain[span.start..span.end], offset);
    }

    /// Writes the scalar (or map key) whose span is at `cursor`.
    fn emit_leaf(&mut self, plain: &[u8], spans: &[Span], cursor: &mut usize) {
        if self.emit_pointer(plain, spans, cursor) {
            return;
        }
        let span = spans[*cursor];
        *cursor += 1;
        let offset = self.buf.len() as u64;
        self.buf.extend_from_slice(&plain[span.start..span.end]);
        self.remember(&plain[span.start..span.end], offset);
    }

    /// Writes a pointer for the value at `cursor` and skips it, when it was written
    /// before and the pointer is shorter than the value.
    fn emit_pointer(&mut self, plain: &[u8], spans: &[Span], cursor: &mut usize) -> bool {
        let span = spans[*cursor];
        let bytes = &plain[span.start..span.end];
        match self.seen.get(bytes) {
            Some(&offset) if pointer_len(offset) < bytes.len() => {
                push_pointer(&mut self.buf, offset);
                *cursor = span.next;
                true
            }
            _ => false,
        }
    }

    fn remember(&mut self, bytes: &[u8], offset: u64) {
        // A pointer takes two bytes at least: shorter values are never pointed to.
        if bytes.len() > 2 && !self.seen.contains_key(bytes) {
            self.seen.insert(bytes.to_vec(), offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use maxminddb::geoip2;
    use maxminddb::{PathElement, Reader};
    use proptest::prelude::*;

    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test network")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn reader(writer: &MmdbWriter) -> Reader<Vec<u8>> {
        let reader = Reader::from_source(writer.to_bytes()).expect("a readable database");
        reader
            .verify()
            .expect("a database that passes the reader's verification");
        reader
    }

    /// (country iso code, country name, city name) of an address, if it has a record.
    fn city_of(reader: &Reader<Vec<u8>>, addr: &str) -> Option<(String, String, Option<String>)> {
        let result = reader.lookup(ip(addr)).expect("lookup");
        let city: geoip2::City = result.decode().expect("a City record")?;
        Some((
            city.country.iso_code?.to_string(),
            city.country.names.english?.to_string(),
            city.city.names.english.map(str::to_string),
        ))
    }

    fn asn_of(reader: &Reader<Vec<u8>>, addr: &str) -> Option<(u32, String)> {
        let result = reader.lookup(ip(addr)).expect("lookup");
        let asn: geoip2::Asn = result.decode().expect("an ASN record")?;
        Some((
            asn.autonomous_system_number?,
            asn.autonomous_system_organization?.to_string(),
        ))
    }

    /// The network a lookup landed in.
    fn network_of(reader: &Reader<Vec<u8>>, addr: &str) -> IpNet {
        let result = reader.lookup(ip(addr)).expect("lookup");
        let network = result.network().expect("a network");
        network.to_string().parse().expect("an IpNet")
    }

    fn expect_city(
        country: &str,
        name: &str,
        city: Option<&str>,
    ) -> Option<(String, String, Option<String>)> {
        Some((
            country.to_string(),
            name.to_string(),
            city.map(str::to_string),
        ))
    }

    #[test]
    fn a_city_database_answers_nested_adjacent_and_ipv6_networks() {
        let mut w = MmdbWriter::new("GeoLite2-City", 6).expect("writer");
        w.set_build_epoch(1_700_000_000);
        // The most specific first: a less specific insert must not erase it.
        w.insert(
            net("10.1.2.0/24"),
            city_record("FR", "France", Some("Paris")),
        )
        .expect("insert");
        w.insert(net("10.0.0.0/8"), city_record("US", "United States", None))
            .expect("insert");
        w.insert(
            net("10.1.0.0/16"),
            city_record("DE", "Germany", Some("Berlin")),
        )
        .expect("insert");
        w.insert(
            net("192.0.2.0/25"),
            city_record("JP", "Japan", Some("Tokyo")),
        )
        .expect("insert");
        w.insert(
            net("192.0.2.128/25"),
            city_record("AU", "Australia", Some("Sydney")),
        )
        .expect("insert");
        w.insert(
            net("198.51.100.7/32"),
            city_record("NL", "Netherlands", Some("Amsterdam")),
        )
        .expect("insert");
        w.insert(net("2001:db8::/32"), city_record("BE", "Belgium", None))
            .expect("insert");
        w.insert(
            net("2001:db8:1::/48"),
            city_record("BE", "Belgium", Some("Brussels")),
        )
        .expect("insert");
        assert_eq!(w.len(), 8);
        let r = reader(&w);

        assert_eq!(
            city_of(&r, "10.0.0.1"),
            expect_city("US", "United States", None)
        );
        assert_eq!(
            city_of(&r, "10.255.255.255"),
            expect_city("US", "United States", None)
        );
        assert_eq!(
            city_of(&r, "10.1.0.0"),
            expect_city("DE", "Germany", Some("Berlin"))
        );
        assert_eq!(
            city_of(&r, "10.1.1.255"),
            expect_city("DE", "Germany", Some("Berlin"))
        );
        assert_eq!(
            city_of(&r, "10.1.2.0"),
            expect_city("FR", "France", Some("Paris"))
        );
        assert_eq!(
            city_of(&r, "10.1.2.255"),
            expect_city("FR", "France", Some("Paris"))
        );
        assert_eq!(
            city_of(&r, "10.1.3.0"),
            expect_city("DE", "Germany", Some("Berlin"))
        );
        assert_eq!(
            city_of(&r, "192.0.2.0"),
            expect_city("JP", "Japan", Some("Tokyo"))
        );
        assert_eq!(
            city_of(&r, "192.0.2.127"),
            expect_city("JP", "Japan", Some("Tokyo"))
        );
        assert_eq!(
            city_of(&r, "192.0.2.128"),
            expect_city("AU", "Australia", Some("Sydney"))
        );
        assert_eq!(
            city_of(&r, "192.0.2.255"),
            expect_city("AU", "Australia", Some("Sydney"))
        );
        assert_eq!(
            city_of(&r, "198.51.100.7"),
            expect_city("NL", "Netherlands", Some("Amsterdam"))
        );
        assert_eq!(
            city_of(&r, "2001:db8::1"),
            expect_city("BE", "Belgium", None)
        );
        assert_eq!(
            city_of(&r, "2001:db8:1:ffff::1"),
            expect_city("BE", "Belgium", Some("Brussels"))
        );
        assert_eq!(
            city_of(&r, "2001:db8:2::1"),
            expect_city("BE", "Belgium", None)
        );

        for outside in [
            "9.255.255.255",
            "11.0.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "198.51.100.6",
            "198.51.100.8",
            "8.8.8.8",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db7:ffff::1",
            "2001:db9::",
            "::1",
            // IPv4-mapped addresses are not aliases of the IPv4 networks.
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(city_of(&r, outside), None, "{outside}");
        }

        assert_eq!(network_of(&r, "10.1.2.3"), net("10.1.2.0/24"));
        assert_eq!(network_of(&r, "192.0.2.200"), net("192.0.2.128/25"));
        assert_eq!(network_of(&r, "198.51.100.7"), net("198.51.100.7/32"));
        assert_eq!(network_of(&r, "2001:db8:1::5"), net("2001:db8:1::/48"));

        let m = r.metadata();
        assert_eq!(m.database_type, "GeoLite2-City");
        assert_eq!(m.ip_version, 6);
        assert_eq!(m.record_size, 24);
        assert_eq!(m.binary_format_major_version, 2);
        assert_eq!(m.binary_format_minor_version, 0);
        assert_eq!(m.build_epoch, 1_700_000_000);
        assert_eq!(m.languages, vec!["en".to_string()]);
        assert_eq!(
            m.description.get("en").map(String::as_str),
            Some("GeoLite2-City")
        );
    }

    #[test]
    fn an_asn_database_of_ipv4_networks() {
        let mut w = MmdbWriter::new("GeoLite2-ASN", 4).expect("writer");
        w.set_description("en", "Test ASN database")
            .expect("description");
        w.set_description("de", "Test-ASN-Datenbank")
            .expect("description");
        w.insert(net("3.0.0.0/9"), asn_record(16509, "AMAZON-02"))
            .expect("insert");
        w.insert(net("3.128.0.0/9"), asn_record(16509, "AMAZON-02"))
            .expect("insert");
        w.insert(net("52.94.0.0/22"), asn_record(14618, "AMAZON-AES"))
            .expect("insert");
        w.insert(net("52.94.4.0/24"), asn_record(16509, "AMAZON-02"))
            .expect("insert");
        w.insert(
            net("185.220.100.0/22"),
            asn_record(60729, "Stiftung Erneuerbare Freiheit"),
        )
        .expect("insert");
        w.insert(net("185.220.101.0/24"), asn_record(208294, "Relayon"))
            .expect("insert");
        let r = reader(&w);

        assert_eq!(
            asn_of(&r, "3.0.0.0"),
            Some((16509, "AMAZON-02".to_string()))
        );
        assert_eq!(
            asn_of(&r, "3.255.255.255"),
            Some((16509, "AMAZON-02".to_string()))
        );
        assert_eq!(
            asn_of(&r, "52.94.3.255"),
            Some((14618, "AMAZON-AES".to_string()))
        );
        assert_eq!(
            asn_of(&r, "52.94.4.1"),
            Some((16509, "AMAZON-02".to_string()))
        );
        assert_eq!(
            asn_of(&r, "185.220.100.1"),
            Some((60729, "Stiftung Erneuerbare Freiheit".to_string()))
        );
        assert_eq!(
            asn_of(&r, "185.220.101.1"),
            Some((208294, "Relayon".to_string()))
        );
        assert_eq!(
            asn_of(&r, "185.220.102.1"),
            Some((60729, "Stiftung Erneuerbare Freiheit".to_string()))
        );
        for outside in ["2.255.255.255", "4.0.0.0", "52.94.5.0", "185.220.104.0"] {
            assert_eq!(asn_of(&r, outside), None, "{outside}");
        }
        // An IPv4 database has no IPv6 addresses to look up.
        assert!(r.lookup(ip("2001:db8::1")).is_err());

        // Identical records are written once: the two /9s share one.
        let first = r.lookup(ip("3.0.0.1")).expect("lookup").offset();
        let second = r.lookup(ip("3.200.0.1")).expect("lookup").offset();
        assert!(first.is_some());
        assert_eq!(first, second);

        let m = r.metadata();
        assert_eq!(m.ip_version, 4);
        assert_eq!(m.description.len(), 2);
        assert_eq!(
            m.description.get("de").map(String::as_str),
            Some("Test-ASN-Datenbank")
        );
    }

    #[test]
    fn whole_address_spaces_and_single_hosts() {
        let mut v4 = MmdbWriter::new("Test", 4).expect("writer");
        v4.insert(net("0.0.0.0/0"), asn_record(1, "everything"))
            .expect("insert");
        v4.insert(net("203.0.113.9/32"), asn_record(2, "one host"))
            .expect("insert");
        let r = reader(&v4);
        assert_eq!(asn_of(&r, "0.0.0.0"), Some((1, "everything".to_string())));
        assert_eq!(
            asn_of(&r, "255.255.255.255"),
            Some((1, "everything".to_string()))
        );
        assert_eq!(asn_of(&r, "203.0.113.9"), Some((2, "one host".to_string())));
        assert_eq!(
            asn_of(&r, "203.0.113.8"),
            Some((1, "everything".to_string()))
        );

        let mut v6 = MmdbWriter::new("Test", 6).expect("writer");
        v6.insert(net("::/0"), asn_record(1, "everything"))
            .expect("insert");
        v6.insert(net("0.0.0.0/0"), asn_record(2, "all of IPv4"))
            .expect("insert");
        v6.insert(net("2001:db8::1/128"), asn_record(3, "one host"))
            .expect("insert");
        let r = reader(&v6);
        assert_eq!(asn_of(&r, "1.2.3.4"), Some((2, "all of IPv4".to_string())));
        assert_eq!(
            asn_of(&r, "::1.2.3.4"),
            Some((2, "all of IPv4".to_string()))
        );
        assert_eq!(asn_of(&r, "::1:0:0:0"), Some((1, "everything".to_string())));
        assert_eq!(asn_of(&r, "2001:db8::1"), Some((3, "one host".to_string())));
        assert_eq!(
            asn_of(&r, "2001:db8::2"),
            Some((1, "everything".to_string()))
        );
        assert_eq!(network_of(&r, "2001:db8::1"), net("2001:db8::1/128"));

        // An IPv6 network above ::/96 covers the IPv4 addresses under it.
        let mut cover = MmdbWriter::new("Test", 6).expect("writer");
        cover
            .insert(net("::/64"), asn_record(1, "low"))
            .expect("insert");
        cover
            .insert(net("10.0.0.0/8"), asn_record(2, "ten"))
            .expect("insert");
        let r = reader(&cover);
        assert_eq!(asn_of(&r, "10.9.9.9"), Some((2, "ten".to_string())));
        assert_eq!(asn_of(&r, "11.0.0.0"), Some((1, "low".to_string())));
    }

    #[test]
    fn an_empty_database_is_readable_and_finds_nothing() {
        for version in [4, 6] {
            let w = MmdbWriter::new("Empty", version).expect("writer");
            assert!(w.is_empty());
            let r = reader(&w);
            assert_eq!(asn_of(&r, "1.2.3.4"), None);
            assert_eq!(r.metadata().node_count, 1);
        }
    }

    #[test]
    fn host_bits_are_ignored_and_a_repeated_network_takes_the_new_record() {
        let mut w = MmdbWriter::new("Test", 4).expect("writer");
        w.insert(net("10.1.2.3/16"), asn_record(1, "first"))
            .expect("insert");
        w.insert(net("10.1.0.0/16"), asn_record(2, "second"))
            .expect("insert");
        assert_eq!(w.len(), 1);
        let r = reader(&w);
        assert_eq!(asn_of(&r, "10.1.200.1"), Some((2, "second".to_string())));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(
            MmdbWriter::new("Test", 5).err(),
            Some(MmdbError::IpVersion(5))
        );
        assert_eq!(
            MmdbWriter::new("", 6).err(),
            Some(MmdbError::EmptyDatabaseType)
        );

        let mut w = MmdbWriter::new("Test", 4).expect("writer");
        assert_eq!(
            w.insert(net("2001:db8::/32"), asn_record(1, "x")),
            Err(MmdbError::Ipv6InIpv4Database(net("2001:db8::/32")))
        );
        let twice = MmdbValue::Map(vec![
            ("a".to_string(), MmdbValue::U32(1)),
            ("a".to_string(), MmdbValue::U32(2)),
        ]);
        assert_eq!(
            w.insert(net("10.0.0.0/8"), twice),
            Err(MmdbError::DuplicateKey("a".to_string()))
        );
        let mut deep = MmdbValue::U32(0);
        for _ in 0..=MAX_DEPTH {
            deep = MmdbValue::Array(vec![deep]);
        }
        assert_eq!(w.insert(net("10.0.0.0/8"), deep), Err(MmdbError::TooDeep));
        let long = MmdbValue::Bytes(vec![0; MAX_VALUE_SIZE + 1]);
        assert!(matches!(
            w.insert(net("10.0.0.0/8"), long),
            Err(MmdbError::TooLarge { .. })
        ));
        // Nothing was inserted by the failed calls.
        assert!(w.is_empty());
        assert!(w
            .set_description("en", &"x".repeat(MAX_VALUE_SIZE + 1))
            .is_err());
    }

    #[test]
    fn the_deepest_nesting_allowed_reads_back() {
        let mut deep = MmdbValue::U32(7);
        for _ in 0..MAX_DEPTH {
            deep = MmdbValue::Array(vec![deep]);
        }
        let mut w = MmdbWriter::new("Test", 4).expect("writer");
        w.insert(net("10.0.0.0/8"), deep).expect("insert");
        let r = reader(&w);
        let value: serde_json::Value = r
            .lookup(ip("10.0.0.1"))
            .expect("lookup")
            .decode()
            .expect("decodes")
            .expect("found");
        let mut inner = &value;
        for _ in 0..MAX_DEPTH {
            inner = &inner[0];
        }
        assert_eq!(inner, &serde_json::json!(7));
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct AllTypes<'a> {
        text: &'a str,
        long_text: String,
        longer_text: String,
        longest_text: String,
        bytes: &'a [u8],
        u16: u16,
        u32: u32,
        u64: u64,
        u128: u128,
        zero: u32,
        positive: i32,
        negative: i32,
        f64: f64,
        f32: f32,
        yes: bool,
        no: bool,
        array: Vec<u32>,
        map: BTreeMap<String, String>,
        empty_map: BTreeMap<String, String>,
        empty_array: Vec<u32>,
    }

    #[test]
    fn every_value_type_reads_back() {
        let long = "l".repeat(200);
        let longer = "m".repeat(40_000);
        let longest = "n".repeat(70_000);
        let record = MmdbValue::Map(vec![
            ("text".to_string(), "héllo".into()),
            ("long_text".to_string(), long.clone().into()),
            ("longer_text".to_string(), longer.clone().into()),
            ("longest_text".to_string(), longest.clone().into()),
            ("bytes".to_string(), MmdbValue::Bytes(vec![0, 1, 2, 255])),
            ("u16".to_string(), MmdbValue::U16(65_535)),
            ("u32".to_string(), MmdbValue::U32(70_000)),
            ("u64".to_string(), MmdbValue::U64(u64::MAX - 1)),
            ("u128".to_string(), MmdbValue::U128(u128::MAX / 3)),
            ("zero".to_string(), MmdbValue::U32(0)),
            ("positive".to_string(), MmdbValue::I32(300)),
            ("negative".to_string(), MmdbValue::I32(-2)),
            ("f64".to_string(), MmdbValue::F64(-33.865)),
            ("f32".to_string(), MmdbValue::F32(1.5)),
            ("yes".to_string(), MmdbValue::Bool(true)),
            ("no".to_string(), MmdbValue::Bool(false)),
            (
                "array".to_string(),
                MmdbValue::Array((0..40).map(MmdbValue::U32).collect()),
            ),
            (
                "map".to_string(),
                MmdbValue::Map(vec![
                    ("en".to_string(), "Sydney".into()),
                    ("de".to_string(), "Sydney".into()),
                ]),
            ),
            ("empty_map".to_string(), MmdbValue::Map(vec![])),
            ("empty_array".to_string(), MmdbValue::Array(vec![])),
        ]);
        let mut w = MmdbWriter::new("Test", 6).expect("writer");
        w.insert(net("2001:db8::/32"), record).expect("insert");
        let r = reader(&w);
        let result = r.lookup(ip("2001:db8::1")).expect("lookup");
        let all: AllTypes = result.decode().expect("decodes").expect("found");
        assert_eq!(
            all,
            AllTypes {
                text: "héllo",
                long_text: long,
                longer_text: longer,
                longest_text: longest,
                bytes: &[0, 1, 2, 255],
                u16: 65_535,
                u32: 70_000,
                u64: u64::MAX - 1,
                u128: u128::MAX / 3,
                zero: 0,
                positive: 300,
                negative: -2,
                f64: -33.865,
                f32: 1.5,
                yes: true,
                no: false,
                array: (0..40).collect(),
                map: BTreeMap::from([
                    ("en".to_string(), "Sydney".to_string()),
                    ("de".to_string(), "Sydney".to_string()),
                ]),
                empty_map: BTreeMap::new(),
                empty_array: vec![],
            }
        );
    }

    #[test]
    fn repeated_values_are_pointers() {
        // 2,000 cities in 20 countries: country maps and keys are shared.
        let mut w = MmdbWriter::new("GeoLite2-City", 4).expect("writer");
        let mut plain_size = 0;
        for i in 0..2_000u32 {
            let country = format!("Country {}", i % 20);
            let record = city_record("ZZ", &country, Some(&format!("City {i}")));
            let mut bytes = Vec::new();
            encode_plain(&record, &mut bytes, &mut Vec::new());
            plain_size += bytes.len();
            w.insert(
                IpNet::new(IpAddr::from((i << 8).to_be_bytes()), 24).expect("net"),
                record,
            )
            .expect("insert");
        }
        let bytes = w.to_bytes();
        let data_and_metadata = bytes.len() - tree_len(&bytes);
        assert!(
            data_and_metadata * 2 < plain_size,
            "{data_and_metadata} bytes of data for {plain_size} bytes of records"
        );
        let r = Reader::from_source(bytes).expect("readable");
        r.verify().expect("verifies");
        assert_eq!(
            city_of(&r, "0.0.7.1"),
            expect_city("ZZ", "Country 7", Some("City 7"))
        );
        assert_eq!(
            city_of(&r, "0.7.207.200"),
            expect_city("ZZ", "Country 19", Some("City 1999"))
        );
    }

    /// Reads a pointer as the specification describes it: (offset, bytes read).
    fn read_pointer(bytes: &[u8]) -> (u64, usize) {
        let size = u64::from(bytes[0] & 0x1F);
        let (ss, vvv) = (size >> 3, size & 7);
        let b = |i: usize| u64::from(bytes[i]);
        match ss {
            0 => ((vvv << 8) | b(1), 2),
            1 => (((vvv << 16) | (b(1) << 8) | b(2)) + 2_048, 3),
            2 => (
                ((vvv << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) + 526_336,
                4,
            ),
            _ => ((b(1) << 24) | (b(2) << 16) | (b(3) << 8) | b(4), 5),
        }
    }

    #[test]
    fn pointers_of_every_length_encode_their_offset() {
        for offset in [
            0,
            1,
            2_047,
            2_048,
            2_049,
            526_335,
            526_336,
            526_337,
            134_744_063,
            134_744_064,
            u64::from(u32::MAX),
        ] {
            let mut out = Vec::new();
            push_pointer(&mut out, offset);
            assert_eq!(out[0] >> 5, TYPE_POINTER, "{offset}");
            assert_eq!(out.len(), pointer_len(offset), "{offset}");
            assert_eq!(read_pointer(&out), (offset, out.len()), "{offset}");
        }
    }

    #[test]
    fn pointers_of_every_length_resolve_in_the_reader() {
        // The shared value sits after `pad` bytes, so the second record's pointer to it
        // takes 2, 3 and then 4 bytes.
        for pad in [10, 2_100, 530_000] {
            let shared = MmdbValue::Map(vec![("en".to_string(), "a value written once".into())]);
            let mut w = MmdbWriter::new("Test", 4).expect("writer");
            w.set_build_epoch(1_700_000_000);
            let first = MmdbValue::Map(vec![
                ("pad".to_string(), "p".repeat(pad).into()),
                ("names".to_string(), shared.clone()),
            ]);
            let second = MmdbValue::Map(vec![("names".to_string(), shared)]);
            w.insert(net("10.0.0.0/8"), first).expect("insert");
            let alone = w.to_bytes().len();
            w.insert(net("11.0.0.0/8"), second).expect("insert");
            let both = w.to_bytes().len();
            let r = reader(&w);
            for addr in ["10.1.1.1", "11.1.1.1"] {
                let result = r.lookup(ip(addr)).expect("lookup");
                let name: Option<String> = result
                    .decode_path(&[PathElement::Key("names"), PathElement::Key("en")])
                    .expect("decodes");
                assert_eq!(
                    name.as_deref(),
                    Some("a value written once"),
                    "{addr} after {pad}"
                );
            }
            // The second record is a map header and two pointers, not a second copy
            // (10.0.0.0/8 and 11.0.0.0/8 share the tree's nodes).
            assert!(
                both - alone <= 1 + 2 * pointer_len(pad as u64),
                "{alone} -> {both} bytes"
            );
        }
    }

    /// Bytes of the search tree and the separator of a database.
    fn tree_len(bytes: &[u8]) -> usize {
        let r = Reader::from_source(bytes).expect("readable");
        let m = r.metadata();
        m.node_count as usize * usize::from(m.record_size) / 4 + DATA_SECTION_SEPARATOR
    }

    #[test]
    fn the_narrowest_record_size_that_fits() {
        assert_eq!(RecordSize::smallest_for(0), Some(RecordSize::Bits24));
        assert_eq!(
            RecordSize::smallest_for((1 << 24) - 1),
            Some(RecordSize::Bits24)
        );
        assert_eq!(RecordSize::smallest_for(1 << 24), Some(RecordSize::Bits28));
        assert_eq!(
            RecordSize::smallest_for((1 << 28) - 1),
            Some(RecordSize::Bits28)
        );
        assert_eq!(RecordSize::smallest_for(1 << 28), Some(RecordSize::Bits32));
        assert_eq!(
            RecordSize::smallest_for(u64::from(u32::MAX)),
            Some(RecordSize::Bits32)
        );
        assert_eq!(RecordSize::smallest_for(1 << 32), None);
    }

    #[test]
    fn wider_records_read_the_same() {
        let mut w = MmdbWriter::new("Test", 6).expect("writer");
        for (i, n) in [
            "10.0.0.0/8",
            "10.128.0.0/9",
            "2001:db8::/32",
            "2001:db8:8000::/33",
            "::/1",
        ]
        .into_iter()
        .enumerate()
        {
            w.insert(net(n), asn_record(i as u32, n)).expect("insert");
        }
        for size in [RecordSize::Bits24, RecordSize::Bits28, RecordSize::Bits32] {
            w.set_min_record_size(size);
            let r = reader(&w);
            assert_eq!(r.metadata().record_size, size.bits());
            assert_eq!(asn_of(&r, "10.1.1.1"), Some((0, "10.0.0.0/8".to_string())));
            assert_eq!(
                asn_of(&r, "10.200.1.1"),
                Some((1, "10.128.0.0/9".to_string()))
            );
            assert_eq!(
                asn_of(&r, "2001:db8::1"),
                Some((2, "2001:db8::/32".to_string()))
            );
            assert_eq!(
                asn_of(&r, "2001:db8:9000::1"),
                Some((3, "2001:db8:8000::/33".to_string()))
            );
            assert_eq!(asn_of(&r, "11.0.0.0"), Some((4, "::/1".to_string())));
            assert_eq!(asn_of(&r, "8000::"), None);
        }
    }

    /// A data section past 2^24 bytes needs 28-bit records.
    #[test]
    fn a_large_data_section_gets_28_bit_records() {
        let mut w = MmdbWriter::new("Test", 4).expect("writer");
        let blob_len = 1 << 20;
        for i in 0..17u32 {
            let blob = char::from(b'a' + i as u8).to_string().repeat(blob_len);
            let record = MmdbValue::Map(vec![
                ("n".to_string(), MmdbValue::U32(i)),
                ("blob".to_string(), blob.into()),
            ]);
            w.insert(
                IpNet::new(IpAddr::from([10, i as u8, 0, 0]), 16).expect("net"),
                record,
            )
            .expect("insert");
        }
        let r = reader(&w);
        assert_eq!(r.metadata().record_size, 28);
        for i in 0..17u8 {
            let result = r.lookup(IpAddr::from([10, i, 1, 2])).expect("lookup");
            let n: Option<u32> = result
                .decode_path(&[PathElement::Key("n")])
                .expect("decodes");
            assert_eq!(n, Some(u32::from(i)));
        }
        let last = r.lookup(IpAddr::from([10, 16, 0, 0])).expect("lookup");
        assert!(last.offset().expect("found") >= 16 << 20);
        let blob: Option<String> = last
            .decode_path(&[PathElement::Key("blob")])
            .expect("decodes");
        assert_eq!(
            blob.map(|b| (b.len(), b.starts_with('q'))),
            Some((blob_len, true))
        );
    }

    /// A small random generator (xorshift64*), so that the big test needs no seed file.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn seventy_thousand_random_networks() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut nets = BTreeMap::new();
        while nets.len() < 70_000 {
            let addr = (rng.next() >> 32) as u32 & 0xFFFF_FF00;
            let n = nets.len() as u32;
            nets.entry(addr).or_insert(n);
        }
        let mut w = MmdbWriter::new("GeoLite2-ASN", 6).expect("writer");
        for (&addr, &asn) in &nets {
            let net = IpNet::new(IpAddr::from(Ipv4Addr::from(addr)), 24).expect("net");
            w.insert(net, asn_record(asn, &format!("AS{asn}")))
                .expect("insert");
        }
        let r = reader(&w);
        let m = r.metadata();
        // 70,000 /24s take about half a million nodes: 24-bit records still hold them.
        assert!(m.node_count > 70_000, "{} nodes", m.node_count);
        assert_eq!(m.record_size, 24);
        for (&addr, &asn) in &nets {
            let host = addr | (rng.next() & 0xFF) as u32;
            let found = asn_of(&r, &Ipv4Addr::from(host).to_string());
            assert_eq!(found, Some((asn, format!("AS{asn}"))));
        }
        let mut misses = 0;
        for _ in 0..10_000 {
            let addr = (rng.next() >> 32) as u32;
            let expected = nets
                .get(&(addr & 0xFFFF_FF00))
                .map(|&asn| (asn, format!("AS{asn}")));
            misses += usize::from(expected.is_none());
            assert_eq!(asn_of(&r, &Ipv4Addr::from(addr).to_string()), expected);
        }
        assert!(misses > 9_000);
    }

    /// A network in the tree's address space: (prefix, bits).
    fn tree_net(net: &IpNet, ip_version: u8) -> (u8, u128) {
        match (net.trunc(), ip_version) {
            (IpNet::V4(v4), 4) => (v4.prefix_len(), u128::from(u32::from(v4.network()))),
            (IpNet::V4(v4), _) => (96 + v4.prefix_len(), u128::from(u32::from(v4.network()))),
            (IpNet::V6(v6), _) => (v6.prefix_len(), u128::from(v6.network())),
        }
    }

    fn tree_addr(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }

    fn tree_contains((prefix, bits): (u8, u128), depth: u8, addr: u128) -> bool {
        prefix == 0 || (bits ^ addr) >> (depth - prefix) == 0
    }

    /// An address from a few crowded corners of the address space, so that networks
    /// nest and touch often.
    fn addr_strategy(v6: bool) -> impl Strategy<Value = IpAddr> {
        let v4 = (0u32..4, any::<u32>()).prop_map(|(top, rest)| {
            let top = [0u32, 10, 192, 255][top as usize] << 24;
            IpAddr::from(Ipv4Addr::from(top | (rest & 0x00FF_0FFF)))
        });
        let v6_addr = (0u32..3, any::<u128>()).prop_map(|(kind, rest)| {
            let bits = match kind {
                0 => rest & 0xFFFF_FFFF,
                1 => (0x2001_0db8u128 << 96) | (rest & 0xFFFF_0000_0000_0000_0000_0000_0000),
                _ => rest,
            };
            IpAddr::from(Ipv6Addr::from(bits))
        });
        if v6 {
            prop_oneof![v4, v6_addr].boxed()
        } else {
            v4.boxed()
        }
    }

    fn net_strategy(v6: bool) -> impl Strategy<Value = IpNet> {
        (addr_strategy(v6), any::<u8>()).prop_map(|(addr, len)| {
            let max = if addr.is_ipv4() { 33 } else { 129 };
            IpNet::new(addr, len % max).expect("valid prefix").trunc()
        })
    }

    fn case_strategy() -> impl Strategy<Value = (bool, Vec<IpNet>, Vec<IpAddr>, RecordSize)> {
        any::<bool>().prop_flat_map(|v6| {
            (
                Just(v6),
                proptest::collection::vec(net_strategy(v6), 0..40),
                proptest::collection::vec(addr_strategy(v6), 0..40),
                prop_oneof![
                    Just(RecordSize::Bits24),
                    Just(RecordSize::Bits28),
                    Just(RecordSize::Bits32)
                ],
            )
        })
    }

    proptest! {
        /// Every lookup agrees with a naive search: the longest prefix holding the
        /// address answers, the last inserted among equal networks; the network the
        /// reader reports lies inside it and holds the address.
        #[test]
        fn lookups_agree_with_a_longest_prefix_search((v6, nets, probes, size) in case_strategy()) {
            let version = if v6 { 6 } else { 4 };
            let depth = if v6 { 128 } else { 32 };
            let mut w = MmdbWriter::new("Test", version).expect("writer");
            w.set_min_record_size(size);
            for (i, n) in nets.iter().enumerate() {
                w.insert(*n, MmdbValue::U32(i as u32)).expect("insert");
            }
            let r = Reader::from_source(w.to_bytes()).expect("readable");
            r.verify().expect("verifies");
            prop_assert_eq!(r.metadata().record_size, size.bits());

            let mut all_probes = probes;
            for n in &nets {
                all_probes.push(n.network());
                all_probes.push(n.broadcast());
            }
            for probe in all_probes {
                let addr = tree_addr(probe);
                let naive = nets
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i, tree_net(n, version)))
                    .filter(|(_, n)| tree_contains(*n, depth, addr))
                    .max_by_key(|(i, (prefix, _))| (*prefix, *i));
                let result = r.lookup(probe).expect("lookup");
                let found: Option<u32> = result.decode().expect("decodes");
                prop_assert_eq!(found, naive.map(|(i, _)| i as u32), "probe {}", probe);
                if let Some((_, winner)) = naive {
                    let network: IpNet = result.network().expect("network").to_string().parse().expect("IpNet");
                    let landed = tree_net(&network, version);
                    prop_assert!(landed.0 >= winner.0, "probe {} landed in {}", probe, network);
                    prop_assert!(tree_contains(winner, depth, landed.1), "probe {} landed in {}", probe, network);
                    prop_assert!(tree_contains(landed, depth, addr), "probe {} landed in {}", probe, network);
                }
            }
        }
    }
}
