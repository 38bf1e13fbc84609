//! `cargo xtask bench`: runs the criterion benches and writes `docs/benchmarks.md` from
//! criterion's own estimates.
//!
//! Naming convention the report relies on (the benches follow it):
//! - criterion group id = `<structure>/<workload>`;
//! - function id = the contender: `freeway …` for ours, `Mutex<…>`/`RwLock<…>` for the baseline,
//!   anything else is a peer;
//! - parameter = the thread count;
//! - throughput = elements per iteration, so the estimate converts to operations per second.

use crate::{Result, cargo, project_root, show};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One measured point: a contender in a group at a thread count.
#[derive(Clone, Debug)]
struct Point {
    group: String,
    contender: String,
    threads: String,
    /// Million operations per second at criterion's median estimate, and at its confidence bounds.
    mops: f64,
    lo: f64,
    hi: f64,
}

impl Point {
    fn key(&self) -> String {
        format!("{}/{}/{}", self.group, self.contender, self.threads)
    }
}

/// The flags of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    /// criterion's default measurement times instead of the quick ones.
    #[arg(long)]
    full: bool,
    /// One group (`queue`, `hashmap/exchange`, ...): the report and its charts go to
    /// target/bench-partial/ and the committed ones under docs/ are left alone.
    #[arg(long, value_name = "NAME")]
    group: Option<String>,
    /// Thread counts, comma-separated (default 1,2,4).
    #[arg(long, value_name = "LIST")]
    threads: Option<String>,
    /// Keep this run's figures under a name, for --compare.
    #[arg(long, value_name = "NAME")]
    save: Option<String>,
    /// Compare two saved runs (or one with the last run), instead of benchmarking.
    #[arg(long, value_name = "RUN", num_args = 1..=2)]
    compare: Vec<String>,
}

impl BenchArgs {
    /// The command line that reproduces this run, for the report.
    fn command_line(&self) -> String {
        let mut s = String::from("cargo xtask bench");
        if self.full {
            s += " --full";
        }
        for (flag, v) in [
            ("--group", &self.group),
            ("--threads", &self.threads),
            ("--save", &self.save),
        ] {
            if let Some(v) = v {
                s += &format!(" {flag} {v}");
            }
        }
        s
    }
}

/// The benchmark groups' first components, from the `benchmark_group` calls in benches/benches/.
fn known_groups() -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("benches/benches")
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for part in text.split("benchmark_group(").skip(1) {
            let name = part.trim_start_matches("format!(").trim_start_matches('"');
            if let Some(first) = name.split(['/', '"']).next()
                && !first.is_empty()
                && !out.iter().any(|g| g == first)
            {
                out.push(first.to_string());
            }
        }
    }
    out.sort();
    out
}

pub(crate) fn run(args: &BenchArgs) -> Result {
    let BenchArgs {
        full,
        group,
        threads,
        save,
        compare,
    } = args;
    let full = *full;
    if let Some(g) = group {
        let known = known_groups();
        let first = g.split('/').next().unwrap_or_default();
        if !known.iter().any(|k| k == first) {
            return Err(format!(
                "bench: no benchmark group {g:?}; the groups are {}",
                known.join(", ")
            ));
        }
    }
    if !compare.is_empty() {
        return compare_runs(compare);
    }

    let criterion_dir = project_root().join("target/criterion");
    let _ = std::fs::remove_dir_all(&criterion_dir);
    let _ = std::fs::remove_file(project_root().join("target/bench-memory.md"));
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "freeway-benches", "--benches"]);
    if let Some(t) = &threads {
        cmd.env("FREEWAY_BENCH_THREADS", t);
    }
    cmd.arg("--");
    if let Some(g) = &group {
        cmd.arg(format!("^{}/", regex_escape(g)));
    }
    if !full {
        cmd.args([
            "--warm-up-time",
            "0.5",
            "--measurement-time",
            "1.5",
            "--sample-size",
            "10",
            "--noplot",
        ]);
    }
    crate::run(&mut cmd)?;

    let points = collect(&criterion_dir)?;
    if points.is_empty() {
        return Err("criterion wrote no estimates".into());
    }
    // A run of one group writes its own report and charts and leaves the committed ones (and
    // the README's table, made from every group) as they were.
    let report_dir = project_root().join(if group.is_some() {
        "target/bench-partial"
    } else {
        "docs"
    });
    draw_charts(&points, &report_dir.join("bench"))?;
    let command = args.command_line();
    let memory = read_memory();
    let queues = match &group {
        Some(g) if !g.contains("queue") => String::new(),
        _ => queue_table(threads.as_deref())? + &wait_pipeline()?,
    };
    let maps = match &group {
        Some(g) if !g.contains("hashmap") => String::new(),
        _ => map_table(threads.as_deref())?,
    };
    let mut report = render(&points, command.trim(), full, &report_dir);
    report += &queues;
    report += &maps;
    report += &memory;
    if group.is_none() {
        update_readme(&points)?;
    }
    let out = report_dir.join("benchmarks.md");
    std::fs::write(&out, report).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", out.display());
    let saved = save_run(save.as_deref().unwrap_or("last"), &points)?;
    eprintln!("saved this run as {}", saved.display());
    Ok(())
}

