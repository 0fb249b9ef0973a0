//! Learning-rate sensitivity: final loss against the learning rate (log x), one line per
//! optimizer setting (the label without its `lr=` part), mean and min–max over the seeds that
//! finished; each diverged run is a × at the top edge at its learning rate.

use super::convergence::train_size;
use super::data::{self, Config, Status};
use super::figure::{Figure, LegendEntry, Line, Panel};
use super::{Context, batch_label};

type Final = fn(&data::Run) -> f64;

fn panel(
    ctx: &Context,
    families: &[(String, Vec<&Config>)],
    styles: &[super::style::LineStyle],
    value: Final,
    y_label: &str,
) -> Panel {
    let mut p = Panel {
        x_label: "Learning rate".into(),
        y_label: y_label.into(),
        x_log: true,
        y_log: true,
        ..Panel::default()
    };
    for ((_, configs), st) in families.iter().zip(styles) {
        let mut line = Line::new(*st);
        line.mark_all = true;
        for c in configs {
            if !(c.lr.is_finite() && c.lr > 0.0) {
                continue;
            }
            let ok = c
                .runs
                .iter()
                .filter(|&&i| ctx.runs[i].status == Status::Ok)
                .map(|&i| value(&ctx.runs[i]));
            if let Some(s) = data::summarize(ok) {
                line.points.push((c.lr, s.mean));
                line.band.push((c.lr, s.min, s.max));
            }
            for &i in &c.runs {
                if ctx.runs[i].status == Status::Diverged {
                    line.diverged_at.push(c.lr);
                }
            }
        }
        if !line.points.is_empty() || !line.diverged_at.is_empty() {
            p.lines.push(line);
        }
    }
    p
}

/// One figure per problem variant and batch size where some optimizer setting was run at two
/// or more learning rates.
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let sizes = g.batch_sizes();
        let full = train_size(ctx, g);
        for &bs in &sizes {
            let mut families: Vec<(String, Vec<&Config>)> = Vec::new();
            for c in g
                .configs
                .iter()
                .filter(|c| c.batch_size.total_cmp(&bs).is_eq())
            {
                let f = &g.families[c.family];
                match families.iter_mut().find(|(k, _)| k == f) {
                    Some((_, v)) => v.push(c),
                    None => families.push((f.clone(), vec![c])),
                }
            }
            if !families.iter().any(|(_, v)| v.len() >= 2) {
                continue;
            }
            for (_, v) in &mut families {
                v.sort_by(|a, b| a.lr.total_cmp(&b.lr));
            }
            let firsts: Vec<&Config> = families.iter().map(|(_, v)| v[0]).collect();
            let styles = super::convergence::styles(ctx, &firsts);
            let mut panels = vec![panel(
                ctx,
                &families,
                &styles,
                |r| r.final_train_loss,
                "Final train loss",
            )];
            if ctx.runs.iter().any(|r| r.final_test_loss.is_finite()) {
                let test = panel(
                    ctx,
                    &families,
                    &styles,
                    |r| r.final_test_loss,
                    "Final test loss",
                );
                if test.lines.iter().any(|l| !l.points.is_empty()) {
                    panels.push(test);
                }
            }
            let legend = families
                .iter()
                .zip(&styles)
                .map(|((f, v), st)| {
                    let div: usize = v.iter().map(|c| c.count(ctx.runs, Status::Diverged)).sum();
                    let n: usize = v.iter().map(|c| c.runs.len()).sum();
                    let label = if div > 0 {
                        format!("{f} ({div}/{n} runs diverged)")
                    } else {
                        f.clone()
                    };
                    LegendEntry { style: *st, label }
                })
                .collect();
            let (stem, title) = if sizes.len() > 1 {
                (
                    format!("lr_{}_bs{}", g.slug, bs as u64),
                    format!(
                        "{}, batch size {}: learning-rate sensitivity",
                        g.title,
                        batch_label(bs, full)
                    ),
                )
            } else {
                (
                    format!("lr_{}", g.slug),
                    format!("{}: learning-rate sensitivity", g.title),
                )
            };
            out.push(Figure {
                stem,
                title,
                panels,
                legend,
                caption:
                    "Mean over finished seeds, band min–max; × at the top edge: a diverged run."
                        .into(),
            });
        }
    }
    out
}
