//! VPC Flow Log records in the default version 2 format (no header line, as CloudWatch
//! Logs exports them): east-west service traffic, egress to the internet and its
//! replies, DNS and NTP, internet scanners knocking on admin ports (mostly rejected),
//! NODATA records, and a little that detections look for (mining-pool ports, hostile
//! addresses, large uploads).

use super::input::Lines;
use super::rng::Rng;
use super::world::{World, ACCOUNT};

/// 2024-05-01T00:00:00Z.
const T0: u64 = 1_714_521_600;

/// Ports that cryptocurrency mining pools listen on.
pub const MINING_PORTS: [u16; 6] = [3333, 4444, 5555, 7777, 14444, 45700];

/// Generates `target_bytes` (or a little more) of flow-log lines.
pub fn generate(world: &World, seed: u64, target_bytes: usize) -> Lines {
    let mut rng = Rng::new(seed);
    let mut lines = Lines::default();
    let mut i = 0u64;
    while lines.data.len() < target_bytes {
        for line in record(world, &mut rng, i) {
            lines.push(line.as_bytes());
        }
        i += 1;
    }
    lines
}

fn public_ip(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.pick(&[3, 13, 18, 23, 34, 35, 52, 54, 104, 140, 151, 172, 185, 199]),
        rng.range(0, 255),
        rng.range(0, 255),
        rng.range(1, 254)
    )
}

/// One flow, and its reply when the traffic was accepted both ways.
fn record(world: &World, rng: &mut Rng, i: u64) -> Vec<String> {
    let inst = rng.pick(&world.instances).clone();
    let start = T0 + i / 20;
    let end = start + rng.range(1, 59);
    let eph = rng.range(32768, 60999);
    let line = |src: &str, dst: &str, sp: u64, dp: u64, proto: u8, pk: u64, by: u64, act: &str| {
        format!(
            "2 {ACCOUNT} {} {src} {dst} {sp} {dp} {proto} {pk} {by} {start} {end} {act} OK",
            inst.eni
        )
    };
    let roll = rng.below(1000);
    match roll {
        // East-west: service calls inside the VPC, and the replies.
        0..=429 => {
            let peer = rng.pick(&world.instances).clone();
            let port = *rng.pick(&[443, 8080, 5432, 6379, 9092, 8443, 3306, 9200]);
            let (pk, by) = (rng.range(2, 400), rng.range(120, 600_000));
            vec![
                line(&inst.ip, &peer.ip, eph, port, 6, pk, by, "ACCEPT"),
                line(&peer.ip, &inst.ip, port, eph, 6, pk, by * 2, "ACCEPT"),
            ]
        }
        // Egress to the internet (APIs, package mirrors, SaaS) and the replies.
        430..=679 => {
            let dst = public_ip(rng);
            let port = *rng.pick(&[443, 443, 443, 80, 22, 123]);
            let proto = if port == 123 { 17 } else { 6 };
            let (pk, by) = (rng.range(4, 3000), rng.range(240, 4_000_000));
            vec![
                line(&inst.ip, &dst, eph, port, proto, pk, by, "ACCEPT"),
                line(&dst, &inst.ip, port, eph, proto, pk, by * 3, "ACCEPT"),
            ]
        }
        // DNS to the VPC resolver, NTP to the time service.
        680..=799 => {
            let resolver = format!(
                "{}.0.2",
                inst.ip.split('.').take(2).collect::<Vec<_>>().join(".")
            );
            if rng.chance(0.8) {
                vec![line(
                    &inst.ip,
                    &resolver,
                    eph,
                    53,
                    17,
                    2,
                    rng.range(120, 400),
                    "ACCEPT",
                )]
            } else {
                vec![line(
                    &inst.ip,
                    "169.254.169.123",
                    eph,
                    123,
                    17,
                    1,
                    76,
                    "ACCEPT",
                )]
            }
        }
        // Internet scanners on admin and database ports, mostly rejected.
        800..=919 => {
            let src = public_ip(rng);
            let port = *rng.pick(&[
                22, 23, 3389, 445, 1433, 3306, 5900, 6379, 8080, 9200, 2375, 27017,
            ]);
            let act = if rng.chance(0.9) { "REJECT" } else { "ACCEPT" };
            vec![line(
                &src,
                &inst.ip,
                rng.range(1024, 65535),
                port,
                6,
                rng.range(1, 3),
                rng.range(40, 180),
                act,
            )]
        }
        // ICMP.
        920..=949 => {
            let src = public_ip(rng);
            vec![line(&src, &inst.ip, 0, 0, 1, rng.range(1, 5), 84, "REJECT")]
        }
        // No traffic on the interface in the interval.
        950..=994 => vec![format!(
            "2 {ACCOUNT} {} - - - - - - - {start} {end} - NODATA",
            inst.eni
        )],
        // What detections look for: mining pools, hostile addresses, big uploads.
        _ => {
            let kind = rng.below(3);
            if kind == 0 {
                let port = u64::from(*rng.pick(&MINING_PORTS));
                vec![line(
                    &inst.ip,
                    &public_ip(rng),
                    eph,
                    port,
                    6,
                    rng.range(20, 900),
                    rng.range(2_000, 90_000),
                    "ACCEPT",
                )]
            } else if kind == 1 {
                let bad = rng.pick(&world.hostile_ips).clone();
                vec![line(
                    &inst.ip,
                    &bad,
                    eph,
                    443,
                    6,
                    rng.range(10, 200),
                    rng.range(1_000, 50_000),
                    "ACCEPT",
                )]
            } else {
                vec![line(
                    &inst.ip,
                    &public_ip(rng),
                    eph,
                    443,
                    6,
                    rng.range(50_000, 200_000),
                    rng.range(100_000_000, 900_000_000),
                    "ACCEPT",
                )]
            }
        }
    }
}