/// One SVG per group in `dir` (`docs/bench/` for the committed report).
fn draw_charts(points: &[Point], dir: &std::path::Path) -> Result {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for (group, ps) in by_group(points) {
        let mut names: Vec<&str> = ps.iter().map(|p| p.contender.as_str()).collect();
        names.sort_by_key(|c| (!is_ours(c), is_baseline(c), c.to_string()));
        names.dedup();
        let series: Vec<crate::plot::Series> = names
            .iter()
            .map(|n| {
                let mut pts: Vec<(f64, f64)> = ps
                    .iter()
                    .filter(|p| p.contender == *n)
                    .filter_map(|p| p.threads.parse::<f64>().ok().map(|t| (t, p.mops)))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                crate::plot::Series {
                    name: n.to_string(),
                    points: pts,
                }
            })
            .collect();
        let path = dir.join(format!("{}.svg", group.replace('/', "-")));
        crate::plot::chart(&path, group, &series)?;
    }
    Ok(())
}

/// The duration-based queue table (`benches/examples/queue_table.rs`): every queue contender in
/// one process, interleaved trial by trial, with a prefilled queue. It is the authority for the
/// queue ratios; criterion's groups above run a shared operation budget instead.
fn queue_table(threads: Option<&str>) -> Result<String> {
    let args: Vec<&str> = threads.map_or(Vec::new(), |t| vec!["--threads", t]);
    example_section("Queues, duration-based", "queue_table", &[], &args)
}

/// The duration-based map table (`benches/examples/map_table.rs`): the bustle-like mixes over
/// disjoint per-thread key ranges, every map contender in one process, interleaved trial by
/// trial. It is the authority for the map ratios.
fn map_table(threads: Option<&str>) -> Result<String> {
    let args: Vec<&str> = threads.map_or(Vec::new(), |t| vec!["--threads", t]);
    example_section("Maps, duration-based", "map_table", &[], &args)
}

/// The pipeline with sleeping consumers (`benches/examples/wait_pipeline.rs`): the queues'
/// `wait` feature against async-channel, flume and crossbeam-channel, on threads and tokio tasks.
fn wait_pipeline() -> Result<String> {
    example_section(
        "Waiting queues against channels",
        "wait_pipeline",
        &["--features", "freeway-queue/wait"],
        &[],
    )
}

