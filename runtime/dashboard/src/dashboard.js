// The Weir dashboard: the job graph with live rates, sources and sinks, the latest
// records of `state` sinks, a live chart (uPlot) per `chart` sink and a table of the
// latest records per `live` sink, both fed by server-sent events; History runs SQL
// over the run's lake (POST /api/query) and charts the answer. Everything comes from
// this run's own server.
"use strict";

const charts = {}; // sink → { config, series: Map(name → [[x, y], …]), plot, el }
const tables = {}; // live sink → { records: [record, …] newest last, el, dirty }
/** Rows a live table shows. */
const TABLE_ROWS = 20;
let previous = null; // the last /api/job answer and when, for rates
window.weir = { charts, last, tables };

/** The last point [x, y] of `series` in chart `sink`, as drawn. */
function last(sink, series) {
  const points = charts[sink] && charts[sink].series.get(series);
  return points && points.length ? points[points.length - 1] : null;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function rate(now, before, seconds) {
  if (before === undefined || seconds <= 0) return "";
  return `${Math.max(0, (now - before) / seconds).toFixed(1)}/s`;
}

function lagOf(watermark) {
  if (!watermark) return "–";
  return `${((Date.now() - Date.parse(watermark)) / 1000).toFixed(1)} s`;
}

function drawGraph(job, seconds) {
  const before = previous ? previous.job : null;
  const counts = (list, name) => (list || []).find((n) => n.name === name);
  const graph = document.getElementById("graph");
  graph.replaceChildren();
  for (const p of job.pipelines) {
    const row = el("div", { class: "pipeline", "data-pipeline": p.name });
    const source = counts(job.sources, p.from);
    const was = before && counts(before.sources, p.from);
    row.append(el("span", { class: "node source", "data-operator": p.from }, p.from,
      el("small", {}, source ? `watermark lag ${lagOf(source.watermark)}` : "pipeline")));
    let edge = source ? rate(source.records, was && was.records, seconds) : "";
    for (const stage of p.stages) {
      row.append(el("span", { class: "edge" }, `→ ${edge}`));
      edge = "";
      if (stage.startsWith("to ")) {
        const name = stage.slice(3);
        const sink = counts(job.sinks, name);
        const prev = before && counts(before.sinks, name);
        row.lastChild.textContent = `→ ${sink ? rate(sink.records, prev && prev.records, seconds) : ""}`;
        row.append(el("span", { class: "node sink", "data-operator": name }, name,
          el("small", {}, sink ? `${sink.connector}, ${sink.undelivered} undelivered` : "")));
      } else {
        row.append(el("span", { class: "node", "data-operator": stage }, stage));
      }
    }
    row.append(el("span", { class: "edge" }, `late dropped ${p.late_dropped}`));
    graph.append(row);
  }
}

function drawTables(job, seconds) {
  const before = previous ? previous.job : null;
  const find = (list, name) => before && list.find((n) => n.name === name);
  const sources = document.getElementById("sources");
  sources.replaceChildren(el("tr", {}, ...["source", "records", "rate", "malformed", "watermark", "lag"].map((h) => el("th", {}, h))));
  for (const s of job.sources) {
    const was = find(before ? before.sources : [], s.name);
    sources.append(el("tr", {}, ...[s.name, s.records, rate(s.records, was && was.records, seconds),
      s.malformed, s.watermark || "–", s.ended ? "ended" : lagOf(s.watermark)].map((v) => el("td", {}, String(v)))));
  }
  const sinks = document.getElementById("sinks");
  sinks.replaceChildren(el("tr", {}, ...["sink", "connector", "records", "rate", "undelivered"].map((h) => el("th", {}, h))));
  for (const s of job.sinks) {
    const was = find(before ? before.sinks : [], s.name);
    sinks.append(el("tr", {}, ...[s.name, s.connector, s.records, rate(s.records, was && was.records, seconds),
      s.undelivered].map((v) => el("td", {}, String(v)))));
  }
}

async function drawLatest(job) {
  const latest = document.getElementById("latest");
  const blocks = [];
  for (const s of job.sinks.filter((s) => s.connector === "state")) {
    const page = await (await fetch(`/api/state/${encodeURIComponent(s.name)}?limit=10`)).json();
    const lines = (page.records || []).map((r) => JSON.stringify(r.record)).join("\n");
    blocks.push(el("h3", {}, s.name), el("pre", { "data-state": s.name }, lines || "(empty)"));
  }
  latest.replaceChildren(...blocks);
}

function openChart(config) {
  const box = el("div", { class: "chart", "data-sink": config.sink });
  box.append(el("div", {}, `${config.sink}: ${config.y} by ${config.x}${config.series ? ` per ${config.series}` : ""}`));
  document.getElementById("charts").append(box);
  const chart = { config, series: new Map(), plot: null, el: box, dirty: false };
  charts[config.sink] = chart;
  const stream = new EventSource(`/api/stream/${encodeURIComponent(config.sink)}`);
  stream.addEventListener("point", (event) => {
    const p = JSON.parse(event.data);
    const points = chart.series.get(p.series) || [];
    const end = points[points.length - 1];
    if (end && end[0] === p.x) end[1] = p.y; // a window that fired again
    else points.push([p.x, p.y]);
    chart.series.set(p.series, points);
    chart.dirty = true;
  });
}

function openTable(live) {
  const box = el("div", { class: "live", "data-live": live.sink });
  document.getElementById("live").append(box);
  const table = { records: [], el: box, dirty: true };
  tables[live.sink] = table;
  const stream = new EventSource(`/api/stream/${encodeURIComponent(live.sink)}`);
  stream.addEventListener("record", (event) => {
    table.records.push(JSON.parse(event.data));
    if (table.records.length > TABLE_ROWS) table.records.shift();
    table.dirty = true;
  });
}

/** The latest records of a live sink, newest first, one column per top-level field. */
function redrawTable(sink, table) {
  if (!table.dirty) return;
  table.dirty = false;
  const columns = [...new Set(table.records.flatMap((r) => Object.keys(r)))];
  const cell = (v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v));
  const rows = table.records.slice().reverse().map((r) =>
    el("tr", {}, ...columns.map((c) => el("td", {}, c in r ? cell(r[c]) : ""))));
  const grid = el("table", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c))), ...rows);
  const newest = table.records[table.records.length - 1];
  table.el.setAttribute("data-last", newest ? JSON.stringify(newest) : "");
  table.el.replaceChildren(el("h3", {}, sink), table.records.length ? grid : el("p", {}, "(no records yet)"));
}

