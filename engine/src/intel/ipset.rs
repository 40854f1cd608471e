//! Address tables: many networks (a million is fine), each address answered with the
//! most specific network that holds it, in one binary search.
//!
//! Networks may nest and repeat. At build time they are cut into disjoint ranges of
//! addresses, each labelled with the most specific network over it (a sweep over the
//! networks sorted by start, with a stack of the networks still open), so a lookup is a
//! search for the last range starting at or below the address. IPv4 ranges are kept
//! as `u32` and IPv6 ranges as `u128`, so a list of IPv4 addresses costs 12 bytes per
//! entry.

use std::net::IpAddr;

use ipnet::IpNet;

/// Addresses and networks, each with a label (the caller's index of the entry).
#[derive(Clone, Debug, Default)]
pub struct AddrTable {
    v4: Vec<Range<u32>>,
    v6: Vec<Range<u128>>,
    /// For large IPv4 tables: `v4_index[h]` is the first range starting at or above
    /// `h << 16`, so a lookup searches the ranges of one /16 (a cache line or two)
    /// instead of the whole table (a miss per step).
    v4_index: Vec<u32>,
}

/// IPv4 tables with more ranges than this get an index by /16.
const INDEX_FROM: usize = 4096;

/// Disjoint, sorted ranges `lo..=hi`, each with its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range<T> {
    lo: T,
    hi: T,
    entry: u32,
}

/// What the sweep needs of an address type.
trait Addr: Copy + Ord + std::fmt::Debug {
    fn next(self) -> Option<Self>;
    fn prev(self) -> Option<Self>;
}

impl Addr for u32 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl Addr for u128 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl AddrTable {
    /// A table of `nets`, each labelled with the entry it came from. Where networks
    /// overlap, the most specific one answers (of equal networks, the last given).
    pub fn new(nets: impl IntoIterator<Item = (IpNet, u32)>) -> AddrTable {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (net, entry) in nets {
            match net {
                IpNet::V4(n) => v4.push(Range {
                    lo: u32::from(n.network()),
                    hi: u32::from(n.broadcast()),
                    entry,
                }),
                IpNet::V6(n) => v6.push(Range {
                    lo: u128::from(n.network()),
                    hi: u128::from(n.broadcast()),
                    entry,
                }),
            }
        }
        let v4 = disjoint(v4);
        let v4_index = if v4.len() > INDEX_FROM {
            let mut index = Vec::with_capacity((1 << 16) + 1);
            let mut i = 0usize;
            for h in 0..=(1u32 << 16) {
                while i < v4.len() && (v4[i].lo >> 16) < h {
                    i += 1;
                }
                index.push(i as u32);
            }
            index
        } else {
            Vec::new()
        };
        AddrTable {
            v4,
            v6: disjoint(v6),
            v4_index,
        }
    }

    fn lookup_v4(&self, addr: u32) -> Option<u32> {
        if self.v4_index.is_empty() {
            return find(&self.v4, addr);
        }
        let h = (addr >> 16) as usize;
        let (start, end) = (self.v4_index[h] as usize, self.v4_index[h + 1] as usize);
        // The range holding `addr` starts in its /16 at or below it, or is the last
        // range starting before the /16.
        let within = self.v4[start..end].partition_point(|r| r.lo <= addr);
        let r = self.v4.get((start + within).checked_sub(1)?)?;
        (addr <= r.hi).then_some(r.entry)
    }

    /// The entry of the most specific network holding `ip`. An IPv4-mapped IPv6
    /// address (`::ffff:a.b.c.d`) is looked up as the IPv4 address.
    pub fn lookup(&self, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(a) => self.lookup_v4(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.lookup_v4(u32::from(v4)),
                None => find(&self.v6, u128::from(a)),
            },
        }
    }

    /// Number of disjoint ranges (for sizes and tests).
    pub fn ranges(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.v4.capacity() * std::mem::size_of::<Range<u32>>()
            + self.v6.capacity() * std::mem::size_of::<Range<u128>>()
            + self.v4_index.capacity() * 4
    }
}

fn find<T: Addr>(ranges: &[Range<T>], addr: T) -> Option<u32> {
    let i = ranges.partition_point(|r| r.lo <= addr);
    let r = ranges.get(i.checked_sub(1)?)?;
    (addr <= r.hi).then_some(r.entry)
}