/// Runs a benches example that prints a Markdown table, and returns it as a report section
/// titled `title`, with the command that reproduces it.
fn example_section(
    title: &str,
    example: &str,
    cargo_args: &[&str],
    args: &[&str],
) -> Result<String> {
    let mut cmd = cargo();
    cmd.args(["run", "--release", "-q", "-p", "freeway-benches"])
        .args(cargo_args)
        .args(["--example", example, "--"])
        .args(args);
    eprintln!("running {example}: {}", show(&cmd));
    let out = cmd.output().map_err(|e| format!("{example}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{example} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let flags: String = cargo_args.iter().map(|a| format!(" {a}")).collect();
    Ok(format!(
        "\n## {title} (`cargo run --release -p freeway-benches{flags} --example {example}`)\n\n{}",
        String::from_utf8_lossy(&out.stdout)
    ))
}

/// The memory bench's table (`target/bench-memory.md`, written by `benches/benches/memory.rs`),
/// if it ran.
fn read_memory() -> String {
    match std::fs::read_to_string(project_root().join("target/bench-memory.md")) {
        Ok(t) => format!("\n{t}"),
        Err(_) => String::new(),
    }
}

/// Rewrites the headline table between `<!-- bench:start -->` and `<!-- bench:end -->` in the
/// README: every Freeway contender against its baseline and best peer at 2 and 4 threads.
fn update_readme(points: &[Point]) -> Result {
    let path = project_root().join("README.md");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (
        text.find("<!-- bench:start -->"),
        text.find("<!-- bench:end -->"),
    ) else {
        return Ok(());
    };
    let mut t = String::from(
        "<!-- bench:start -->\n| workload | Freeway contender | threads | Mops/s | ÷ baseline | ÷ best peer (which) |\n|---|---|---:|---:|---:|---|\n",
    );
    for (group, ps) in by_group(points) {
        for th in ["2", "4"] {
            for p in ps
                .iter()
                .filter(|p| is_ours(&p.contender) && p.threads == th)
            {
                let base = ps
                    .iter()
                    .filter(|q| q.threads == th && is_baseline(&q.contender))
                    .map(|q| q.mops)
                    .fold(f64::NAN, f64::max);
                let peer = ps
                    .iter()
                    .filter(|q| {
                        q.threads == th && !is_baseline(&q.contender) && !is_ours(&q.contender)
                    })
                    .max_by(|x, y| x.mops.total_cmp(&y.mops));
                let fmt_ratio = |r: f64| {
                    if r.is_nan() {
                        "–".to_string()
                    } else {
                        format!("{r:.2}x")
                    }
                };
                let _ = writeln!(
                    t,
                    "| {group} | {} | {th} | {:.1} | {} | {} |",
                    p.contender,
                    p.mops,
                    fmt_ratio(p.mops / base),
                    peer.map_or("–".to_string(), |q| format!(
                        "{:.2}x ({})",
                        p.mops / q.mops,
                        q.contender
                    )),
                );
            }
        }
    }
    let new = format!("{}{}{}", &text[..a], t, &text[b..]);
    std::fs::write(&path, new).map_err(|e| e.to_string())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

fn read_json(p: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Walks `target/criterion` for `new/benchmark.json` + `new/estimates.json` pairs.
fn collect(dir: &Path) -> Result<Vec<Point>> {
    let mut points = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    if let Some(pt) = point(&p)? {
                        points.push(pt);
                    }
                } else if p.file_name().is_none_or(|n| n != "report") {
                    stack.push(p);
                }
            }
        }
    }
    points.sort_by_key(Point::key);
    Ok(points)
}

fn point(new_dir: &Path) -> Result<Option<Point>> {
    let (bj, ej) = (
        new_dir.join("benchmark.json"),
        new_dir.join("estimates.json"),
    );
    if !bj.is_file() || !ej.is_file() {
        return Ok(None);
    }
    let b = read_json(&bj)?;
    let e = read_json(&ej)?;
    let elements = b["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    let med = &e["median"];
    let ns = med["point_estimate"]
        .as_f64()
        .ok_or("estimate without median")?;
    let ns_lo = med["confidence_interval"]["lower_bound"]
        .as_f64()
        .unwrap_or(ns);
    let ns_hi = med["confidence_interval"]["upper_bound"]
        .as_f64()
        .unwrap_or(ns);
    let mops = |t: f64| elements / t * 1e3;
    Ok(Some(Point {
        group: b["group_id"].as_str().unwrap_or("?").to_string(),
        contender: b["function_id"].as_str().unwrap_or("?").to_string(),
        threads: b["value_str"].as_str().unwrap_or("1").to_string(),
        mops: mops(ns),
        lo: mops(ns_hi),
        hi: mops(ns_lo),
    }))
}

fn is_ours(c: &str) -> bool {
    c.starts_with("freeway")
}

fn is_baseline(c: &str) -> bool {
    c.starts_with("Mutex") || c.starts_with("RwLock") || c.starts_with("crossbeam-epoch (raw)")
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores; {}; {}",
        sh("uname", &["-srm"]),
        sh("rustc", &["--version"])
    )
}