function redraw(chart) {
  if (!chart.dirty) return;
  chart.dirty = false;
  const names = [...chart.series.keys()].sort();
  const xs = [...new Set(names.flatMap((n) => chart.series.get(n).map((p) => p[0])))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const data = [xs, ...names.map((n) => {
    const ys = new Array(xs.length).fill(null);
    for (const [x, y] of chart.series.get(n)) ys[at.get(x)] = y;
    return ys;
  })];
  const lastPoints = Object.fromEntries(names.map((n) => [n, last(chart.config.sink, n)]));
  chart.el.setAttribute("data-last", JSON.stringify(lastPoints));
  if (typeof uPlot === "undefined") {
    document.getElementById("no-uplot").hidden = false;
    chart.el.replaceChildren(el("pre", {}, JSON.stringify(lastPoints, null, 1)));
    return;
  }
  const sameSeries = chart.plot && chart.plot.series.length === names.length + 1;
  if (sameSeries) {
    chart.plot.setData(data);
    return;
  }
  if (chart.plot) chart.plot.destroy();
  const bars = chart.config.kind === "bar" ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
  const palette = ["#2456a6", "#c2410c", "#2f7d4f", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
  const opts = {
    width: Math.min(1100, window.innerWidth - 80), height: 300,
    scales: { x: { time: chart.config.x.includes("window") || xs[0] > 1e9 } },
    series: [{}, ...names.map((n, i) => ({ label: n || chart.config.y, stroke: palette[i % palette.length], paths: bars }))],
  };
  chart.plot = new uPlot(opts, data, chart.el);
}

async function tick() {
  try {
    const job = await (await fetch("/api/job")).json();
    const now = performance.now();
    const seconds = previous ? (now - previous.at) / 1000 : 0;
    document.getElementById("summary").textContent =
      `process ${job.process}, ${job.workers} worker(s), up ${job.uptime_seconds.toFixed(0)} s`;
    drawGraph(job, seconds);
    drawTables(job, seconds);
    for (const c of job.charts) if (!charts[c.sink]) openChart(c);
    document.getElementById("no-charts").hidden = job.charts.length > 0;
    for (const l of job.live || []) if (!tables[l.sink]) openTable(l);
    document.getElementById("no-live").hidden = (job.live || []).length > 0;
    await drawLatest(job);
    historyTables(job);
    previous = { job, at: now };
  } catch (e) {
    document.getElementById("summary").textContent = `disconnected (${e.message}): the run may have ended`;
  }
}

// History: the SQL is shown and editable; picking a table writes a query for it.
const history = { plot: null, tables: null };
window.weir.history = history;

function historyTables(job) {
  const lakes = job.sinks.filter((s) => s.connector === "parquet").map((s) => s.name);
  if (history.tables === lakes.join(",")) return;
  history.tables = lakes.join(",");
  document.getElementById("no-lake").hidden = lakes.length > 0;
  document.getElementById("history-form").hidden = lakes.length === 0;
  const select = document.getElementById("history-table");
  select.replaceChildren(...lakes.map((n) => el("option", { value: n }, n)));
  const sql = document.getElementById("history-sql");
  if (!sql.value && lakes.length) sql.value = `SELECT * FROM ${lakes[0]} LIMIT 100`;
}

/** Seconds since the epoch of a time-like answer value, or NaN. */
function seconds(v) {
  if (typeof v !== "string" || !/^\d{4}-\d\d-\d\d/.test(v)) return NaN;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || v.length <= 10 ? v : `${v}Z`) / 1000;
}

/** A chart of the answer: x the first time column, a series per numeric column (or,
 *  with a text column, one per value of it for the first numeric column). */
function drawHistoryChart(answer) {
  const box = document.getElementById("history-chart");
  const { columns, rows } = answer;
  const x = columns.find((c) => rows.length && rows.every((r) => !Number.isNaN(seconds(r[c]))));
  const numeric = columns.filter((c) => c !== x && rows.length && rows.every((r) => typeof r[c] === "number"));
  const key = columns.find((c) => c !== x && rows.length && rows.every((r) => typeof r[c] === "string"));
  box.hidden = !x || numeric.length === 0;
  if (history.plot) { history.plot.destroy(); history.plot = null; }
  if (box.hidden) return;
  const xs = [...new Set(rows.map((r) => seconds(r[x])))].sort((a, b) => a - b);
  const at = new Map(xs.map((v, i) => [v, i]));
  const names = key ? [...new Set(rows.map((r) => r[key]))].sort() : numeric;
  const data = [xs, ...names.map((n) => {
    const ys = new Array(xs.length).fill(null);
    for (const r of rows) if (!key || r[key] === n) ys[at.get(seconds(r[x]))] = key ? r[numeric[0]] : r[n];
    return ys;
  })];
  box.setAttribute("data-series", JSON.stringify(names));
  if (typeof uPlot === "undefined") { box.replaceChildren(el("pre", {}, JSON.stringify(data))); return; }
  box.replaceChildren();
  const palette = ["#2456a6", "#c2410c", "#2f7d4f", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
  history.plot = new uPlot({
    width: Math.min(1100, window.innerWidth - 80), height: 300, scales: { x: { time: true } },
    series: [{}, ...names.map((n, i) => ({ label: key ? `${n} ${numeric[0]}` : n, stroke: palette[i % palette.length] }))],
  }, data, box);
}

async function runHistory(event) {
  if (event) event.preventDefault();
  const status = document.getElementById("history-status");
  const table = document.getElementById("history-rows");
  status.textContent = "running…";
  const response = await fetch("/api/query", { method: "POST", body: document.getElementById("history-sql").value });
  const answer = await response.json();
  history.answer = answer;
  if (!response.ok) {
    status.textContent = `error ${response.status}: ${answer.error}`;
    table.replaceChildren();
    document.getElementById("history-chart").hidden = true;
    return;
  }
  status.textContent = `${answer.rows.length} row(s)${answer.truncated ? " (truncated)" : ""}`;
  table.replaceChildren(el("tr", {}, ...answer.columns.map((c) => el("th", {}, c))),
    ...answer.rows.slice(0, 200).map((r) => el("tr", {}, ...answer.columns.map((c) => el("td", {}, r[c] === undefined ? "" : String(r[c]))))));
  drawHistoryChart(answer);
}

document.getElementById("history-form").addEventListener("submit", runHistory);
document.getElementById("history-table").addEventListener("change", (e) => {
  document.getElementById("history-sql").value = `SELECT * FROM ${e.target.value} LIMIT 100`;
});

tick();
setInterval(tick, 1000);
setInterval(() => {
  Object.values(charts).forEach(redraw);
  Object.entries(tables).forEach(([sink, table]) => redrawTable(sink, table));
}, 500);
