// optbench report.html: sortable tables and interactive charts drawn with uPlot from the JSON in
// #optbench-data (format: crates/analysis/src/html/mod.rs). No network, no other dependency.
// window.optbenchReport exposes the charts for the browser test (crates/cli/tests/html_report.rs).
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("optbench-data").textContent);
  const R = (window.optbenchReport = { ready: false, charts: [], lrCharts: [], data: D });
  const tip = document.getElementById("ob-tip");
  const dot = document.createElement("div");
  dot.id = "ob-dot";
  const metricInfo = (key) => D.metrics.find((m) => m.key === key);
  const present = D.metrics.filter((m) => D.problems.some((p) => p.configs.some((c) => c.y[m.key])));
  const state = {
    metric: (present[0] || D.metrics[0]).key,
    x: "step",
    ylog: (present[0] || D.metrics[0]).log,
    xlog: false,
    optOff: new Set(),
    cfgOff: new Set(),
  };

  // ---- numbers ---------------------------------------------------------------------------
  function fmt(v, digits) {
    if (v == null || !isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1).replace(/\.?0+e/, "e").replace("e+", "e");
    return String(Number(v.toPrecision(digits)));
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- tables ----------------------------------------------------------------------------
  function cellValue(td, numeric) {
    if (!numeric) return td.textContent;
    const v = td.dataset.v;
    return v === "" || v == null ? NaN : parseFloat(v);
  }
  function sortTable(table, col, th) {
    const numeric = th.dataset.sort === "num";
    const asc = th.getAttribute("aria-sort") !== "ascending";
    for (const h of table.tHead.rows[0].cells) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellValue(a.cells[col], numeric);
      const y = cellValue(b.cells[col], numeric);
      if (numeric) {
        if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y); // missing values last
        return asc ? x - y : y - x;
      }
      return asc ? x.localeCompare(y) : y.localeCompare(x);
    });
    for (const r of rows) body.appendChild(r);
  }
  function markBest(table, col, how) {
    let best = null;
    for (const r of table.tBodies[0].rows) {
      const v = cellValue(r.cells[col], true);
      if (isNaN(v)) continue;
      if (best == null || (how === "max" ? v > best.v : v < best.v)) best = { v, td: r.cells[col] };
    }
    if (best) best.td.classList.add("best");
  }
  function initTables() {
    for (const table of document.querySelectorAll("table.sortable")) {
      Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
        if (th.dataset.best) markBest(table, col, th.dataset.best);
        th.addEventListener("click", () => sortTable(table, col, th));
      });
    }
  }

  // ---- charts ----------------------------------------------------------------------------
  // A chart spec: {xLabel, yLabel, xlog, ylog, lines: [{label, color, dash, opt, x, m, lo, hi,
  // k, inRange, diverged, tipExtra(k)}]}; every line's x is ascending.
  function nearest(xs, v) {
    let lo = 0, hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  function yRange(spec) {
    return (u, dmin, dmax) => {
      let lo = Infinity, hi = -Infinity;
      spec.lines.forEach((l, i) => {
        if (!l.inRange || !u.series[i + 1].show) return;
        for (const arr of [l.m, l.lo, l.hi]) {
          if (!arr) continue;
          for (const v of arr) if (v != null && (!spec.ylog || v > 0)) { if (v < lo) lo = v; if (v > hi) hi = v; }
        }
      });
      if (!(lo <= hi)) { lo = dmin; hi = dmax; }
      if (lo == null || hi == null) return [spec.ylog ? 0.1 : 0, 1];
      return spec.ylog ? uPlot.rangeLog(lo, hi, 10, true) : uPlot.rangeNum(lo, hi, 0.05, true);
    };
  }
  function clipToPlot(u, ctx) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
  }
  function drawBands(u, spec) {
    const ctx = u.ctx;
    clipToPlot(u, ctx);
    spec.lines.forEach((l, i) => {
      if (!l.lo || !u.series[i + 1].show) return;
      const top = [], bottom = [];
      for (let k = 0; k < l.x.length; k++) {
        if (l.lo[k] == null || l.hi[k] == null) continue;
        const px = u.valToPos(l.x[k], "x", true);
        top.push([px, u.valToPos(l.hi[k], "y", true)]);
        bottom.push([px, u.valToPos(l.lo[k], "y", true)]);
      }
      if (top.length < 2) return;
      ctx.beginPath();
      top.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      for (let j = bottom.length - 1; j >= 0; j--) ctx.lineTo(bottom[j][0], bottom[j][1]);
      ctx.closePath();
      ctx.globalAlpha = 0.14;
      ctx.fillStyle = l.color;
      ctx.fill();
      ctx.globalAlpha = 1;
    });
    ctx.restore();
  }
  function drawDiverged(u, spec) {
    const ctx = u.ctx;
    clipToPlot(u, ctx);
    const s = 4 * uPlot.pxRatio, y = u.bbox.top + s + 1;
    ctx.lineWidth = 1.5 * uPlot.pxRatio;
    spec.lines.forEach((l, i) => {
      if (!l.diverged || !u.series[i + 1].show) return;
      ctx.strokeStyle = l.color;
      for (const xv of l.diverged) {
        const x = u.valToPos(xv, "x", true);
        ctx.beginPath();
        ctx.moveTo(x - s, y - s); ctx.lineTo(x + s, y + s);
        ctx.moveTo(x - s, y + s); ctx.lineTo(x + s, y - s);
        ctx.stroke();
      }
    });
    ctx.restore();
  }
  function hideTip() {
    tip.hidden = true;
    dot.remove();
  }
  function hover(u, spec) {
    const { left, top } = u.cursor;
    if (left == null || left < 0 || top == null || top < 0) return hideTip();
    const xv = u.posToVal(left, "x");
    let best = null, bestD = 30;
    spec.lines.forEach((l, li) => {
      if (!u.series[li + 1].show || !l.x.length) return;
      const j = nearest(l.x, xv);
      for (let k = Math.max(0, j - 1); k <= Math.min(l.x.length - 1, j + 1); k++) {
        if (l.m[k] == null) continue;
        const px = u.valToPos(l.x[k], "x"), py = u.valToPos(l.m[k], "y");
        const d = Math.hypot(px - left, py - top);
        if (d < bestD) { bestD = d; best = { li, k, px, py }; }
      }
    });
    if (!best) return hideTip();
    const l = spec.lines[best.li], k = best.k;
    tip.innerHTML = "";
    const head = el("div");
    head.appendChild(el("span", { class: "swatch", style: "border-color:" + l.color }));
    head.appendChild(el("b", null, l.label));
    tip.appendChild(head);
    tip.appendChild(el("div", null, spec.xLabel + ": " + fmt(l.x[k], 5)));
    const v = el("div", null, spec.yLabel + ": ");
    v.appendChild(el("span", { class: "v" }, fmt(l.m[k], 5)));
    tip.appendChild(v);
    if (l.lo && l.lo[k] != null) tip.appendChild(el("div", null, "min–max: " + fmt(l.lo[k], 3) + " – " + fmt(l.hi[k], 3)));
    if (l.tipExtra) for (const t of l.tipExtra(k)) tip.appendChild(el("div", null, t));
    tip.dataset.line = best.li;
    tip.dataset.k = k;
    tip.hidden = false;
    const r = u.over.getBoundingClientRect();
    const tx = r.left + best.px + 14, ty = r.top + best.py + 14;
    tip.style.left = Math.min(tx, window.innerWidth - tip.offsetWidth - 4) + "px";
    tip.style.top = Math.min(ty, window.innerHeight - tip.offsetHeight - 4) + "px";
    dot.style.left = best.px + "px";
    dot.style.top = best.py + "px";
    dot.style.borderColor = l.color;
    u.over.appendChild(dot);
  }
  function makeChart(target, spec, width) {
    const data = spec.lines.length ? uPlot.join(spec.lines.map((l) => [l.x, l.m])) : [[]];
    const tick = (u, vals) => vals.map((v) => (v == null ? "" : fmt(v, 3)));
    const series = [{}].concat(
      spec.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 1.5,
        dash: l.dash || undefined,
        show: l.show !== false,
        points: { show: l.x.length <= 12, size: 5 },
      }))
    );
    const u = new uPlot(
      {
        width: width,
        height: spec.height || 300,
        legend: { show: false },
        cursor: { points: { show: false }, drag: { x: true, y: false } },
        scales: {
          x: { time: false, distr: spec.xlog ? 3 : 1 },
          y: { distr: spec.ylog ? 3 : 1, range: yRange(spec) },
        },
        axes: [
          { label: spec.xLabel, values: tick, size: 42, labelSize: 18 },
          { label: spec.yLabel, values: tick, size: 58, labelSize: 18 },
        ],
        series,
        hooks: {
          drawAxes: [(u) => drawBands(u, spec)],
          draw: [(u) => drawDiverged(u, spec)],
          setCursor: [(u) => hover(u, spec)],
        },
      },
      data,
      target
    );
    u.over.addEventListener("mouseleave", hideTip);
    return u;
  }

  // ---- convergence -----------------------------------------------------------------------
  function xValues(c, key) {
    const steps = D.grids[c.g];
    if (key === "step") return steps;
    const v = c.x[key];
    if (v == null) return null;
    if (typeof v === "number") return steps.map((s) => s * v);
    return v;
  }
  function visible(line) {
    return !state.optOff.has(line.opt) && !state.cfgOff.has(line.key);
  }
  // The lines of problem p for the chosen metric and x: points with a usable x, sorted by x.
  function convergenceLines(p) {
    const lines = [];
    D.problems[p].configs.forEach((c, ci) => {
      const y = c.y[state.metric];
      const xs = xValues(c, state.x);
      if (!y || !xs) return;
      const steps = D.grids[c.g];
      const pts = [];
      for (let k = 0; k < xs.length; k++) {
        const xv = xs[k];
        if (xv == null || (state.xlog && !(xv > 0))) continue;
        let m = y.m[k];
        if (m != null && state.ylog && !(m > 0)) m = null;
        pts.push([xv, m, k]);
      }
      pts.sort((a, b) => a[0] - b[0]);
      const dedup = pts.filter((q, j) => j === pts.length - 1 || pts[j + 1][0] !== q[0]);
      const ks = dedup.map((q) => q[2]);
      const pos = (v) => (v != null && (!state.ylog || v > 0) ? v : null);
      lines.push({
        key: p + ":" + ci,
        ci,
        opt: c.opt,
        label: c.label,
        color: c.color,
        dash: c.dash,
        inRange: !c.div,
        x: dedup.map((q) => q[0]),
        m: dedup.map((q) => q[1]),
        lo: y.lo ? ks.map((k) => pos(y.lo[k])) : null,
        hi: y.hi ? ks.map((k) => pos(y.hi[k])) : null,
        k: ks,
        tipExtra: (j) => [(state.x === "step" ? "" : "step " + steps[ks[j]] + " · ") + c.seeds + " seed" + (c.seeds === 1 ? "" : "s")],
      });
    });
    return lines;
  }
  function legendFor(p, lines, box) {
    box.innerHTML = "";
    for (const l of lines) {
      const lab = el("label", { "data-key": l.key });
      const cb = el("input", { type: "checkbox" });
      cb.checked = !state.cfgOff.has(l.key);
      cb.addEventListener("change", () => {
        if (cb.checked) state.cfgOff.delete(l.key); else state.cfgOff.add(l.key);
        applyVisibility();
      });
      lab.appendChild(cb);
      lab.appendChild(el("span", { class: "swatch", style: "border-color:" + l.color + (l.dash ? ";border-top-style:dashed" : "") }));
      lab.appendChild(document.createTextNode(l.label));
      box.appendChild(lab);
    }
  }
  function buildConvergence() {
    for (const ch of R.charts) ch.u && ch.u.destroy();
    R.charts = [];
    hideTip();
    const root = document.getElementById("charts");
    root.innerHTML = "";
    const width = Math.max(360, Math.min(1240, root.clientWidth || 900));
    const m = metricInfo(state.metric);
    const xl = D.xs.find((x) => x[0] === state.x)[1];
    D.problems.forEach((prob, p) => {
      const sec = el("div", { class: "chart", id: "chart-" + prob.slug });
      sec.appendChild(el("h3", null, prob.title));
      const plot = el("div");
      const legend = el("div", { class: "legend" });
      sec.appendChild(plot);
      sec.appendChild(legend);
      root.appendChild(sec);
      const lines = convergenceLines(p);
      for (const l of lines) l.show = visible(l);
      if (!lines.length) {
        plot.appendChild(el("p", { class: "empty" }, "No " + m.label.toLowerCase() + " recorded against this x."));
        R.charts.push({ problem: p, title: prob.title, u: null, spec: { lines } });
        return;
      }
      const spec = { xLabel: xl, yLabel: m.label, xlog: state.xlog, ylog: state.ylog, lines };
      const u = makeChart(plot, spec, width);
      legendFor(p, lines, legend);
      R.charts.push({ problem: p, title: prob.title, u, spec, legend });
    });
  }
  function applyVisibility() {
    for (const ch of R.charts.concat(R.lrCharts)) {
      if (!ch.u) continue;
      ch.u.batch(() => {
        ch.spec.lines.forEach((l, i) => {
          const show = visible(l);
          if (ch.u.series[i + 1].show !== show) ch.u.setSeries(i + 1, { show });
        });
      });
      if (ch.legend) for (const lab of ch.legend.children) {
        const off = state.cfgOff.has(lab.dataset.key) || ch.spec.lines.some((l) => l.key === lab.dataset.key && state.optOff.has(l.opt));
        lab.classList.toggle("off", off);
        lab.firstChild.checked = !state.cfgOff.has(lab.dataset.key);
      }
    }
    hideTip();
  }

  // ---- controls --------------------------------------------------------------------------
  function select(label, options, value, onChange) {
    const lab = el("label", null, label + " ");
    const s = el("select", { "data-control": label });
    for (const [v, text] of options) {
      const o = el("option", { value: v }, text);
      if (v === value) o.selected = true;
      s.appendChild(o);
    }
    s.addEventListener("change", () => onChange(s.value));
    lab.appendChild(s);
    return lab;
  }
  function initControls() {
    const box = document.getElementById("controls");
    box.appendChild(select("Metric", present.map((m) => [m.key, m.label]), state.metric, (v) => {
      state.metric = v;
      state.ylog = metricInfo(v).log;
      box.querySelector('[data-control="y axis"]').value = state.ylog ? "log" : "linear";
      buildConvergence();
    }));
    box.appendChild(select("x", D.xs.map(([k, l]) => [k, l]), state.x, (v) => { state.x = v; buildConvergence(); }));
    box.appendChild(select("x axis", [["linear", "linear"], ["log", "log"]], "linear", (v) => { state.xlog = v === "log"; buildConvergence(); }));
    box.appendChild(select("y axis", [["log", "log"], ["linear", "linear"]], state.ylog ? "log" : "linear", (v) => { state.ylog = v === "log"; buildConvergence(); }));
    const opts = el("span", { class: "opts" });
    D.optimizers.forEach((o, i) => {
      const lab = el("label");
      const cb = el("input", { type: "checkbox", "data-optimizer": o.name });
      cb.checked = true;
      cb.addEventListener("change", () => {
        if (cb.checked) state.optOff.delete(i); else state.optOff.add(i);
        applyVisibility();
      });
      lab.appendChild(cb);
      lab.appendChild(el("span", { class: "swatch", style: "border-color:" + o.color }));
      lab.appendChild(document.createTextNode(o.name));
      opts.appendChild(lab);
    });
    box.appendChild(opts);
    const all = el("button", { type: "button" }, "All configurations");
    all.addEventListener("click", () => { state.cfgOff.clear(); applyVisibility(); });
    const best = el("button", { type: "button" }, "Best per optimizer");
    best.addEventListener("click", () => {
      state.cfgOff.clear();
      D.problems.forEach((prob, p) => prob.configs.forEach((c, ci) => { if (!c.best) state.cfgOff.add(p + ":" + ci); }));
      applyVisibility();
    });
    box.appendChild(all);
    box.appendChild(best);
  }

  // ---- learning-rate sensitivity ---------------------------------------------------------
  function buildLr() {
    const root = document.getElementById("lr-charts");
    if (!root) return;
    const width = Math.max(360, Math.min(620, (root.clientWidth || 900) / 2 - 10));
    D.lr.forEach((fig, f) => {
      const sec = el("div", { class: "chart" });
      sec.appendChild(el("h3", null, fig.title));
      const row = el("div", { style: "display:flex;flex-wrap:wrap;gap:10px" });
      sec.appendChild(row);
      sec.appendChild(el("p", { class: "note" }, fig.caption));
      root.appendChild(sec);
      fig.panels.forEach((panel) => {
        const lines = panel.lines.map((l, i) => {
          const opt = D.optimizers.findIndex((o) => o.name === l.label.split(" ")[0]);
          return {
            key: "lr" + f + ":" + i, opt, label: l.label, color: l.color, dash: l.dash,
            x: l.x, m: l.m, lo: l.lo, hi: l.hi, inRange: true, diverged: l.diverged,
          };
        });
        for (const l of lines) l.show = visible(l);
        const spec = { xLabel: panel.x_label, yLabel: panel.y_label, xlog: panel.x_log, ylog: panel.y_log, lines, height: 260 };
        const plot = el("div");
        row.appendChild(plot);
        R.lrCharts.push({ figure: f, u: makeChart(plot, spec, width), spec });
      });
    });
  }

  // ---- test hooks ------------------------------------------------------------------------
  // Client coordinates of point j of line i of convergence chart c (after scrolling it into view).
  R.pointClient = function (c, i, j) {
    const ch = R.charts[c];
    ch.u.root.scrollIntoView({ block: "center" });
    const l = ch.spec.lines[i];
    const r = ch.u.over.getBoundingClientRect();
    return { x: r.left + ch.u.valToPos(l.x[j], "x"), y: r.top + ch.u.valToPos(l.m[j], "y") };
  };
  R.visibleSeries = (c) => (R.charts[c].u ? R.charts[c].u.series.filter((s, i) => i > 0 && s.show).length : 0);

  initTables();
  initControls();
  buildConvergence();
  buildLr();
  R.ready = true;
  R.interactiveMs = performance.now();
})();
