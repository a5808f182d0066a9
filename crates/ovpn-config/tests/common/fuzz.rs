//! A mutation fuzzer for the parser and the edits that needs no nightly toolchain: inputs are
//! corpus files mutated with byte flips, OpenVPN syntax fragments, splices and line shuffles.
//! Every input must parse or fail cleanly; every parsed input must round-trip and go through
//! `check_cycle` (edit, re-edit, exact undo, undo after an admin edit).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use ovpn_config::{Document, tokenize};

use super::check_cycle;

const FRAGMENTS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\t",
    b"#",
    b";",
    b"\"",
    b"'",
    b"\\",
    b"\\\\",
    b"\\\"",
    b"--",
    b"<ca>",
    b"</ca>",
    b"<connection>",
    b"</connection>",
    b"<tls-crypt>\n",
    b"\n</tls-crypt>\n",
    b"<auth-user-pass>\n",
    b"</auth-user-pass>",
    b"<>",
    b"</>",
    b"\xef\xbb\xbf",
    b"\0",
    b"\xff",
    b"\xc3\xa9",
    b"client\n",
    b"server 10.8.0.0 255.255.255.0\n",
    b"mode server\n",
    b"tls-client\npull\n",
    b"plugin ",
    b"plugin /opt/duo/duo_openvpn.so 'I S H'\n",
    b"plugin x/libduo_openvpn_plugin.so a b\n",
    b"reneg-sec ",
    b"reneg-sec 3600 600\n",
    b"auth-retry nointeract\n",
    b"auth-user-pass\n",
    b"config x\n",
    b"<reneg-sec>\n",
];

/// xorshift64: reproducible from the seed, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, frag.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                input.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let piece = input[a..b].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, piece);
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(200)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 => {
                let mut lines: Vec<Vec<u8>> = input
                    .split_inclusive(|&b| b == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                if lines.len() > 1 {
                    let i = rng.below(lines.len());
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                    *input = lines.concat();
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let b = (rng.next() & 0xff) as u8;
                input.insert(at, b);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub inputs: u64,
    pub parsed: u64,
    pub rejected: u64,
    pub changes: u64,
    pub elapsed: Duration,
}

/// Runs for `budget`, starting from `seeds`. Panics (after printing the input) on the first
/// broken property.
pub fn run(seeds: &[Vec<u8>], budget: Duration, seed: u64) -> Report {
    let mut rng = Rng(seed | 1);
    let mut report = Report::default();
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..64 {
            let mut input = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, seeds, &mut input);
            one(&input, &mut report);
        }
    }
    report.elapsed = start.elapsed();
    report
}

fn one(input: &[u8], report: &mut Report) {
    report.inputs += 1;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // The tokenizer alone, on every line, must never panic.
        for line in input.split_inclusive(|&b| b == b'\n') {
            if let Ok(text) = std::str::from_utf8(line) {
                let _ = tokenize::tokenize(text);
            }
        }
        match Document::from_bytes(input) {
            Ok(_) => Some(check_cycle("fuzz input", input).changes),
            Err(e) => {
                assert!(e.line >= 1, "error without a line: {e}");
                None
            }
        }
    }));
    match outcome {
        Ok(Some(changes)) => {
            report.parsed += 1;
            report.changes += changes as u64;
        }
        Ok(None) => report.rejected += 1,
        Err(panic) => {
            eprintln!(
                "failing input ({} bytes): {:?}",
                input.len(),
                String::from_utf8_lossy(input)
            );
            eprintln!("as bytes: {input:?}");
            std::panic::resume_unwind(panic);
        }
    }
}

pub fn corpus_seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    seeds
}