/// Cuts possibly nested, repeated networks into disjoint ranges, each labelled with the
/// most specific network over it.
fn disjoint<T: Addr>(mut nets: Vec<Range<T>>) -> Vec<Range<T>> {
    // By start, wider first, so a network is pushed after every network holding it;
    // equal networks keep their order (the stable sort), and the last one answers.
    nets.sort_by(|a, b| a.lo.cmp(&b.lo).then(b.hi.cmp(&a.hi)));
    let mut out: Vec<Range<T>> = Vec::with_capacity(nets.len());
    // Networks that hold the current position, innermost last.
    let mut open: Vec<Range<T>> = Vec::new();
    // The first address not yet given to a range; `None` once past the last address.
    let mut pos: Option<T> = nets.first().map(|n| n.lo);
    let emit = |out: &mut Vec<Range<T>>, lo: T, hi: T, entry: u32| {
        if lo > hi {
            return;
        }
        match out.last_mut() {
            Some(last) if last.entry == entry && last.hi.next() == Some(lo) => last.hi = hi,
            _ => out.push(Range { lo, hi, entry }),
        }
    };
    for net in nets {
        // Close the networks that end before this one starts.
        while let Some(top) = open.last().copied() {
            if top.hi >= net.lo {
                break;
            }
            if let Some(p) = pos {
                emit(&mut out, p, top.hi, top.entry);
            }
            pos = top.hi.next();
            open.pop();
        }
        // The network still open holds `net.lo`: it answers up to just before it.
        if let (Some(top), Some(p), Some(before)) = (open.last(), pos, net.lo.prev()) {
            if p <= before {
                emit(&mut out, p, before, top.entry);
            }
        }
        pos = Some(net.lo);
        open.push(net);
    }
    while let Some(top) = open.pop() {
        if let Some(p) = pos {
            emit(&mut out, p, top.hi, top.entry);
        }
        pos = top.hi.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test network")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn the_most_specific_network_answers() {
        let table = AddrTable::new([
            (net("10.0.0.0/8"), 0),
            (net("10.1.0.0/16"), 1),
            (net("10.1.2.3/32"), 2),
            (net("192.0.2.0/24"), 3),
            (net("2001:db8::/32"), 4),
            (net("0.0.0.0/0"), 5),
        ]);
        assert_eq!(table.lookup(ip("10.0.0.1")), Some(0));
        assert_eq!(table.lookup(ip("10.1.0.0")), Some(1));
        assert_eq!(table.lookup(ip("10.1.2.3")), Some(2));
        assert_eq!(table.lookup(ip("10.1.2.4")), Some(1));
        assert_eq!(table.lookup(ip("10.2.0.0")), Some(0));
        assert_eq!(table.lookup(ip("11.0.0.0")), Some(5));
        assert_eq!(table.lookup(ip("255.255.255.255")), Some(5));
        assert_eq!(table.lookup(ip("192.0.2.255")), Some(3));
        assert_eq!(table.lookup(ip("2001:db8::1")), Some(4));
        assert_eq!(table.lookup(ip("2001:db9::1")), None);
        assert_eq!(table.lookup(ip("::ffff:10.1.2.3")), Some(2));
    }

    /// A table large enough to be indexed by /16 answers as the plain search does, at
    /// the edges of /16s and for ranges that span several.
    #[test]
    fn the_index_by_16_agrees_with_the_plain_search() {
        let mut nets = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let addr = (x as u32) & 0x0fff_ffff; // dense: ranges share /16s
            let len = [32u8, 32, 30, 24, 20, 15][i as usize % 6];
            nets.push((
                IpNet::new(IpAddr::from(addr.to_be_bytes()), len)
                    .expect("prefix")
                    .trunc(),
                i,
            ));
        }
        let table = AddrTable::new(nets.iter().copied());
        assert!(!table.v4_index.is_empty());
        let mut probes: Vec<u32> = Vec::new();
        for (n, _) in &nets {
            if let (IpAddr::V4(a), IpAddr::V4(b)) = (n.network(), n.broadcast()) {
                let (a, b) = (u32::from(a), u32::from(b));
                probes.extend([
                    a,
                    b,
                    a.wrapping_sub(1),
                    b.wrapping_add(1),
                    a | 0xffff,
                    a & !0xffff,
                ]);
            }
        }
        for p in probes {
            assert_eq!(
                table.lookup_v4(p),
                find(&table.v4, p),
                "{}",
                std::net::Ipv4Addr::from(p)
            );
        }
    }

    #[test]
    fn an_empty_table_holds_nothing() {
        let table = AddrTable::new([]);
        assert_eq!(table.lookup(ip("1.2.3.4")), None);
        assert_eq!(table.ranges(), 0);
    }

    proptest! {
        /// Every lookup equals the naive answer: the longest prefix holding the address,
        /// the last given among equal networks.
        #[test]
        fn lookups_agree_with_a_longest_prefix_search(
            nets in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..40),
            probes in proptest::collection::vec(any::<u32>(), 0..60),
        ) {
            let nets: Vec<IpNet> = nets
                .into_iter()
                // Small address space so networks overlap often.
                .map(|(a, len)| IpNet::new(IpAddr::from((a % 4096).to_be_bytes()), len).expect("valid prefix").trunc())
                .collect();
            let table = AddrTable::new(nets.iter().enumerate().map(|(i, n)| (*n, i as u32)));
            let mut all_probes: Vec<IpAddr> = probes.into_iter().map(|p| IpAddr::from((p % 8192).to_be_bytes())).collect();
            for n in &nets {
                all_probes.push(n.network());
                all_probes.push(n.broadcast());
            }
            for probe in all_probes {
                let naive = nets
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.contains(&probe))
                    .max_by_key(|(i, n)| (n.prefix_len(), *i))
                    .map(|(i, _)| i as u32);
                prop_assert_eq!(table.lookup(probe), naive, "probe {}", probe);
            }
        }
    }
}
