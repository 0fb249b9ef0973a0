//! The command line's types (clap): every subcommand and its flags. Nothing else in optbench
//! depends on clap; these types are turned into the libraries' options here.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use optbench_analysis::compare::{Settings, Target};
use optbench_analysis::history::{self, ChangeSettings, ShowOptions};
use optbench_analysis::plot::{FigureSize, Formats, Metric, PlotOptions, SelectBy, XAxis};
use optbench_analysis::report::ReportOptions;
use strum::VariantNames;

/// optbench: benchmark first-order optimizers on grids of problems, hyperparameters and seeds.
#[derive(Debug, Parser)]
#[command(name = "optbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment (resumes: finished runs are kept).
    Run(RunArgs),
    /// Check an experiment file and print the size of its plan.
    Validate(ValidateArgs),
    /// Write each cell's initial weights per seed as safetensors files, named and shaped as the
    /// equivalent PyTorch module's parameters (for `load_state_dict`, or `init: {file: ...}`).
    Init(InitArgs),
    /// List optimizers, problems, datasets or schedules with every key and its default.
    List(ListArgs),
    /// Redraw the figures of a results folder.
    Plot(PlotArgs),
    /// Write report.md, report.tex and report.html (interactive, self-contained) for a results
    /// folder.
    Report(ReportArgs),
    /// CI gate: compare a candidate results folder with a baseline (0 same or better,
    /// 1 regression, 2 not comparable, 3 error).
    Compare(CompareArgs),
    /// Combine the shards of a results folder into one result.
    Merge(MergeArgs),
    /// Track results over commits: add a results folder to a history store; show its trends
    /// and change points.
    #[command(subcommand)]
    History(HistoryCommand),
}

/// `optbench run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The experiment file (YAML).
    #[arg(value_name = "EXPERIMENT.yaml")]
    pub experiment: PathBuf,
    /// Results folder (default: results/<name>/ in the current folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs in parallel (default: all cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub jobs: Option<u64>,
    /// Override a key of the experiment, Hydra style: `train.epochs=3`, `optimizers.0.lr=0.1`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Start over: delete earlier results of this experiment in the folder.
    #[arg(long)]
    pub force: bool,
    /// Do not draw figures and the report at the end.
    #[arg(long)]
    pub no_plots: bool,
    #[command(flatten)]
    pub figures: FigureArgs,
    /// Run only shard I of N (0-based); default from SLURM_ARRAY_TASK_ID/COUNT or
    /// JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// With a shard: do not run other shards' runs once this shard's own are done (helping
    /// needs a file system where exclusive file creation is atomic, which old NFS is not).
    #[arg(long)]
    pub no_shard_help: bool,
    /// On SIGINT (Ctrl-C) or SIGTERM: seconds runs in flight may take to finish before they are
    /// abandoned (no new run starts; a second signal quits at once).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_grace)]
    pub grace_period: std::time::Duration,
}

/// A grace period in seconds: a finite number ≥ 0.
fn parse_grace(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds (e.g. 10 or 2.5)"))?;
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("the grace period must be a number of seconds ≥ 0, found `{text}`"))
}

/// `optbench validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The experiment file (YAML).
    #[arg(value_name = "EXPERIMENT.yaml")]
    pub experiment: PathBuf,
    /// Override a key of the experiment, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also print every cell with its label and id.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `optbench init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The experiment file (YAML).
    #[arg(value_name = "EXPERIMENT.yaml")]
    pub experiment: PathBuf,
    /// Output folder: DIR/<cell_id>/seed<S>.safetensors and DIR/index.tsv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Override a key of the experiment, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// What `optbench list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Optimizers,
    Problems,
    Datasets,
    Schedules,
}

/// `optbench list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// What to list (default: everything).
    #[arg(value_enum)]
    pub what: Option<ListWhat>,
}

