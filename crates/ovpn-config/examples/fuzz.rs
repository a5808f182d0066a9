//! The mutation fuzzer, for a long run:
//! `cargo run --release -p ovpn-config --example fuzz -- --seconds 30 [--seed N]`.
//! Prints the input count; on a broken property prints the input and exits non-zero.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} takes a number"))
            })
    };
    let seconds = flag("--seconds").unwrap_or(30);
    let seed = flag("--seed").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let seeds = common::fuzz::corpus_seeds();
    println!(
        "fuzz: seed {seed}, {} corpus files, {seconds} s",
        seeds.len()
    );
    let r = common::fuzz::run(&seeds, Duration::from_secs(seconds), seed);
    println!(
        "fuzz: {} inputs in {:.1?} ({:.0}/s): {} parsed and edited with {} changes, {} rejected; no property broken",
        r.inputs,
        r.elapsed,
        r.inputs as f64 / r.elapsed.as_secs_f64(),
        r.parsed,
        r.changes,
        r.rejected
    );
}
