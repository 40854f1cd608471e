//! Measures what a reload of a pack folder costs, stage by stage: reading the files,
//! compiling them (the first time, then with the files, conditions and regexes of the
//! compilation before reused, as `picket serve` reloads), building the matcher's index
//! (the first time, then with the automata and regex sets of the index before reused).
//!
//! `cargo run --release -p picket --example reload_speed -- DIR [TIMES]`

use std::time::Instant;

use picket::compile::cache::ParseCache;
use picket::compile::{compile_with, CompileOptions, PackFiles};
use picket::run::builds::BuildCache;
use picket::run::Engine;

/// The allocator of the `picket` binary, so the figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = std::env::args().nth(1).expect("a pack folder");
    let options = CompileOptions {
        cache: Some(std::sync::Arc::new(ParseCache::default())),
        ..CompileOptions::default()
    };
    let times: usize = std::env::args()
        .nth(2)
        .and_then(|t| t.parse().ok())
        .unwrap_or(6);
    let builds = BuildCache::default();
    for _ in 0..times {
        let t = Instant::now();
        let pack = PackFiles::from_dir(std::path::Path::new(&dir)).expect("read");
        let read = t.elapsed();
        let t = Instant::now();
        let compiled = compile_with(&[pack], &options);
        let compile = t.elapsed();
        let rules = compiled.pack.len();
        let t = Instant::now();
        let engine = Engine::with_cache(compiled.pack, &builds);
        let index = t.elapsed();
        let t = Instant::now();
        drop(engine);
        let dropped = t.elapsed();
        println!(
            "{rules} rules: read {:.1} ms, compile {:.1} ms, index {:.1} ms, drop {:.1} ms",
            read.as_secs_f64() * 1e3,
            compile.as_secs_f64() * 1e3,
            index.as_secs_f64() * 1e3,
            dropped.as_secs_f64() * 1e3
        );
    }
}
