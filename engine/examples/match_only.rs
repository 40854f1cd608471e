//! Matching cost alone, for profilers: reads a file of events and runs a rule pack over
//! it, timing each pass, with nothing else in the loop (no findings, no output).
//!
//! ```text
//! cargo run --release -p picket --example match_only -- EVENTS PACK_DIR [PASSES] [parse]
//! ```
//!
//! `parse` reads the events without matching (the floor). Under
//! `valgrind --tool=callgrind --toggle-collect='match_only::main::*' --collect-atstart=no`
//! the instructions counted are those of matching alone, repeatable whatever else the
//! machine is doing (inputs: `PICKET_BENCH_DUMP`, see docs/performance.md).

use std::time::Instant;

use picket::compile::{compile, PackFiles};
use picket::event::{read_stream, ReadOptions, ReadStats};
use picket::run::Matcher;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(events), Some(pack)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: match_only EVENTS PACK_DIR [PASSES] [parse]");
        std::process::exit(2);
    };
    let data = std::fs::read(events).expect("read the events");
    let files = PackFiles::from_dir(std::path::Path::new(pack)).expect("read the pack");
    let compiled = compile(&[files]);
    assert_eq!(compiled.error_count(), 0, "the pack has errors");
    let matcher = Matcher::new(&compiled.pack);
    let passes: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    let parse_only = args.get(4).is_some_and(|m| m == "parse");
    for _ in 0..passes {
        let start = Instant::now();
        let (mut seen, mut matches) = (0usize, 0usize);
        let mut stats = ReadStats::default();
        read_stream(
            "events",
            &data[..],
            &ReadOptions::default(),
            &mut stats,
            &mut |event| {
                seen += 1;
                if !parse_only {
                    matcher.run(&event, |_| matches += 1);
                }
            },
            &mut |_| {},
        );
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{seen} events, {matches} matches, {:.0} events/s",
            seen as f64 / secs
        );
    }
}
