//! `cargo xtask`: Freeway's repository chores in one binary. `cargo xtask --help` lists the
//! commands, `cargo xtask COMMAND --help` the flags of each.
//!
//! ```text
//! cargo xtask test                          fmt, clippy, tests, bench smoke, loom, soak (30 s), fuzz corpora, [asan]
//! cargo xtask loom [CRATE] [--preemptions N]
//! cargo xtask fuzz [TARGET] [--time S] [--merge]
//! cargo xtask asan
//! cargo xtask soak [--time S] [--only NAME] every structure for S seconds in all (default 120)
//! cargo xtask bench [--full] [--group NAME] [--threads 1,2,4] [--save NAME] [--compare A [B]]
//! ```

mod bench;
mod plot;

use clap::{Parser, Subcommand};
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

/// Freeway's repository chores.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The whole CI run: fmt, clippy, tests (all features), benches in test mode, loom models,
    /// a 30 s soak, fuzz-corpus replay, and AddressSanitizer when CI is set.
    Test,
    /// Every crate's loom models (or one crate's), each model in its own process.
    Loom {
        /// A crate's directory under crates/ or its package name (default: every crate with
        /// tests/loom.rs).
        #[arg(value_name = "CRATE")]
        krate: Option<String>,
        /// LOOM_MAX_PREEMPTIONS for the models.
        #[arg(long, value_name = "N", default_value_t = 2)]
        preemptions: u32,
    },
    /// Fuzzes a target (or every target) into a scratch corpus under target/fuzz-corpus/,
    /// seeded read-only from fuzz/corpus/ (nightly and cargo-fuzz).
    Fuzz {
        /// A file name under fuzz/fuzz_targets/, without `.rs` (default: every target).
        target: Option<String>,
        /// Seconds per target.
        #[arg(long, value_name = "S", default_value_t = 60)]
        time: u32,
        /// Instead of fuzzing, fold the scratch inputs that add coverage into fuzz/corpus/.
        #[arg(long)]
        merge: bool,
    },
    /// The stress tests under AddressSanitizer (nightly; recycling off).
    Asan,
    /// Every structure under 8 threads of mixed operations and a stalled reader, with
    /// pass/fail rules.
    Soak {
        /// Seconds in all.
        #[arg(long, value_name = "S", default_value_t = 120.0)]
        time: f64,
        /// Only the checks whose name contains NAME (such as "hashmap stall"); phases keep the
        /// length that --time gives the full run.
        #[arg(long, value_name = "NAME")]
        only: Option<String>,
    },
    /// The benchmarks and their report (docs/benchmarks.md and the README's table).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = project_root();
    if let Err(e) = env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Cmd::Test => test(),
        Cmd::Loom { krate, preemptions } => loom_all(krate.as_deref(), preemptions),
        Cmd::Fuzz {
            target,
            time,
            merge,
        } => fuzz(target.as_deref(), time, merge),
        Cmd::Asan => asan(),
        Cmd::Bench(args) => bench::run(&args),
        Cmd::Soak { time, only } => soak(time, only.as_deref()),
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

/// The workspace's crates under `crates/` that have a given file, as (directory name, package
/// name), from `cargo metadata`.
fn crates_with(file: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = workspace_packages()
        .into_iter()
        .filter(|(dir, _)| dir.parent().is_some_and(|p| p.ends_with("crates")))
        .filter(|(dir, _)| dir.join(file).is_file())
        .filter_map(|(dir, name)| Some((dir.file_name()?.to_string_lossy().into_owned(), name)))
        .collect();
    out.sort();
    out
}

/// Every workspace member as (manifest directory, package name), from `cargo metadata`.
fn workspace_packages() -> Vec<(PathBuf, String)> {
    let out = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output();
    let Ok(out) = out.map_err(|e| eprintln!("xtask: cannot run cargo metadata: {e}")) else {
        return Vec::new();
    };
    if !out.status.success() {
        eprintln!(
            "xtask: cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Vec::new();
    }
    let Ok(meta) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        eprintln!("xtask: cargo metadata printed something that is not JSON");
        return Vec::new();
    };
    meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let manifest = Path::new(p["manifest_path"].as_str()?);
            Some((
                manifest.parent()?.to_path_buf(),
                p["name"].as_str()?.to_string(),
            ))
        })
        .collect()
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
        st.stage("doc", || {
            // Both views: what users read (a public item's doc linking to a private one is an
            // error there), and the private items' docs that the code's design notes live in.
            for private in [false, true] {
                let mut cmd = cargo();
                cmd.env("RUSTDOCFLAGS", "-D warnings").args([
                    "doc",
                    "--workspace",
                    "--no-deps",
                    "--all-features",
                ]);
                if private {
                    cmd.arg("--document-private-items");
                }
                run(&mut cmd)?;
            }
            Ok(())
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
        st.stage("soak", || soak(30.0, None))?;
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

fn fuzz(target: Option<&str>, time: u32, merge: bool) -> Result {
    if !has_nightly() {
        return Err("cargo-fuzz needs a nightly toolchain (`rustup toolchain install nightly`); none is installed".into());
    }
    if !succeeds(Command::new("cargo").args(["+nightly", "fuzz", "--version"])) {
        eprintln!("cargo-fuzz is missing: installing it");
        run(Command::new("cargo").args(["+nightly", "install", "cargo-fuzz", "--locked"]))?;
    }
    let all = fuzz_targets();
    let chosen: Vec<_> = match target {
        Some(t) if all.iter().any(|a| a == t) => vec![t.to_string()],
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
/// operations and a stalled reader, with pass/fail rules; `time` seconds in all, or the checks
/// named by `only` with the phase length of the full run.
fn soak(time: f64, only: Option<&str>) -> Result {
    if !(time.is_finite() && time > 0.0) {
        return Err(format!(
            "soak: --time must be a positive number of seconds, not {time}"
        ));
    }
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "-q",
        "-p",
        "freeway-benches",
        "--bin",
        "soak",
        "--",
        "--time",
        &time.to_string(),
    ]);
    if let Some(name) = only {
        cmd.args(["--only", name]);
    }
    run(&mut cmd)
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
