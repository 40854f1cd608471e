//! What stateful rules cost: time on realistic input, and memory per tracked key.
//!
//! ```text
//! cargo bench -p picket --bench stateful
//! ```
//!
//! 1. Throughput, one thread, the built-in pack on the generated CloudTrail and VPC flow
//!    input of the throughput benchmark: parse only (the floor), the engine without the
//!    state (stateful rules' conditions are evaluated, their matches dropped), and the
//!    engine with the state store (`Matcher::run_with_state`). The difference of the
//!    last two is what windows, baselines and sequences cost; the observations and keys
//!    the store held are printed beside it.
//! 2. Memory per key: for each kind of state (a sliding `distinct` window, a `count`
//!    window, a `new` baseline, a sequence, a window against a baseline), 100,000 keys
//!    of one event each are created, and the heap bytes they take are measured with a
//!    counting allocator, beside the store's own estimate (which drives eviction).
//!    A busy key (10,000 events in one window) is measured too.
//!
//! docs/performance.md has a run's output.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use picket::compile::{compile, PackFiles, RulePack};
use picket::event::{read_stream, Event, ReadOptions, ReadStats};
use picket::run::{Matcher, StateConfig, StateStore};

#[path = "throughput/cloudtrail.rs"]
#[allow(dead_code)]
mod cloudtrail;
#[path = "throughput/input.rs"]
#[allow(dead_code)]
mod input;
#[path = "throughput/ops.rs"]
#[allow(dead_code)]
mod ops;
#[path = "throughput/rng.rs"]
#[allow(dead_code)]
mod rng;
#[path = "throughput/vpcflow.rs"]
#[allow(dead_code)]
mod vpcflow;
#[path = "throughput/world.rs"]
#[allow(dead_code)]
mod world;

/// Counts the bytes the process holds on the heap.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn held() -> isize {
    HELD.load(Ordering::Relaxed)
}

/// Bytes of generated input per source.
const INPUT_BYTES: usize = 24_000_000;

/// How long each configuration is repeated; the fastest pass counts.
const BUDGET: Duration = Duration::from_secs(3);