/// Versions of the crates the benches compare, read from `Cargo.lock`.
fn versions() -> String {
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock")).unwrap_or_default();
    let wanted = [
        "crossbeam-epoch",
        "crossbeam-queue",
        "crossbeam-utils",
        "concurrent-queue",
        "scc",
        "dashmap",
        "papaya",
        "arc-swap",
        "seqlock",
        "criterion",
    ];
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = \"") {
            name = Some(n.trim_end_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = \"")
            && let Some(n) = name.take()
            && wanted.contains(&n.as_str())
        {
            found.push(format!("{n} {}", v.trim_end_matches('"')));
        }
    }
    found.join(", ")
}

fn by_group(points: &[Point]) -> BTreeMap<&str, Vec<&Point>> {
    let mut m: BTreeMap<&str, Vec<&Point>> = BTreeMap::new();
    for p in points {
        m.entry(&p.group).or_default().push(p);
    }
    m
}

fn threads_sorted<'a>(ps: &[&'a Point]) -> Vec<&'a str> {
    let mut t: Vec<&str> = ps.iter().map(|p| p.threads.as_str()).collect();
    t.sort_by_key(|s| s.parse::<u64>().unwrap_or(u64::MAX));
    t.dedup();
    t
}

/// The report's text; `dir` is where it goes, with its charts under `dir/bench/`.
fn render(points: &[Point], command: &str, full: bool, dir: &std::path::Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Freeway benchmark report\n");
    let _ = writeln!(s, "- Machine: {}", machine());
    let _ = writeln!(s, "- Crates: {}", versions());
    let _ = writeln!(s, "- Command: `{command}`");
    let _ = writeln!(
        s,
        "- Mode: {} (criterion median over samples; `lo–hi` is criterion's 95% confidence interval of that median)",
        if full {
            "full (criterion defaults)"
        } else {
            "quick (10 samples, 1.5 s measurement per point)"
        }
    );
    let _ = writeln!(
        s,
        "- Each point runs all its threads together on one shared operation budget, so they overlap until the end. \
         Figures are million operations per second; ratios are against the group's Mutex/RwLock baseline and against \
         the best peer crate at the same thread count.\n"
    );
    let mut losses = Vec::new();
    for (group, ps) in by_group(points) {
        let threads = threads_sorted(&ps);
        let _ = writeln!(s, "## {group}\n");
        let mut head = "| contender |".to_string();
        let mut rule = "|---|".to_string();
        for t in &threads {
            head += &format!(" {t} thr Mops/s (lo–hi) |");
            rule += "---:|";
        }
        let _ = writeln!(s, "{head}\n{rule}");
        let mut contenders: Vec<&str> = ps.iter().map(|p| p.contender.as_str()).collect();
        contenders.sort_by_key(|c| (!is_ours(c), is_baseline(c), c.to_string()));
        contenders.dedup();
        let get = |c: &str, t: &str| ps.iter().find(|p| p.contender == c && p.threads == t);
        for c in &contenders {
            let mut row = format!("| {c} |");
            for t in &threads {
                match get(c, t) {
                    Some(p) => row += &format!(" {:.2} ({:.2}–{:.2}) |", p.mops, p.lo, p.hi),
                    None => row += " – |",
                }
            }
            let _ = writeln!(s, "{row}");
        }
        // Ratios for our contenders.
        for c in contenders.iter().filter(|c| is_ours(c)) {
            let mut base_row = format!("| {c} ÷ baseline |");
            let mut peer_row = format!("| {c} ÷ best peer |");
            let mut any_base = false;
            let mut any_peer = false;
            for t in &threads {
                let ours = get(c, t).map(|p| p.mops);
                let base = ps
                    .iter()
                    .filter(|p| p.threads == *t && is_baseline(&p.contender))
                    .map(|p| p.mops)
                    .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
                let peer = ps
                    .iter()
                    .filter(|p| {
                        p.threads == *t && !is_baseline(&p.contender) && !is_ours(&p.contender)
                    })
                    .max_by(|a, b| a.mops.total_cmp(&b.mops));
                match (ours, base) {
                    (Some(o), Some(b)) => {
                        any_base = true;
                        base_row += &format!(" {:.2}x |", o / b);
                    }
                    _ => base_row += " – |",
                }
                match (ours, peer) {
                    (Some(o), Some(p)) => {
                        any_peer = true;
                        peer_row += &format!(" {:.2}x |", o / p.mops);
                        if o < p.mops {
                            losses.push(format!(
                                "- **{group}**, {t} threads: {c} {o:.2} Mops/s vs {} {:.2} ({:.2}x)",
                                p.contender,
                                p.mops,
                                o / p.mops
                            ));
                        }
                    }
                    _ => peer_row += " – |",
                }
            }
            if any_base {
                let _ = writeln!(s, "{base_row}");
            }
            if any_peer {
                let _ = writeln!(s, "{peer_row}");
            }
        }
        let svg = format!("bench/{}.svg", group.replace('/', "-"));
        if dir.join(&svg).is_file() {
            let _ = writeln!(s, "\n![{group}]({svg})");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Where we lose\n");
    if losses.is_empty() {
        let _ = writeln!(
            s,
            "Nowhere in this run: every Freeway contender is at or above the best peer measured."
        );
    } else {
        let _ = writeln!(
            s,
            "Every point in this run where a Freeway contender is below the best peer:\n"
        );
        for l in losses {
            let _ = writeln!(s, "{l}");
        }
    }
    s
}

fn runs_dir() -> PathBuf {
    project_root().join("target/bench-runs")
}

fn save_run(name: &str, points: &[Point]) -> Result<PathBuf> {
    let path = if name.contains('/') || name.ends_with(".json") {
        PathBuf::from(name)
    } else {
        runs_dir().join(format!("{name}.json"))
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let v: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({"group": p.group, "contender": p.contender, "threads": p.threads,
                   "mops": p.mops, "lo": p.lo, "hi": p.hi})
        })
        .collect();
    let doc = json!({"machine": machine(), "crates": versions(), "points": v});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap())
        .map_err(|e| e.to_string())?;
    if name != "last" {
        let _ = std::fs::write(
            runs_dir().join("last.json"),
            serde_json::to_string_pretty(&doc).unwrap(),
        );
    }
    Ok(path)
}

