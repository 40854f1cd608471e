//! Geo and ASN enrichment from MaxMind-format databases (GeoIP2/GeoLite2 City or
//! Country, and ASN, or any database of the same shape), read with the `maxminddb`
//! crate.
//!
//! `picket scan --geoip FILE` (repeatable) opens each file and tells what it holds from
//! its `database_type` (`…City…`/`…Country…` give locations, `…ASN…` autonomous
//! systems). The fields `src.country`, `src.country_name`, `src.city`, `src.asn`,
//! `src.as_org` (and `dst.…` for flows) are read from them; without a database they are
//! missing, and the compiler warns about every rule that reads them.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{PathElement, Reader};

use crate::event::FieldValue;

/// What a geo field says about an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeoAttr {
    /// ISO 3166-1 alpha-2 country code (`DE`).
    Country,
    /// English country name (`Germany`).
    CountryName,
    /// English city name.
    City,
    /// Autonomous system number.
    Asn,
    /// The organisation the autonomous system is registered to.
    AsOrg,
}

impl GeoAttr {
    /// Whether the attribute comes from an ASN database (else from a location one).
    pub fn from_asn_db(self) -> bool {
        matches!(self, GeoAttr::Asn | GeoAttr::AsOrg)
    }

    fn path(self) -> &'static [PathElement<'static>] {
        use PathElement::Key;
        match self {
            GeoAttr::Country => &[Key("country"), Key("iso_code")],
            GeoAttr::CountryName => &[Key("country"), Key("names"), Key("en")],
            GeoAttr::City => &[Key("city"), Key("names"), Key("en")],
            GeoAttr::Asn => &[Key("autonomous_system_number")],
            GeoAttr::AsOrg => &[Key("autonomous_system_organization")],
        }
    }
}

/// One opened database.
struct Db {
    reader: Reader<Vec<u8>>,
    name: String,
}

/// The databases in use: at most one for locations and one for autonomous systems.
#[derive(Default)]
pub struct GeoDb {
    location: Option<Db>,
    asn: Option<Db>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("location", &self.location.as_ref().map(|d| &d.name))
            .field("asn", &self.asn.as_ref().map(|d| &d.name))
            .finish()
    }
}

impl GeoDb {
    /// Opens database files; each goes where its `database_type` says.
    pub fn open(paths: &[impl AsRef<Path>]) -> Result<GeoDb, String> {
        let mut db = GeoDb::default();
        for path in paths {
            let path = path.as_ref();
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read geo database {}: {e}", path.display()))?;
            db.add(bytes, &path.display().to_string())?;
        }
        Ok(db)
    }

    /// Adds a database from its bytes; `name` is for messages.
    pub fn add(&mut self, bytes: Vec<u8>, name: &str) -> Result<(), String> {
        let reader = Reader::from_source(bytes)
            .map_err(|e| format!("{name} is not a MaxMind database: {e}"))?;
        let kind = reader.metadata().database_type.to_ascii_lowercase();
        let db = Db {
            reader,
            name: name.to_string(),
        };
        let slot = if kind.contains("asn") {
            &mut self.asn
        } else if kind.contains("city") || kind.contains("country") {
            &mut self.location
        } else {
            return Err(format!(
                "{name}: database type `{kind}` is neither a City/Country nor an ASN database"
            ));
        };
        if let Some(old) = slot {
            return Err(format!(
                "{name} and {} hold the same kind of data (`{kind}`); give one of them",
                old.name
            ));
        }
        *slot = Some(db);
        Ok(())
    }

    /// True when no database is open.
    pub fn is_empty(&self) -> bool {
        self.location.is_none() && self.asn.is_none()
    }

    /// Whether a database that answers `attr` is open.
    pub fn has(&self, attr: GeoAttr) -> bool {
        if attr.from_asn_db() {
            self.asn.is_some()
        } else {
            self.location.is_some()
        }
    }

    /// What the databases say of `ip`; `None` when no database answers or the address
    /// is not in it.
    pub fn lookup(&self, ip: IpAddr, attr: GeoAttr) -> Option<FieldValue<'static>> {
        let db = if attr.from_asn_db() {
            self.asn.as_ref()?
        } else {
            self.location.as_ref()?
        };
        let found = db.reader.lookup(ip).ok()?;
        if !found.has_data() {
            return None;
        }
        match attr {
            GeoAttr::Asn => found
                .decode_path::<u32>(attr.path())
                .ok()
                .flatten()
                .map(|n| FieldValue::Int(i64::from(n))),
            _ => found
                .decode_path::<String>(attr.path())
                .ok()
                .flatten()
                .map(|s| FieldValue::Str(s.into())),
        }
    }
}

