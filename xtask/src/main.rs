//! `cargo xtask`: Freeway's repository chores in one binary.
//!
//! ```text
//! cargo xtask test                          fmt, clippy, tests, bench smoke, loom, soak (30 s), fuzz corpora, [asan]
//! cargo xtask loom [CRATE] [--preemptions N]
//! cargo xtask fuzz [TARGET] [--time S]
//! cargo xtask asan
//! cargo xtask soak [--time S]               every structure for S seconds in all (default 120)
//! cargo xtask bench [--full] [--group NAME] [--threads 1,2,4] [--save NAME] [--compare A [B]]
//! ```

mod bench;
mod plot;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <test | loom [CRATE] [--preemptions N] | fuzz [TARGET] [--time S] [--merge] | asan | soak [--time S] | bench [--full] [--group NAME] [--threads LIST] [--save NAME] [--compare A [B]]> (each with --help)";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    if let Err(e) = env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    // `--help` anywhere: the help of the subcommand named (or of all of them).
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", help(args.first().map(String::as_str)));
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("loom") => loom(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("asan") => asan(),
        Some("bench") => bench::run(&args[1..]),
        Some("soak") => soak(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Runs a command, echoing it; fails with its status.
pub(crate) fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", show(cmd)))
    }
}

pub(crate) fn show(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s += &format!("{}={} ", k.to_string_lossy(), v.to_string_lossy());
        }
    }
    s += &cmd.get_program().to_string_lossy();
    for a in cmd.get_args() {
        s.push(' ');
        s += &a.to_string_lossy();
    }
    s
}

pub(crate) fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn has_nightly() -> bool {
    succeeds(Command::new("cargo").args(["+nightly", "--version"]))
}

/// The crates (directory names under `crates/`) that have a given test file.
fn crates_with(file: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("crates") else {
        return out;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        if path.join(file).is_file()
            && let Some(name) = package_name(&path.join("Cargo.toml"))
        {
            out.push((entry.file_name().to_string_lossy().into_owned(), name));
        }
    }
    out.sort();
    out
}

fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .map(|l| l.trim_end_matches('"').to_string())
}

struct Stages {
    done: Vec<(String, f64, bool)>,
}

