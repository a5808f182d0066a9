//! A short run of the mutation fuzzer (`examples/fuzz.rs` runs it for longer), so that every
//! `cargo test` throws a few thousand mangled configs at the parser and the edits.

mod common;

use std::time::Duration;

#[test]
fn mutated_corpus_files_never_break_a_property() {
    let seconds = std::env::var("OVPN_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seeds = common::fuzz::corpus_seeds();
    let r = common::fuzz::run(&seeds, Duration::from_secs(seconds), 0x5eed_0f0c_0ffe_e000);
    println!(
        "fuzz: {} inputs in {:.1?} ({} parsed and edited with {} changes, {} rejected)",
        r.inputs, r.elapsed, r.parsed, r.changes, r.rejected
    );
    assert!(r.inputs > 100 && r.parsed > 0 && r.rejected > 0, "{r:?}");
}