/// The geo databases of the built-in pack's fixtures (`rules/intel/fixtures/`): the
/// documentation networks (RFC 5737, RFC 3849) mapped to places and the documentation
/// autonomous systems (RFC 5398), so fixtures of geo rules need no real database.
/// Built with [`super::mmdb::MmdbWriter`]; a test keeps the committed files equal to
/// what this gives.
pub fn fixture_databases() -> Result<[(&'static str, Vec<u8>); 2], super::mmdb::MmdbError> {
    use super::mmdb::{asn_record, city_record, MmdbWriter};
    const PLACES: [(&str, &str, &str, &str, u32, &str); 4] = [
        (
            "192.0.2.0/24",
            "DE",
            "Germany",
            "Berlin",
            64496,
            "Example Carrier DE",
        ),
        (
            "198.51.100.0/24",
            "BR",
            "Brazil",
            "São Paulo",
            64497,
            "Example Carrier BR",
        ),
        (
            "203.0.113.0/24",
            "US",
            "United States",
            "Seattle",
            64498,
            "Example Hosting US",
        ),
        (
            "2001:db8::/32",
            "NL",
            "Netherlands",
            "Amsterdam",
            64499,
            "Example Carrier NL",
        ),
    ];
    let mut city = MmdbWriter::new("picket-fixtures-City", 6)?;
    let mut asn = MmdbWriter::new("picket-fixtures-ASN", 6)?;
    for w in [&mut city, &mut asn] {
        w.set_build_epoch(1_795_132_800); // 2026-11-20T00:00:00Z: the same bytes every time
        w.set_description("en", "picket fixtures: documentation networks only")?;
    }
    for (net, iso, country, town, number, org) in PLACES {
        // Constant networks: the tests below look each one up.
        let Ok(net) = net.parse::<ipnet::IpNet>() else {
            continue;
        };
        city.insert(net, city_record(iso, country, Some(town)))?;
        asn.insert(net, asn_record(number, org))?;
    }
    Ok([
        ("geo-city.mmdb", city.to_bytes()),
        ("geo-asn.mmdb", asn.to_bytes()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> GeoDb {
        let mut db = GeoDb::default();
        for (name, bytes) in fixture_databases().expect("fixture databases build") {
            db.add(bytes, name).expect("fixture database opens");
        }
        db
    }

    #[test]
    fn lookups_give_each_attribute() {
        let db = fixtures();
        let ip = |s: &str| s.parse::<IpAddr>().expect("test address");
        assert_eq!(
            db.lookup(ip("192.0.2.7"), GeoAttr::Country),
            Some(FieldValue::str("DE"))
        );
        assert_eq!(
            db.lookup(ip("198.51.100.44"), GeoAttr::CountryName),
            Some(FieldValue::str("Brazil"))
        );
        assert_eq!(
            db.lookup(ip("198.51.100.44"), GeoAttr::City),
            Some(FieldValue::str("São Paulo"))
        );
        assert_eq!(
            db.lookup(ip("203.0.113.9"), GeoAttr::Asn),
            Some(FieldValue::Int(64498))
        );
        assert_eq!(
            db.lookup(ip("2001:db8::1"), GeoAttr::AsOrg),
            Some(FieldValue::str("Example Carrier NL"))
        );
        assert_eq!(db.lookup(ip("233.252.0.9"), GeoAttr::Country), None);
        assert!(db.has(GeoAttr::Asn) && db.has(GeoAttr::City));
    }

    #[test]
    fn a_second_database_of_the_same_kind_is_refused() {
        let mut db = fixtures();
        let [(_, city), _] = fixture_databases().expect("fixture databases build");
        let err = db.add(city, "again.mmdb").expect_err("two City databases");
        assert!(err.contains("same kind"), "{err}");
        let err = GeoDb::default()
            .add(b"not a database".to_vec(), "junk.mmdb")
            .expect_err("junk");
        assert!(err.contains("junk.mmdb is not a MaxMind database"), "{err}");
    }

    /// The committed fixture databases are what [`fixture_databases`] builds. To
    /// rebuild them: `PICKET_WRITE_FIXTURE_GEO=1 cargo test -p picket --lib geo`.
    #[test]
    fn committed_fixture_databases_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/intel/fixtures");
        for (name, bytes) in fixture_databases().expect("fixture databases build") {
            let path = dir.join(name);
            if std::env::var_os("PICKET_WRITE_FIXTURE_GEO").is_some() {
                std::fs::write(&path, &bytes).expect("write the fixture database");
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == bytes,
                "{} is stale: run PICKET_WRITE_FIXTURE_GEO=1 cargo test -p picket --lib geo",
                path.display()
            );
        }
    }
}