/// A subcommand that takes a results folder.
#[derive(Debug, clap::Args)]
pub struct DirArgs {
    /// The results folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Command-line arguments of `optbench merge`.
#[derive(clap::Args, Debug, Clone)]
pub struct MergeArgs {
    /// The results folder the shards wrote to.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Folder that relative data paths in DIR/experiment.yaml are resolved against (the
    /// original experiment file's folder) [default: DIR].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

fn parse_target_arg(text: &str) -> Result<Target, String> {
    Target::parse(text).map_err(|e| e.to_string())
}

/// Command-line arguments of `optbench compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    /// Results folder of the baseline (its runs.parquet is read).
    #[arg(value_name = "BASELINE_DIR")]
    pub baseline: PathBuf,
    /// Results folder of the candidate.
    #[arg(value_name = "CANDIDATE_DIR")]
    pub candidate: PathBuf,
    /// Metric to compare (repeatable): final_train_loss, final_test_loss, final_test_accuracy,
    /// best_train_loss [default: the first three].
    #[arg(long = "metric", value_name = "M")]
    pub metrics: Vec<String>,
    /// Also compare the steps to reach a target (repeatable), from metrics.parquet: the first
    /// recorded step where METRIC <= VALUE (train_loss, test_loss, batch_loss, grad_norm) or
    /// METRIC >= VALUE (test_accuracy); fewer is better. A seed that reached it in the baseline
    /// but not in the candidate is a regression. Example: --target train_loss=0.05.
    #[arg(long = "target", value_name = "METRIC=VALUE", value_parser = parse_target_arg)]
    pub targets: Vec<Target>,
    /// Smallest median relative change (0.05 = 5%) that counts as a change.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05)]
    pub min_effect: f64,
    /// False discovery rate of the Benjamini–Hochberg correction.
    #[arg(long, value_name = "Q", default_value_t = 0.05)]
    pub fdr: f64,
    /// Absolute noise floor: relative changes divide by max(|baseline|, atol).
    #[arg(long, value_name = "ABS", default_value_t = 1e-8)]
    pub atol: f64,
    /// Also write the full report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// List every cell and metric, including unchanged ones.
    #[arg(long)]
    pub all: bool,
    /// Treat an underpowered worsening (moved, but neither significant nor unanimous) as a
    /// regression.
    #[arg(long)]
    pub fail_underpowered: bool,
    /// Smallest median relative change of wall_time_s and examples_per_s that counts (timing
    /// is noisy; trust it only on the same machine type with no other load).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.10)]
    pub speed_min_effect: f64,
    /// Also write the result as JUnit XML to FILE (a test case per cell and metric; a
    /// regression is a failure).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also append the Markdown report to the file named by $GITHUB_STEP_SUMMARY, when set.
    #[arg(long)]
    pub summary: bool,
}

impl CompareArgs {
    /// The settings these arguments ask for (metrics deduplicated, in the order given).
    pub fn settings(&self) -> Settings {
        let mut metrics: Vec<String> = Vec::new();
        for m in &self.metrics {
            if !metrics.contains(m) {
                metrics.push(m.clone());
            }
        }
        if metrics.is_empty() {
            metrics = Settings::default().metrics;
        }
        let mut targets: Vec<Target> = Vec::new();
        for t in &self.targets {
            if !targets.iter().any(|u| u.name() == t.name()) {
                targets.push(t.clone());
            }
        }
        Settings {
            metrics,
            targets,
            min_effect: self.min_effect,
            fdr: self.fdr,
            atol: self.atol,
            fail_underpowered: self.fail_underpowered,
            speed_min_effect: self.speed_min_effect,
        }
    }
}

fn parse_formats(text: &str) -> Result<Formats, String> {
    text.parse()
}

/// Figure files and across-problem summaries, shared by `run`, `plot` and `report`.
#[derive(Clone, Debug, clap::Args)]
pub struct FigureArgs {
    /// Figure files to write, a comma list of png (300 dpi), svg and pdf (vector, fonts
    /// embedded, for LaTeX's \includegraphics).
    #[arg(long, value_name = "FORMATS", default_value = "png,svg,pdf", value_parser = parse_formats)]
    pub format: Formats,
    /// Performance profile and runtime ECDF over every problem of the steps (or --x) to reach
    /// a target (repeatable; several targets of one metric share an ECDF), and their tables in
    /// the report: the first recorded step where METRIC <= VALUE (train_loss, test_loss,
    /// batch_loss, grad_norm) or METRIC >= VALUE (test_accuracy). Example: --profile
    /// train_loss=0.05.
    #[arg(long = "profile", value_name = "METRIC=VALUE", value_parser = parse_target_arg)]
    pub profiles: Vec<Target>,
}

impl FigureArgs {
    /// The targets, without repeats, in the order given.
    pub fn targets(&self) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        for t in &self.profiles {
            if !out.iter().any(|u| u.name() == t.name()) {
                out.push(t.clone());
            }
        }
        out
    }
}

