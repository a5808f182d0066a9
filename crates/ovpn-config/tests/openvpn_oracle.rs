//! Differential test against the real OpenVPN: random `plugin` lines are fed to `openvpn` with a
//! do-nothing plugin, whose argv OpenVPN logs (`PLUGIN_INIT: POST … '[argv0] [argv1] …'`). That
//! exercises both passes of the tokenizer (the line, then the re-tokenized single argument) and
//! the errors. Skipped (with a note) where `openvpn` or a C compiler is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use ovpn_config::{plugin_argv, tokenize};

const PLUGIN_C: &str = r#"
void *openvpn_plugin_open_v1(unsigned int *type_mask, const char *argv[], const char *envp[])
{
    static int handle;
    (void)argv; (void)envp;
    *type_mask = 0;
    return &handle;
}
int openvpn_plugin_func_v1(void *h, const int type, const char *argv[], const char *envp[])
{
    (void)h; (void)type; (void)argv; (void)envp;
    return 0;
}
void openvpn_plugin_close_v1(void *h) { (void)h; }
"#;

fn build_plugin(dir: &Path) -> Option<PathBuf> {
    let src = dir.join("p.c");
    let so = dir.join("p.so");
    std::fs::write(&src, PLUGIN_C).ok()?;
    let ok = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .status()
        .ok()?
        .success();
    ok.then_some(so)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_args(rng: &mut Rng) -> String {
    const ALPHABET: &[&str] = &[
        "a", "b", "x", " ", " ", "\t", "\"", "'", "\\", "\\", "#", ";", "\r",
    ];
    let max = if rng.below(4) == 0 { 40 } else { 12 };
    let len = rng.below(max);
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())])
        .collect()
}

/// What OpenVPN logs for the plugin, or None when it refused the config.
fn openvpn_argv(dir: &Path, so: &Path, args: &str) -> Option<String> {
    let conf = dir.join("t.conf");
    let text = format!(
        "dev null\nverb 3\nscript-security 2\nup /bin/false\nplugin {} {args}\n",
        so.display()
    );
    std::fs::write(&conf, text).unwrap();
    let out = Command::new("openvpn")
        .arg("--config")
        .arg(&conf)
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let marker = format!("PLUGIN_INIT: POST {} '", so.display());
    let start = log.find(&marker)? + marker.len();
    let end = log[start..].find("' intercepted=")? + start;
    Some(log[start..end].to_owned())
}

#[test]
fn plugin_lines_tokenize_as_openvpn_does() {
    if Command::new("openvpn").arg("--version").output().is_err() {
        println!("skipped: openvpn is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ovpn-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some(so) = build_plugin(&dir) else {
        println!("skipped: no C compiler to build the probe plugin");
        return;
    };
    let cases: usize = std::env::var("OVPN_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..cases {
        let args = random_args(&mut rng);
        let line = format!("plugin {} {args}\n", so.display());
        let ours = tokenize::tokenize(&line).map(|t| {
            let words: Vec<String> = t.tokens.into_iter().map(|t| t.value).collect();
            plugin_argv(&words[1..])
                .iter()
                .map(|a| format!("[{a}]"))
                .collect::<Vec<_>>()
                .join(" ")
        });
        let theirs = openvpn_argv(&dir, &so, &args);
        match (&ours, &theirs) {
            (Ok(a), Some(b)) => {
                assert_eq!(a, b, "line {line:?}");
                accepted += 1;
            }
            (Err(_), None) => refused += 1,
            _ => panic!("line {line:?}: ours {ours:?}, OpenVPN {theirs:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!("{cases} plugin lines agree with OpenVPN: {accepted} accepted, {refused} refused");
    assert!(accepted > cases / 4 && refused > 0);
}