fn time_best(mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut out = 0;
    let mut runs = 0;
    while runs < 3 || start.elapsed() < BUDGET {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    (best, out)
}

fn read(bytes: &[u8], mut each: impl FnMut(Event)) {
    read_stream(
        "bench",
        bytes,
        &ReadOptions::default(),
        &mut ReadStats::default(),
        &mut |e| each(e),
        &mut |e| panic!("generated input is valid: {e}"),
    );
}

fn throughput(name: &str, bytes: &[u8], pack: &RulePack) {
    let matcher = Matcher::new(pack);
    let (parse, events) = time_best(|| {
        let mut n = 0;
        read(bytes, |_| n += 1);
        n
    });
    let (stateless, _) = time_best(|| {
        let mut n = 0;
        read(bytes, |e| matcher.run(&e, |_| n += 1));
        n
    });
    let mut last_stats = None;
    let (stateful, fired) = time_best(|| {
        let mut state = StateStore::new(StateConfig::default());
        let mut n = 0;
        read(bytes, |e| {
            matcher.run_with_state(&e, &mut state, |_| n += 1)
        });
        last_stats = Some(state.stats());
        n
    });
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let stats = last_stats.unwrap_or_default();
    println!(
        "{name:<10} {:>9} events  parse {:>9.0}/s  engine {:>9.0}/s ({:.2} of parse)  \
         engine+state {:>9.0}/s ({:.2} of parse, {:.1}% below the engine)",
        events,
        rate(parse),
        rate(stateless),
        parse.as_secs_f64() / stateless.as_secs_f64(),
        rate(stateful),
        parse.as_secs_f64() / stateful.as_secs_f64(),
        (stateful.as_secs_f64() / stateless.as_secs_f64() - 1.0) * 100.0,
    );
    println!(
        "{:<10} state: {} observations, {} late, {} keys, ~{:.1} MB estimated; {} matches after the state",
        "",
        stats.observed,
        stats.late_events,
        stats.keys,
        stats.bytes as f64 / 1e6,
        fired
    );
}

/// One rule with this `when:`.
fn pack(source: &str, when: &str) -> RulePack {
    let yaml = format!(
        "id: bench.rule\ntype: Recon:EC2/Bench\ntitle: t\nseverity: low\nsource: {source}\n\
         category: recon\ndescription: d\nwhen: |\n  {}\n",
        when.replace('\n', "\n  ")
    );
    let mut files = std::collections::BTreeMap::new();
    files.insert("recon/rule.yaml".to_owned(), yaml.into_bytes());
    let compiled = compile(&[PackFiles {
        root: "bench".to_owned(),
        files,
    }]);
    assert_eq!(compiled.error_count(), 0, "the bench rule compiles");
    compiled.pack
}

/// 2026-11-20T10:00:00Z.
const T0: i64 = 1_795_168_800;

fn flows(n: usize, line: impl Fn(usize) -> String) -> Vec<Event> {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&line(i));
        text.push('\n');
    }
    let mut out = Vec::with_capacity(n);
    read(text.as_bytes(), |e| out.push(e));
    out
}

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn memory(name: &str, pack: &RulePack, events: &[Event], keys: usize) {
    let matcher = Matcher::new(pack);
    let before = held();
    let mut state = StateStore::new(StateConfig {
        memory_cap_bytes: usize::MAX,
        ..StateConfig::default()
    });
    for e in events {
        matcher.run_with_state(e, &mut state, |_| {});
    }
    let real = held() - before;
    let stats = state.stats();
    println!(
        "{name:<44} {:>8} keys  {:>7.0} B/key measured  {:>7.0} B/key estimated",
        stats.keys,
        real as f64 / keys as f64,
        stats.bytes as f64 / keys as f64
    );
    drop(state);
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    println!("picket stateful benchmark: one thread, best of >= 3 passes over {BUDGET:?}\n");

    let mut seed = rng::Rng::new(0x5eed_0f91_c7e7);
    let w = world::World::new(&mut seed);
    let ct = cloudtrail::generate(&w, 1, INPUT_BYTES);
    let flow = vpcflow::generate(&w, 2, INPUT_BYTES);
    let compiled = compile(&[PackFiles::builtin()]);
    assert_eq!(compiled.error_count(), 0);
    let stateful = compiled
        .pack
        .rules
        .iter()
        .filter(|r| r.stateful.is_some())
        .count();
    println!(
        "Throughput: built-in pack ({} rules, {stateful} stateful), {:.0} MB of each input\n",
        compiled.pack.len(),
        INPUT_BYTES as f64 / 1e6
    );
    throughput("cloudtrail", &ct.data, &compiled.pack);
    throughput("vpcflow", &flow.data, &compiled.pack);

    println!("\nMemory per key (100,000 keys of one event each, unless said)\n");
    let n = 100_000;
    let scan = pack(
        "vpcflow",
        "net.protocol == 6 | distinct(dst.port) >= 50 over 1m by src.ip, dst.ip",
    );
    let events = flows(n, |i| {
        format!(
            "2 111122223333 eni-0a {} 10.0.0.9 40000 {} 6 1 40 {} {} REJECT OK",
            ip(i),
            i % 1000,
            T0 + (i / 1000) as i64,
            T0 + (i / 1000) as i64 + 1
        )
    });
    memory(
        "distinct(dst.port) window by src.ip, dst.ip",
        &scan,
        &events,
        n,
    );
    let count = pack(
        "vpcflow",
        "dst.port == 22 | count() >= 20 over 5m by src.ip",
    );
    let events = flows(n, |i| {
        format!(
            "2 111122223333 eni-0a {} 10.0.0.9 40000 22 6 1 40 {} {} REJECT OK",
            ip(i),
            T0 + (i / 1000) as i64,
            T0 + (i / 1000) as i64 + 1
        )
    });
    memory("count() window by src.ip", &count, &events, n);
    let seq = pack(
        "vpcflow",
        "dst.port == 22 at least 3 times then dst.port == 23 within 10m by src.ip",
    );
    memory("sequence by src.ip", &seq, &events, n);
    let volume = pack(
        "vpcflow",
        "true | sum(net.bytes) > baseline * 10 over 1h by src.ip after learning 1d",
    );
    memory("sum() against a baseline by src.ip", &volume, &events, n);
    let new = pack("vpcflow", "true | new dst.port by src.ip after learning 1d");
    // One entity per event and one term: two keys each.
    memory(
        "new dst.port by src.ip (entity + term)",
        &new,
        &events,
        2 * n,
    );

    let busy = flows(10_000, |i| {
        format!(
            "2 111122223333 eni-0a 10.0.0.1 10.0.0.9 {} {} 6 1 40 {} {} REJECT OK",
            40000 + i % 20000,
            i % 10_000,
            T0 + (i / 200) as i64,
            T0 + (i / 200) as i64 + 1
        )
    });
    let wide = pack(
        "vpcflow",
        "net.protocol == 6 | distinct(dst.port) >= 100000 over 1m by src.ip, dst.ip",
    );
    memory("busy key: 10,000 ports in 50 s, one key", &wide, &busy, 1);
}