/// `optbench plot DIR`: redraw the figures of a results folder.
#[derive(Clone, Debug, clap::Args)]
pub struct PlotArgs {
    /// Results folder (holding runs.parquet and metrics.parquet).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Quantity on the x axis of per-step figures, and the cost of --profile.
    #[arg(long, default_value = "step", value_parser = x_axis())]
    pub x: XAxis,
    /// Draw this metric in the convergence figures; repeat for several panels, in order
    /// (default: train loss, test loss and test accuracy, where recorded).
    #[arg(long, value_parser = choice::<Metric>())]
    pub metric: Vec<Metric>,
    /// Logarithmic x axis in the per-step figures (the step-0 row is then not drawn).
    #[arg(long)]
    pub logx: bool,
    /// Final value that picks each optimizer's best configuration.
    #[arg(long, default_value = "final_train_loss", value_parser = choice::<SelectBy>())]
    pub select_by: SelectBy,
    /// Figure width: a paper column (3.25 in) or the full text width (6.75 in).
    #[arg(long, default_value = "column", value_parser = choice::<FigureSize>())]
    pub size: FigureSize,
    #[command(flatten)]
    pub figures: FigureArgs,
}

impl PlotArgs {
    /// The options these arguments ask for.
    pub fn options(&self) -> PlotOptions {
        PlotOptions {
            x: self.x,
            metrics: self.metric.clone(),
            x_log: self.logx,
            select_by: self.select_by,
            size: self.size,
            formats: self.figures.format.clone(),
            profiles: self.figures.targets(),
        }
    }
}

/// `optbench report DIR`: tables (and the profile figures) of a results folder.
#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// Results folder (holding runs.parquet, and metrics.parquet for --profile).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write only report.html (not report.md and report.tex).
    #[arg(long, conflicts_with = "no_html")]
    pub html: bool,
    /// Do not write report.html.
    #[arg(long)]
    pub no_html: bool,
    /// Final value that picks each optimizer's best configuration.
    #[arg(long, default_value = "final_train_loss", value_parser = choice::<SelectBy>())]
    pub select_by: SelectBy,
    /// The cost of reaching a --profile target: steps, epochs, examples or wall time.
    #[arg(long, default_value = "step", value_parser = x_axis())]
    pub x: XAxis,
    /// Width of the profile figures: a paper column (3.25 in) or the text width (6.75 in).
    #[arg(long, default_value = "column", value_parser = choice::<FigureSize>())]
    pub size: FigureSize,
    #[command(flatten)]
    pub figures: FigureArgs,
}

impl ReportArgs {
    /// The options these arguments ask for.
    pub fn options(&self) -> ReportOptions {
        ReportOptions {
            select_by: self.select_by,
            profiles: self.figures.targets(),
            x: self.x,
            formats: self.figures.format.clone(),
            size: self.size,
        }
    }
}

/// A parser for one of the analysis crate's named values: its names as the possible values,
/// parsed with `FromStr`.
fn choice<T>() -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + VariantNames + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(T::VARIANTS).try_map(|s| {
        s.parse::<T>()
            .map_err(|_| format!("`{s}` is not one of {}", T::VARIANTS.join(", ")))
    })
}

