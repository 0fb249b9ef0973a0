//! `report.html` (`optbench report DIR`), checked in a real browser: headless Chromium driven
//! through the DevTools protocol (the `headless_chrome` crate).
//!
//! The browser test needs a Chromium: `$OPTBENCH_CHROMIUM`, else `chromium`, `chromium-browser`,
//! `google-chrome` or `google-chrome-stable` on the PATH (Debian: `apt-get install chromium`).
//! Without one it prints a note and passes, so `cargo test --workspace` works on a machine
//! without a browser; with `OPTBENCH_REQUIRE_BROWSER=1` (set by `.ci/run`) a missing browser
//! fails the test. `OPTBENCH_HTML_SCREENSHOT=FILE.png` also saves a screenshot of the page.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::browser::tab::Tab;
use headless_chrome::browser::tab::point::Point;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Log, Page, Runtime};
use headless_chrome::{Browser, LaunchOptions};
use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic};
use optbench_analysis::plot::{PlotOptions, plot_results};
use optbench_results as results;
use serde::Deserialize;

fn optbench(args: &[&OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_optbench"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn report_writes_html_by_default_and_alone_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(dir.path(), &Synthetic::default()).unwrap();
    let d = dir.path().as_os_str();
    let files = |names: &[&str]| -> Vec<bool> {
        names.iter().map(|n| dir.path().join(n).exists()).collect()
    };
    let all = ["report.md", "report.tex", "report.html"];

    let out = optbench(&[OsStr::new("report"), d, OsStr::new("--html")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(files(&all), [false, false, true]);
    let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(page.contains("Content-Security-Policy"));
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));

    std::fs::remove_file(dir.path().join("report.html")).unwrap();
    let out = optbench(&[OsStr::new("report"), d, OsStr::new("--no-html")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(files(&all), [true, true, false]);

    let out = optbench(&[OsStr::new("report"), d]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(files(&all), [true, true, true]);

    let out = optbench(&[
        OsStr::new("report"),
        d,
        OsStr::new("--html"),
        OsStr::new("--no-html"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

// ---- the browser ---------------------------------------------------------------------------

/// The Chromium to drive, or `None` (after a note) when there is none and none is required.
fn chromium() -> Option<PathBuf> {
    let required = std::env::var("OPTBENCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let found = std::env::var_os("OPTBENCH_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .iter()
            .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
            .find(|p| p.is_file())
        });
    match found {
        Some(p) => Some(p),
        None if required => panic!(
            "OPTBENCH_REQUIRE_BROWSER=1 but no Chromium found (set OPTBENCH_CHROMIUM or install \
             Debian's `chromium`)"
        ),
        None => {
            eprintln!(
                "note: skipping the browser test of report.html: no Chromium found (set \
                 OPTBENCH_CHROMIUM, or install Debian's `chromium`; OPTBENCH_REQUIRE_BROWSER=1 \
                 makes this a failure)"
            );
            None
        }
    }
}

/// A browser with a fresh profile and the flags of a machine without network.
fn launch(chrome: PathBuf, profile: &Path) -> Browser {
    let flags: Vec<&OsStr> = [
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chrome))
        .headless(true)
        .sandbox(false)
        .enable_gpu(false)
        .user_data_dir(Some(profile.to_owned()))
        .window_size(Some((1280, 900)))
        .idle_browser_timeout(Duration::from_secs(300))
        .args(flags)
        .build()
        .unwrap();
    Browser::new(options).unwrap()
}

/// Evaluates `expr` (which must give a JSON-serialisable value) and decodes it.
fn eval<T: for<'de> Deserialize<'de>>(tab: &Tab, expr: &str) -> T {
    let r = tab
        .evaluate(&format!("JSON.stringify({expr})"), false)
        .unwrap();
    let text = r.value.and_then(|v| v.as_str().map(str::to_owned));
    let text = text.unwrap_or_else(|| panic!("`{expr}` gave no value: {:?}", r.description));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`{expr}` gave {text}: {e}"))
}

/// Console errors, uncaught exceptions and failed loads reported by the page.
fn collect_errors(tab: &Tab) -> Arc<Mutex<Vec<String>>> {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&errors);
    tab.enable_log().unwrap().enable_runtime().unwrap();
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let msg = match event {
            Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
                Some(format!("log: {}", e.params.entry.text))
            }
            Event::RuntimeConsoleAPICalled(e)
                if e.params.Type == Runtime::ConsoleAPICalledEventTypeOption::Error =>
            {
                Some(format!("console.error: {:?}", e.params.args))
            }
            Event::RuntimeExceptionThrown(e) => {
                Some(format!("exception: {:?}", e.params.exception_details))
            }
            _ => None,
        };
        if let Some(m) = msg {
            sink.lock().unwrap().push(m);
        }
    }))
    .unwrap();
    errors
}

/// Opens `page` in `tab` and waits until its script has drawn everything; returns the time from
/// the navigate command until then.
fn open_page(tab: &Tab, page: &Path) -> Duration {
    let start = Instant::now();
    tab.navigate_to(&format!("file://{}", page.display()))
        .unwrap();
    while !eval::<bool>(tab, "!!(window.optbenchReport && optbenchReport.ready)") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never got ready"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Moves the mouse onto point `k` of line `line` of convergence chart `chart`.
fn hover(tab: &Tab, chart: usize, line: usize, k: usize) -> (f64, f64) {
    let p: (f64, f64) = eval(
        tab,
        &format!(
            "(() => {{ const q = optbenchReport.pointClient({chart}, {line}, {k}); return [q.x, q.y]; }})()"
        ),
    );
    tab.move_mouse_to_point(Point { x: p.0, y: p.1 }).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p
}

#[derive(Debug, Deserialize)]
struct ChartInfo {
    title: String,
    series: usize,
    visible: usize,
    /// Optimizer index per line.
    opts: Vec<usize>,
}

#[derive(Debug, Deserialize)]
struct Tip {
    hidden: bool,
    text: String,
    value: String,
    line: String,
    k: String,
}

// ---- expected values, read from the Parquet files -----------------------------------------

/// Per problem, its cell ids (from runs.parquet).
fn cells_per_problem(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let df = results::read_runs(dir).unwrap();
    let problem = df.column(results::PROBLEM).unwrap().str().unwrap().clone();
    let cell = df.column(results::CELL_ID).unwrap().str().unwrap().clone();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..df.height() {
        let v = out.entry(problem.get(i).unwrap().to_owned()).or_default();
        let c = cell.get(i).unwrap().to_owned();
        if !v.contains(&c) {
            v.push(c);
        }
    }
    out
}

/// Mean over the cell's runs of the finite `train_loss` values at `step` in metrics.parquet.
fn stored_train_loss(dir: &Path, cell: &str, step: u64) -> f64 {
    let runs = results::read_runs(dir).unwrap();
    let ids = runs.column(results::RUN_ID).unwrap().str().unwrap().clone();
    let cells = runs
        .column(results::CELL_ID)
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let wanted: Vec<String> = (0..runs.height())
        .filter(|&i| cells.get(i) == Some(cell))
        .map(|i| ids.get(i).unwrap().to_owned())
        .collect();
    let m = results::read_metrics(dir).unwrap();
    let id = m.column(results::RUN_ID).unwrap().str().unwrap().clone();
    let st = m.column(results::STEP).unwrap().u64().unwrap().clone();
    let loss = m
        .column(results::TRAIN_LOSS)
        .unwrap()
        .f64()
        .unwrap()
        .clone();
    let values: Vec<f64> = (0..m.height())
        .filter(|&i| {
            st.get(i) == Some(step) && wanted.iter().any(|w| Some(w.as_str()) == id.get(i))
        })
        .filter_map(|i| loss.get(i))
        .filter(|v| v.is_finite())
        .collect();
    assert!(!values.is_empty(), "no train_loss of {cell} at step {step}");
    values.iter().sum::<f64>() / values.len() as f64
}

const CHARTS_JS: &str = "optbenchReport.charts.map((c, i) => ({title: c.title, \
    series: c.u ? c.u.series.length - 1 : 0, visible: optbenchReport.visibleSeries(i), \
    opts: c.spec.lines.map(l => l.opt)}))";

#[test]
fn page_in_headless_chromium_draws_switches_and_hovers() {
    let Some(chrome) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 96,
            records: 31,
            seeds: 3,
            lrs: 0,
        },
    )
    .unwrap();
    plot_results(dir.path(), &PlotOptions::default()).unwrap();
    let out = optbench(&[OsStr::new("report"), dir.path().as_os_str()]);
    assert!(out.status.success(), "{out:?}");
    let page = dir.path().join("report.html");

    let profile = tempfile::tempdir().unwrap();
    let browser = launch(chrome, profile.path());
    let tab = browser.new_tab().unwrap();
    let errors = collect_errors(&tab);
    tab.navigate_to(&format!("file://{}", page.display()))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let start = Instant::now();
    while !eval::<bool>(&tab, "!!(window.optbenchReport && optbenchReport.ready)") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the page never got ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ms: f64 = eval(&tab, "optbenchReport.interactiveMs");
    eprintln!("report.html interactive after {ms:.0} ms (debug build of the test, shared machine)");

    // Every problem has a chart with one series per configuration, all shown.
    let cells = cells_per_problem(dir.path());
    let charts: Vec<ChartInfo> = eval(&tab, CHARTS_JS);
    assert_eq!(charts.len(), cells.len(), "{charts:?}");
    for c in &charts {
        let n = cells[&c.title].len();
        assert_eq!((c.series, c.visible), (n, n), "{}", c.title);
    }
    // The static figures decoded.
    let images: (usize, usize) = eval(
        &tab,
        "(() => { const i = [...document.querySelectorAll('#figures img')]; \
         i.forEach(x => x.loading = 'eager'); \
         return [i.length, i.filter(x => x.complete).length]; })()",
    );
    assert!(images.0 >= 4, "{images:?}");
    let decoded: usize = {
        let start = Instant::now();
        loop {
            let n: usize = eval(
                &tab,
                "[...document.querySelectorAll('#figures img')].filter(x => x.naturalWidth > 0).length",
            );
            if n == images.0 || start.elapsed() > Duration::from_secs(20) {
                break n;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(decoded, images.0);

    // Switching an optimizer off removes its series, and on brings them back.
    let names: Vec<String> = eval(&tab, "optbenchReport.data.optimizers.map(o => o.name)");
    let adam = names.iter().position(|n| n == "adam").unwrap();
    let click_adam = || {
        tab.find_element("input[data-optimizer=\"adam\"]")
            .unwrap()
            .click()
            .unwrap();
    };
    click_adam();
    assert!(!eval::<bool>(
        &tab,
        "document.querySelector('input[data-optimizer=\"adam\"]').checked"
    ));
    let off: Vec<ChartInfo> = eval(&tab, CHARTS_JS);
    for (before, after) in charts.iter().zip(&off) {
        let adams = before.opts.iter().filter(|&&o| o == adam).count();
        assert!(adams > 0);
        assert_eq!(after.visible, before.visible - adams, "{}", before.title);
    }
    click_adam();
    let on: Vec<ChartInfo> = eval(&tab, CHARTS_JS);
    assert!(on.iter().zip(&charts).all(|(a, b)| a.visible == b.visible));

    // Hovering a point shows the mean over seeds stored in metrics.parquet at that step.
    let c = charts
        .iter()
        .position(|c| c.title == "logistic_regression")
        .unwrap();
    // A line without diverged seeds (diverged ones may run above the plot), a point mid-way.
    let (line, k): (usize, usize) = eval(
        &tab,
        &format!(
            "(() => {{ const ls = optbenchReport.charts[{c}].spec.lines; \
             const i = ls.findIndex((l, i) => i >= 2 && l.inRange && l.m.length > 8); \
             return [i, Math.floor(ls[i].m.length / 2)]; }})()"
        ),
    );
    let p: (f64, f64) = eval(
        &tab,
        &format!(
            "(() => {{ const q = optbenchReport.pointClient({c}, {line}, {k}); return [q.x, q.y]; }})()"
        ),
    );
    tab.move_mouse_to_point(Point { x: p.0, y: p.1 }).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let tip: Tip = eval(
        &tab,
        "(() => { const t = document.getElementById('ob-tip'); return {hidden: t.hidden, \
         text: t.textContent, value: (t.querySelector('.v') || {}).textContent || '', \
         line: t.dataset.line || '', k: t.dataset.k || ''}; })()",
    );
    if tip.hidden {
        let what: String = eval(
            &tab,
            &format!(
                "(() => {{ const e = document.elementFromPoint({}, {}); const u = optbenchReport.charts[{c}].u; \
                 return (e ? e.tagName + '.' + e.className : 'nothing') + ' cursor ' + u.cursor.left + ',' + u.cursor.top \
                 + ' scrollY ' + window.scrollY; }})()",
                p.0, p.1
            ),
        );
        panic!("no tooltip at {p:?}: {what}");
    }
    // The nearest point may belong to another line drawn at the same pixel: check the one shown.
    let (shown_line, shown_k): (usize, usize) = (tip.line.parse().unwrap(), tip.k.parse().unwrap());
    let (cell, step): (String, u64) = eval(
        &tab,
        &format!(
            "(() => {{ const l = optbenchReport.charts[{c}].spec.lines[{shown_line}]; \
             const cfg = optbenchReport.data.problems[{c}].configs[l.ci]; \
             return [cfg.cell, optbenchReport.data.grids[cfg.g][l.k[{shown_k}]]]; }})()"
        ),
    );
    assert!(
        tip.text.contains(&format!("updates): {step}Train loss")),
        "{tip:?}"
    );
    let shown: f64 = tip.value.parse().unwrap();
    let stored = stored_train_loss(dir.path(), &cell, step);
    assert!(
        (shown - stored).abs() <= 1e-4 * stored.abs(),
        "tooltip shows {shown}, metrics.parquet holds {stored} ({cell} at step {step})"
    );

    if let Some(path) = std::env::var_os("OPTBENCH_HTML_SCREENSHOT") {
        let png = tab
            .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
    let errors = errors.lock().unwrap().clone();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}

/// Size and speed of `report --html` on a large synthetic sweep, and the time until the page is
/// interactive in headless Chromium: a measurement, not a check (`scripts/bench_html_report.sh`
/// runs it in release mode). `OPTBENCH_BENCH_RUNS` (default 1000) and `OPTBENCH_BENCH_RECORDS`
/// (metric rows per run, default 101) set the sweep's size.
#[test]
#[ignore = "a measurement: run with --ignored (scripts/bench_html_report.sh)"]
fn html_report_size_and_speed() {
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (runs, records) = (
        var("OPTBENCH_BENCH_RUNS", 1000),
        var("OPTBENCH_BENCH_RECORDS", 101),
    );
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs,
            records,
            seeds: 3,
            lrs: 0,
        },
    )
    .unwrap();
    let figures = plot_results(dir.path(), &PlotOptions::default()).unwrap();
    let d = dir.path().as_os_str();
    let (mut times, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (t, c) = (Instant::now(), children_cpu_seconds());
        let out = optbench(&[OsStr::new("report"), d, OsStr::new("--html")]);
        times.push(t.elapsed().as_secs_f64());
        cpu.push(children_cpu_seconds().map_or(f64::NAN, |after| after - c.unwrap_or(0.0)));
        assert!(out.status.success(), "{out:?}");
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let page = dir.path().join("report.html");
    let size = std::fs::metadata(&page).unwrap().len();
    let text = std::fs::read_to_string(&page).unwrap();
    let json = text
        .split("id=\"optbench-data\">")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .map_or(0, str::len);
    let images: usize = text.matches("data:image/").count();
    println!(
        "sweep: {runs} runs × {records} metric rows, {} figure files in plots/",
        figures.len()
    );
    println!(
        "report --html: median {:.3} s (min {:.3}, max {:.3}) over 5 runs of the binary",
        times[2], times[0], times[4]
    );
    println!(
        "report --html: median {:.3} s of CPU (user + system; min {:.3}, max {:.3}), which a \
         loaded machine does not inflate as it does the wall time",
        cpu[2], cpu[0], cpu[4]
    );
    println!(
        "report.html: {:.2} MB ({:.2} MB data JSON, {images} embedded figures)",
        size as f64 / 1e6,
        json as f64 / 1e6
    );
    let Some(chrome) = chromium() else {
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let browser = launch(chrome, profile.path());
    let pid = browser.get_process_id().unwrap();
    for round in 0..3 {
        let tab = browser.new_tab().unwrap();
        let (t, cpu) = (Instant::now(), process_tree_cpu_seconds(pid));
        tab.navigate_to(&format!("file://{}", page.display()))
            .unwrap();
        while !eval::<bool>(&tab, "!!(window.optbenchReport && optbenchReport.ready)") {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the page never got ready"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let wall = t.elapsed().as_secs_f64();
        let cpu = process_tree_cpu_seconds(pid) - cpu;
        let ms: f64 = eval(&tab, "optbenchReport.interactiveMs");
        let series: usize = eval(
            &tab,
            "optbenchReport.charts.reduce((n, c) => n + (c.u ? c.u.series.length - 1 : 0), 0)",
        );
        println!(
            "chromium, load {round}: interactive {:.0} ms after navigation start (page clock), \
             {:.0} ms from the navigate command (test clock), {:.0} ms of CPU in all Chromium \
             processes meanwhile; {series} convergence series",
            ms,
            wall * 1e3,
            cpu * 1e3
        );
        tab.close(false).unwrap();
    }
}

/// User plus system CPU seconds of this process's waited-for children (`cutime` + `cstime` of
/// `/proc/self/stat`, in clock ticks of 1/100 s as on every Linux this runs on); `None` elsewhere.
fn children_cpu_seconds() -> Option<f64> {
    let f = proc_stat("self")?;
    Some((f.field(16)? + f.field(17)?) / 100.0)
}

/// User plus system CPU seconds (`utime` + `stime`, ticks of 1/100 s) of process `root` and all
/// its living descendants, summed over `/proc`: the CPU that Chromium's browser, renderer and
/// other processes spent, which a loaded machine does not inflate as it does the wall time.
fn process_tree_cpu_seconds(root: u32) -> f64 {
    let stats: Vec<(u32, ProcStat)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((pid, proc_stat(&pid.to_string())?))
        })
        .collect();
    let parent: BTreeMap<u32, u32> = stats
        .iter()
        .filter_map(|(pid, s)| Some((*pid, s.field(4)? as u32)))
        .collect();
    let descends = |mut pid: u32| loop {
        if pid == root {
            break true;
        }
        match parent.get(&pid) {
            Some(&p) if p != 0 && p != pid => pid = p,
            _ => break false,
        }
    };
    stats
        .iter()
        .filter(|(pid, _)| descends(*pid))
        .filter_map(|(_, s)| Some(s.field(14)? + s.field(15)?))
        .sum::<f64>()
        / 100.0
}

/// The fields of `/proc/PID/stat` after the command name (in parentheses, which may hold
/// spaces), numbered as in proc(5): state is field 3.
struct ProcStat(Vec<String>);

impl ProcStat {
    fn field(&self, i: usize) -> Option<f64> {
        self.0.get(i.checked_sub(3)?)?.parse().ok()
    }
}

fn proc_stat(pid: &str) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(ProcStat(rest.split(' ').map(str::to_owned).collect()))
}

/// Saves a screenshot of `$OPTBENCH_HTML_DIR/report.html` into `$OPTBENCH_HTML_SCREENSHOT`, at the
/// first convergence chart with a point hovered: how `docs/report_html.png` is made (from
/// `optbench run experiments/quickstart.yaml`).
#[test]
#[ignore = "makes the README's screenshot: OPTBENCH_HTML_DIR=DIR OPTBENCH_HTML_SCREENSHOT=FILE.png"]
fn screenshot_of_report_html() {
    let (Some(dir), Some(out)) = (
        std::env::var_os("OPTBENCH_HTML_DIR"),
        std::env::var_os("OPTBENCH_HTML_SCREENSHOT"),
    ) else {
        eprintln!("note: set OPTBENCH_HTML_DIR and OPTBENCH_HTML_SCREENSHOT");
        return;
    };
    let chrome = chromium().expect("a Chromium");
    let profile = tempfile::tempdir().unwrap();
    let browser = launch(chrome, profile.path());
    let tab = browser.new_tab().unwrap();
    open_page(&tab, &Path::new(&dir).join("report.html"));
    // The configuration with the most points among those that did not diverge, a third of the way.
    let (line, k): (usize, usize) = eval(
        &tab,
        "(() => { const ls = optbenchReport.charts[0].spec.lines; let b = 0; \
         ls.forEach((l, i) => { if (l.inRange && l.m.length > ls[b].m.length) b = i; }); \
         return [b, Math.floor(ls[b].m.length / 3)]; })()",
    );
    hover(&tab, 0, line, k);
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(out, png).unwrap();
}