fn load_run(name: &str) -> Result<(String, Vec<Point>)> {
    let path = if Path::new(name).is_file() {
        PathBuf::from(name)
    } else {
        runs_dir().join(format!("{name}.json"))
    };
    let v = read_json(&path)?;
    let pts = v["points"]
        .as_array()
        .ok_or_else(|| format!("{}: no points", path.display()))?
        .iter()
        .map(|p| Point {
            group: p["group"].as_str().unwrap_or("").into(),
            contender: p["contender"].as_str().unwrap_or("").into(),
            threads: p["threads"].as_str().unwrap_or("").into(),
            mops: p["mops"].as_f64().unwrap_or(0.0),
            lo: p["lo"].as_f64().unwrap_or(0.0),
            hi: p["hi"].as_f64().unwrap_or(0.0),
        })
        .collect();
    Ok((v["machine"].as_str().unwrap_or("?").to_string(), pts))
}

/// Ratios B/A per benchmark; a change is marked only where the two confidence intervals are
/// disjoint.
fn compare_runs(names: &[String]) -> Result {
    let (a_name, b_name) = match names {
        [b] => ("last".to_string(), b.clone()),
        [a, b] => (a.clone(), b.clone()),
        _ => unreachable!(),
    };
    let (ma, a) = load_run(&a_name)?;
    let (mb, b) = load_run(&b_name)?;
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmark comparison: {b_name} vs {a_name}\n");
    let _ = writeln!(s, "- A = {a_name}: {ma}\n- B = {b_name}: {mb}\n");
    let _ = writeln!(
        s,
        "| benchmark | A Mops/s | B Mops/s | B/A | verdict |\n|---|---:|---:|---:|---|"
    );
    let index: BTreeMap<String, &Point> = a.iter().map(|p| (p.key(), p)).collect();
    for pb in &b {
        let Some(pa) = index.get(&pb.key()) else {
            continue;
        };
        let ratio = pb.mops / pa.mops;
        let verdict = if pb.lo > pa.hi {
            "faster"
        } else if pb.hi < pa.lo {
            "slower"
        } else {
            "no change (intervals overlap)"
        };
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {ratio:.2}x | {verdict} |",
            pb.key(),
            pa.mops,
            pb.mops
        );
    }
    print!("{s}");
    let out = runs_dir().join(format!(
        "compare-{}-{}.md",
        sanitize(&a_name),
        sanitize(&b_name)
    ));
    std::fs::create_dir_all(runs_dir()).map_err(|e| e.to_string())?;
    std::fs::write(&out, s).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