/// `--x`: [`XAxis`] with its aliases (`examples_seen`, `wall_time`, `wall_time_s`).
fn x_axis() -> impl TypedValueParser<Value = XAxis> {
    PossibleValuesParser::new([
        PossibleValue::new("step"),
        PossibleValue::new("epoch"),
        PossibleValue::new("examples").alias("examples_seen"),
        PossibleValue::new("time").aliases(["wall_time", "wall_time_s"]),
    ])
    .try_map(|s| {
        s.parse::<XAxis>()
            .map_err(|_| format!("`{s}` is not an x axis"))
    })
}

fn parse_label_arg(text: &str) -> Result<(String, String), String> {
    history::add::parse_label(text).map_err(|e| e.to_string())
}

/// `optbench history`.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Add a results folder to a history store (one Parquet file per commit).
    Add(HistoryAddArgs),
    /// Write the trend figures and the change points of a history store.
    Show(HistoryShowArgs),
}

/// `optbench history add STORE DIR`.
#[derive(Debug, clap::Args)]
pub struct HistoryAddArgs {
    /// The history store (a folder, created if needed).
    #[arg(value_name = "STORE")]
    pub store: PathBuf,
    /// The results folder to add (runs.parquet and manifest.json; metrics.parquet for
    /// examples_per_s).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The commit [default: the manifest's git_commit].
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The commit's date, RFC 3339 or YYYY-MM-DD (in CI: `git show -s --format=%cI`)
    /// [default: the manifest's start_time].
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// A label recorded with the result (repeatable), e.g. --label runner=ubuntu-24.04.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label_arg)]
    pub labels: Vec<(String, String)>,
    /// Replace the commit if the store already has it.
    #[arg(long)]
    pub replace: bool,
}

/// `optbench history show STORE`.
#[derive(Debug, clap::Args)]
pub struct HistoryShowArgs {
    /// The history store.
    #[arg(value_name = "STORE")]
    pub store: PathBuf,
    /// Output folder of the figures, changes.md and changes.json [default: STORE/report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only this metric (repeatable) [default: every metric in the store].
    #[arg(long = "metric", value_name = "M")]
    pub metrics: Vec<String>,
    /// Only the results with this label (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label_arg)]
    pub labels: Vec<(String, String)>,
    /// Smallest relative step of a convergence metric that counts.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05)]
    pub min_effect: f64,
    /// Smallest relative step of wall_time_s or examples_per_s that counts.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.10)]
    pub speed_min_effect: f64,
    /// Penalty per change point, in units of the noise scale times ln(commits).
    #[arg(long, value_name = "BETA", default_value_t = history::changepoint::DEFAULT_BETA)]
    pub penalty: f64,
    /// Absolute floor of relative changes: they divide by max(|level|, atol).
    #[arg(long, value_name = "ABS", default_value_t = 1e-8)]
    pub atol: f64,
    /// Figure width: a paper column (3.25 in) or the full text width (6.75 in).
    #[arg(long, default_value = "page", value_parser = choice::<FigureSize>())]
    pub size: FigureSize,
    /// Figure files to write, a comma list of png, svg and pdf (SVG by default: a history has many
    /// figures, and CI artifacts stay small and quick to write).
    #[arg(long, value_name = "FORMATS", default_value = "svg", value_parser = parse_formats)]
    pub format: Formats,
}

impl HistoryShowArgs {
    /// The options these arguments ask for.
    pub fn options(&self) -> ShowOptions {
        ShowOptions {
            out: self
                .out
                .clone()
                .unwrap_or_else(|| self.store.join("report")),
            metrics: self.metrics.clone(),
            labels: self.labels.clone(),
            changes: ChangeSettings {
                beta: self.penalty,
                min_effect: self.min_effect,
                speed_min_effect: self.speed_min_effect,
                atol: self.atol,
            },
            size: self.size,
            format: self.format.clone(),
        }
    }
}