impl Stages {
    fn stage(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        eprintln!("\n==> stage {name}");
        let t = Instant::now();
        let r = f();
        let secs = t.elapsed().as_secs_f64();
        self.done.push((name.to_string(), secs, r.is_ok()));
        eprintln!(
            "<== stage {name}: {} in {secs:.1}s",
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        r.map_err(|e| format!("stage {name}: {e}"))
    }

    fn summary(&self) {
        eprintln!("\nstage summary:");
        let mut total = 0.0;
        for (name, secs, ok) in &self.done {
            total += secs;
            eprintln!(
                "  {name:<14} {:>7.1}s  {}",
                secs,
                if *ok { "ok" } else { "FAILED" }
            );
        }
        eprintln!("  {:<14} {total:>7.1}s", "total");
    }
}

fn test() -> Result {
    let mut st = Stages { done: Vec::new() };
    let r = (|| {
        st.stage("fmt", || run(cargo().args(["fmt", "--all", "--check"])))?;
        st.stage("clippy", || {
            run(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        st.stage("test", || {
            run(cargo().args([
                "test",
                "--workspace",
                "--all-features",
                "--",
                "--skip",
                "corpus_replay",
            ]))
        })?;
        st.stage("bench-smoke", || {
            run(cargo().args(["test", "-p", "freeway-benches", "--benches"]))
        })?;
        st.stage("loom", || loom_all(None, 2))?;
        st.stage("soak", || soak(&["--time".to_string(), "30".to_string()]))?;
        st.stage("fuzz-corpus", || {
            let crates = crates_with("tests/fuzz_corpus.rs");
            let mut cmd = cargo();
            cmd.arg("test");
            for (_, pkg) in &crates {
                cmd.args(["-p", pkg]);
            }
            cmd.args(["--test", "fuzz_corpus"]);
            run(&mut cmd)
        })?;
        if env::var_os("CI").is_some() {
            if has_nightly() {
                st.stage("asan", asan)?;
            } else {
                eprintln!(
                    "\n!!! SKIPPING the AddressSanitizer stage: no nightly toolchain here. Reclamation bugs are NOT checked in this run. !!!\n"
                );
            }
        } else {
            eprintln!("\n(asan stage runs only when CI is set; run `cargo xtask asan` by hand)");
        }
        Ok(())
    })();
    st.summary();
    r
}

/// The help of `sub`, or of every subcommand.
fn help(sub: Option<&str>) -> String {
    let all = [
        (
            "test",
            "cargo xtask test\n    The whole CI run: fmt, clippy, tests (all features), benches in test mode, loom \
             models, a 30 s soak, fuzz-corpus replay, and AddressSanitizer when CI is set.",
        ),
        (
            "loom",
            "cargo xtask loom [CRATE] [--preemptions N]\n    Every crate's loom models (or CRATE's), each in its own \
             process, at N preemptions (default 2).",
        ),
        (
            "fuzz",
            "cargo xtask fuzz [TARGET] [--time S] [--merge]\n    Fuzzes TARGET (or every target) for S seconds (default \
             60) into a scratch corpus under target/fuzz-corpus/, seeded read-only from fuzz/corpus/. \
             --merge folds the scratch inputs that add coverage into fuzz/corpus/ instead.",
        ),
        (
            "asan",
            "cargo xtask asan\n    The stress tests under AddressSanitizer (nightly; recycling off).",
        ),
        (
            "soak",
            "cargo xtask soak [--time S]\n    Every structure under 8 threads and a stalled reader, with \
             pass/fail rules, S seconds in all (default 120).",
        ),
        (
            "bench",
            "cargo xtask bench [--full] [--group NAME] [--threads LIST] [--save NAME] [--compare A [B]]\n    The \
             benchmarks and their report (docs/benchmarks.md, the README's table). --full: criterion's \
             default measurement; --group NAME: one group, reported in target/bench-partial.md (the \
             committed report is left alone); --threads 1,2,4: thread counts; --save NAME / --compare A B: \
             keep a run and compare runs.",
        ),
    ];
    match sub.and_then(|s| all.iter().find(|(n, _)| *n == s)) {
        Some((_, h)) => h.to_string(),
        None => {
            let mut out = String::from("cargo xtask <command> [--help]\n\n");
            for (_, h) in &all {
                out.push_str(h);
                out.push_str("\n\n");
            }
            out
        }
    }
}

fn loom(args: &[String]) -> Result {
    let mut krate = None;
    let mut preemptions = 2;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--preemptions" => {
                preemptions = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--preemptions needs a number")?;
            }
            other if !other.starts_with('-') => krate = Some(other.to_string()),
            other => return Err(format!("loom: unknown flag {other}\n{USAGE}")),
        }
    }
    loom_all(krate.as_deref(), preemptions)
}

fn loom_all(only: Option<&str>, preemptions: u32) -> Result {
    let crates = crates_with("tests/loom.rs");
    let chosen: Vec<_> = crates
        .iter()
        .filter(|(dir, pkg)| only.is_none_or(|o| o == dir || o == pkg))
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "no crate with tests/loom.rs matches {:?} (have: {:?})",
            only,
            crates.iter().map(|c| &c.0).collect::<Vec<_>>()
        ));
    }
    let nextest = succeeds(cargo().args(["nextest", "--version"]));
    let mut failed = Vec::new();
    for (_, pkg) in chosen {
        let mut cmd = cargo();
        cmd.env("RUSTFLAGS", "--cfg loom --cfg crossbeam_loom")
            .env("LOOM_MAX_PREEMPTIONS", preemptions.to_string())
            .env("CARGO_TARGET_DIR", "target/loom");
        if nextest {
            // nextest runs every model in its own process: a failing model aborts its binary
            // (crossbeam's Drop panics outside the model), and must not hide the others.
            cmd.args(["nextest", "run", "--release", "-p", pkg])
                .args(loom_features(pkg))
                .args([
                    "--test",
                    "loom",
                    "--no-fail-fast",
                    "--failure-output",
                    "final",
                    "--status-level",
                    "pass",
                    "--no-tests",
                    "warn",
                ]);
            if run(&mut cmd).is_err() {
                failed.push(pkg.clone());
            }
        } else {
            failed.extend(loom_one_by_one(cmd, pkg)?);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("loom models failed in: {}", failed.join(", ")))
    }
}

/// Cargo features a crate's loom models need: the queue's waiting protocol has models of its
/// own, behind its `wait` feature.
fn loom_features(pkg: &str) -> &'static [&'static str] {
    if pkg == "freeway-queue" {
        &["--features", "wait"]
    } else {
        &[]
    }
}

/// Without nextest: list the models, then run each in its own process.
fn loom_one_by_one(base: Command, pkg: &str) -> Result<Vec<String>> {
    let mut list = Command::new(base.get_program());
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            list.env(k, v);
        }
    }
    let out = list
        .args(["test", "--release", "-p", pkg])
        .args(loom_features(pkg))
        .args(["--test", "loom", "--", "--list"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "cannot build loom models of {pkg}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    let mut failed = Vec::new();
    for name in names {
        let mut cmd = Command::new(base.get_program());
        for (k, v) in base.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.args(["test", "--release", "-p", pkg])
            .args(loom_features(pkg))
            .args(["--test", "loom", "--", "--exact", &name]);
        if run(&mut cmd).is_err() {
            eprintln!("loom model FAILED: {pkg}::{name}");
            failed.push(format!("{pkg}::{name}"));
        }
    }
    Ok(failed)
}

fn fuzz_targets() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("fuzz/fuzz_targets")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .strip_suffix(".rs")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn fuzz(args: &[String]) -> Result {
    let mut target = None;
    let mut time = 60u32;
    let mut merge = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time" => {
                time = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--time needs seconds")?;
            }
            "--merge" => merge = true,
            other if !other.starts_with('-') => target = Some(other.to_string()),
            other => {
                return Err(format!(
                    "fuzz: unknown flag {other}\n{}",
                    help(Some("fuzz"))
                ));
            }
        }
    }
    if !has_nightly() {
        return Err("cargo-fuzz needs a nightly toolchain (`rustup toolchain install nightly`); none is installed".into());
    }
    if !succeeds(Command::new("cargo").args(["+nightly", "fuzz", "--version"])) {
        eprintln!("cargo-fuzz is missing: installing it");
        run(Command::new("cargo").args(["+nightly", "install", "cargo-fuzz", "--locked"]))?;
    }
    let all = fuzz_targets();
    let chosen: Vec<_> = match &target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => return Err(format!("no fuzz target {t} (have: {all:?})")),
        None => all,
    };
    for t in chosen {
        // New inputs go to a scratch corpus (libFuzzer writes to its first corpus directory);
        // the committed one is read as a seed only, so a run leaves the work tree as it was.
        let committed = format!("fuzz/corpus/{t}");
        let scratch = format!("target/fuzz-corpus/{t}");
        std::fs::create_dir_all(&committed).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("cargo");
        cmd.args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", &t]);
        if merge {
            // Fold the scratch inputs that add coverage into the committed corpus.
            cmd.args([&committed, &scratch, "--", "-merge=1", "-detect_leaks=0"]);
        } else {
            cmd.args([
                &scratch,
                &committed,
                "--",
                "-detect_leaks=0",
                &format!("-max_total_time={time}"),
            ]);
        }
        run(&mut cmd)?;
        if !merge {
            eprintln!(
                "new inputs of {t} are in {scratch}; `cargo xtask fuzz {t} --merge` folds those \
                 that add coverage into {committed}"
            );
        }
    }
    Ok(())
}

/// The soak program (`benches/src/bin/soak.rs`): every structure under 8 threads of mixed
/// operations and a stalled reader, with pass/fail rules; `--time S` in all (default 120).
fn soak(args: &[String]) -> Result {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("cargo xtask soak [--time SECONDS]   (default 120)");
        return Ok(());
    }
    let time = match args {
        [] => "120".to_string(),
        [flag, t] if flag == "--time" && t.parse::<f64>().is_ok() => t.clone(),
        _ => return Err(format!("soak: expected [--time SECONDS], got {args:?}")),
    };
    run(cargo().args([
        "run",
        "--release",
        "-q",
        "-p",
        "freeway-benches",
        "--bin",
        "soak",
        "--",
        "--time",
        &time,
    ]))
}

fn asan() -> Result {
    if !has_nightly() {
        return Err("AddressSanitizer needs a nightly toolchain; none is installed".into());
    }
    let mut cmd = Command::new("cargo");
    // `freeway_asan` turns off the hashmap's entry cache, whose recycled blocks ASan cannot
    // see freed.
    cmd.env("RUSTFLAGS", "-Zsanitizer=address --cfg freeway_asan")
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .env("CARGO_TARGET_DIR", "target/asan")
        .args([
            "+nightly",
            "test",
            "--no-fail-fast",
            "--target",
            "x86_64-unknown-linux-gnu",
        ]);
    for (_, pkg) in crates_with("tests/stress.rs") {
        cmd.args(["-p", &pkg]);
        if pkg == "freeway-hashmap" {
            // Its stress tests include the rayon workers' reads of `par_iter`.
            cmd.args(["--features", "freeway-hashmap/rayon"]);
        }
    }
    cmd.args(["--test", "stress"]);
    run(&mut cmd)
}
