// The dashboard's History section in a real browser, on a weir built with `--features
// sql`: a live run (a followed file of meter readings, examples/data/building_kwh.jsonl,
// into two Parquet lakes that close a file every second) serves the dashboard; the test
// runs the query the page shows, the query the table picker writes, two typed queries
// over a time range and a bad one, and checks that the page's table and chart hold
// exactly the rows `weir query` (the same binary's CLI, on the same lake) answers, that
// the range queries' sums equal a recomputation from the input, and that bad SQL shows
// its error.
//
//   node runtime/dashboard/test/history.mjs WEIR_BINARY_WITH_SQL SCREENSHOT.png
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fail, openBrowser, sleep, startRun } from "./live_run.mjs";

const [weirBin, screenshot] = process.argv.slice(2);
if (!weirBin || !screenshot) {
  console.error("usage: history.mjs WEIR_BINARY_WITH_SQL SCREENSHOT.png");
  process.exit(2);
}
const input = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples/data/building_kwh.jsonl");

// `follow: true` keeps the run (and its server) up once the file is read, and the lakes
// then stop changing, so the page and the CLI see the same files.
const PROGRAM = `source meters = file("meters.jsonl", follow: true) {
  building: string
  kwh:      f64
  ts:       timestamp
  event_time ts
  watermark  bounded 1m
}
sink readings = parquet("lake/readings", partition_by: [date(ts)], rotate: 1s)
sink hourly   = parquet("lake/hourly", rotate: 1s)
pipeline keep { from meters | to readings }
pipeline per_hour {
  from meters
  | key by building
  | window tumbling 1h
  | aggregate kwh = sum(kwh), readings = count()
  | to hourly
}
`;
const HALF_HOUR = 1800;
const RANGE = ["2024-05-01T10:30:00Z", "2024-05-01T12:30:00Z"];
const WHERE_RANGE = `WHERE ts >= TIMESTAMP '${RANGE[0]}' AND ts < TIMESTAMP '${RANGE[1]}'`;
// Per building: a line per building of its first numeric column (kwh, not readings).
const RANGE_SQL = `SELECT date_bin(INTERVAL '30 minutes', ts) AS half_hour, building,
       sum(kwh) AS kwh, count(*) AS readings
FROM readings
${WHERE_RANGE}
GROUP BY 1, 2
ORDER BY 1, 2`;
// No text column: a line per numeric column.
const TOTAL_SQL = `SELECT date_bin(INTERVAL '30 minutes', ts) AS half_hour, sum(kwh) AS kwh, count(*) AS readings
FROM readings ${WHERE_RANGE} GROUP BY 1 ORDER BY 1`;
const BAD_SQL = "SELEC building FROM readings";

/** `weir query SQL program.pipe --format json` in the run's folder: the rows, or null
 *  when it fails (no finished file yet). */
function cliQuery(cwd, sql) {
  const out = spawnSync(resolve(weirBin), ["query", sql, "program.pipe", "--format", "json"],
    { cwd, encoding: "utf8" });
  if (/built without SQL/.test(out.stderr)) fail(`${weirBin} was built without SQL: ${out.stderr.trim()}`);
  if (out.status !== 0) return null;
  return out.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** Seconds since the epoch of an answer's timestamp (UTC when it names no zone). */
function epochSeconds(text) {
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`) / 1000;
}

/** A row as the page's table shows it: each column's value as text. */
const asCells = (columns, row) => columns.map((c) => (row[c] === undefined ? "" : String(row[c])));

/** Waits until both lakes hold everything the run will ever write to them: every
 *  reading, and the hours the final watermark (last reading − 1 minute) closed. */
async function waitForLakes(cwd, readings) {
  const watermark = Math.max(...readings.map((r) => r.ts)) - 60_000;
  const hours = new Set(readings.filter((r) => Math.floor(r.ts / 3_600_000) * 3_600_000 + 3_600_000 <= watermark)
    .map((r) => `${r.building} ${Math.floor(r.ts / 3_600_000)}`)).size;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const raw = cliQuery(cwd, "SELECT count(*) AS n FROM readings");
    const hourly = cliQuery(cwd, "SELECT count(*) AS n FROM hourly");
    if (raw && hourly && raw[0].n === readings.length && hourly[0].n === hours) return;
    if (Date.now() > deadline) fail(`the lakes never held ${readings.length} readings and ${hours} hours: ${JSON.stringify([raw, hourly])}`);
    await sleep(500);
  }
}

/** Presses Run and waits for the page to show the answer; returns the status line and
 *  the table's rows (the header first). */
async function runOnPage(page) {
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/query")),
    page.click("#history-form button[type=submit]"),
  ]);
  await page.waitForFunction(() => document.getElementById("history-status").textContent !== "running…");
  const status = await page.textContent("#history-status");
  const table = await page.$$eval("#history-rows tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  return { status, table };
}

/** The page's table equals the CLI's rows: the same columns, and the same rows (in the
 *  same order when `ordered`, else as a multiset). */
function assertSameRows(what, table, rows, ordered) {
  if (rows.length === 0) fail(`${what}: the CLI answered no rows`);
  const columns = Object.keys(rows[0]);
  if (JSON.stringify(table[0]) !== JSON.stringify(columns)) fail(`${what}: the page's columns ${table[0]} are not the CLI's ${columns}`);
  const key = (cells) => JSON.stringify(cells);
  const shown = table.slice(1).map(key);
  const want = rows.map((r) => key(asCells(columns, r)));
  if (!ordered) { shown.sort(); want.sort(); }
  if (JSON.stringify(shown) !== JSON.stringify(want)) {
    fail(`${what}: the page shows\n${shown.join("\n")}\nbut weir query answers\n${want.join("\n")}`);
  }
  console.log(`${what}: the page's ${shown.length} row(s) of ${columns} equal weir query's`);
}

/** The drawn chart: x the answer's time column `x`; with a text column `key`, a line per
 *  value of it holding each row's first numeric column, else a line per numeric column. */
async function assertChart(page, what, rows, x, key, numeric) {
  await page.waitForSelector("#history-chart:not([hidden]) canvas", { timeout: 10000 });
  const { series, data } = await page.evaluate(() => ({
    series: JSON.parse(document.getElementById("history-chart").dataset.series),
    data: window.weir.history.plot.data,
  }));
  const want = key ? [...new Set(rows.map((r) => r[key]))].sort() : numeric;
  if (JSON.stringify(series) !== JSON.stringify(want)) fail(`${what}: chart series ${series}, want ${want}`);
  const points = rows.flatMap((r) => (key ? [[r[key], r[numeric[0]]]] : numeric.map((n) => [n, r[n]]))
    .map(([line, y]) => ({ line, y, at: r[x] })));
  const drawn = data.slice(1).reduce((n, ys) => n + ys.filter((v) => v !== null).length, 0);
  if (drawn !== points.length) fail(`${what}: the chart draws ${drawn} points, the rows hold ${points.length}`);
  for (const { line, y, at } of points) {
    const i = data[0].indexOf(epochSeconds(at));
    const value = i < 0 ? undefined : data[1 + series.indexOf(line)][i];
    if (value !== y) fail(`${what}: the chart has ${value} on line ${line} at ${at}, weir query ${y}`);
  }
  console.log(`${what}: the chart draws the rows' ${points.length} values in ${series.length} line(s)`);
}

/** The range query recomputed from the input file: [kwh, readings] per "half hour
 *  building" (or per half hour without `byBuilding`). */
function rangeSums(readings, byBuilding) {
  const [from, to] = RANGE.map((t) => Date.parse(t) / 1000);
  const sums = new Map();
  for (const r of readings) {
    const s = r.ts / 1000;
    if (s < from || s >= to) continue;
    const k = `${Math.floor(s / HALF_HOUR) * HALF_HOUR}${byBuilding ? ` ${r.building}` : ""}`;
    const [kwh, n] = sums.get(k) || [0, 0];
    sums.set(k, [kwh + r.kwh, n + 1]);
  }
  return sums;
}

/** Each row of a range query is its half hour's sums in the input, and there is a row
 *  for every half hour (and building) the input has. */
function assertRecomputed(what, rows, byBuilding, readings) {
  const sums = rangeSums(readings, byBuilding);
  if (rows.length !== sums.size) fail(`${what}: ${rows.length} rows, the input gives ${sums.size}`);
  for (const r of rows) {
    const want = sums.get(`${epochSeconds(r.half_hour)}${byBuilding ? ` ${r.building}` : ""}`);
    if (!want || Math.abs(want[0] - r.kwh) > 1e-9 || want[1] !== r.readings) fail(`${what}: row ${JSON.stringify(r)}, the input gives ${want}`);
  }
}

async function main() {
  const cwd = mkdtempSync(join(tmpdir(), "weir-history-"));
  copyFileSync(input, join(cwd, "meters.jsonl"));
  writeFileSync(join(cwd, "program.pipe"), PROGRAM);
  const readings = readFileSync(input, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const { run, address } = startRun(weirBin, join(cwd, "program.pipe"), cwd);
  let chromium;
  try {
    const base = `http://${await address}`;
    await waitForLakes(cwd, readings);
    chromium = await openBrowser();
    const page = await chromium.browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/`);

    // The picker lists both lakes; the query shown is the first one's.
    await page.waitForFunction(() => document.querySelectorAll("#history-table option").length > 0);
    const tables = await page.$$eval("#history-table option", (os) => os.map((o) => o.value));
    if (JSON.stringify(tables) !== JSON.stringify(["readings", "hourly"])) fail(`the table picker lists ${tables}`);
    const shownSql = await page.inputValue("#history-sql");
    if (shownSql !== "SELECT * FROM readings LIMIT 100") fail(`the page shows the query ${JSON.stringify(shownSql)}`);

    // The query as shown: every reading (54 < 100), in no particular order.
    let answer = await runOnPage(page);
    const all = cliQuery(cwd, shownSql);
    if (all.length !== readings.length) fail(`weir query answers ${all.length} rows, the input has ${readings.length}`);
    if (answer.status !== `${all.length} row(s)`) fail(`the page says ${JSON.stringify(answer.status)}`);
    assertSameRows("the shown query", answer.table, all, false);
    await assertChart(page, "the shown query", all, "ts", "building", ["kwh"]);

    // Picking the other lake writes and runs a query for it.
    await page.selectOption("#history-table", "hourly");
    const hourlySql = await page.inputValue("#history-sql");
    if (hourlySql !== "SELECT * FROM hourly LIMIT 100") fail(`picking hourly wrote ${JSON.stringify(hourlySql)}`);
    answer = await runOnPage(page);
    assertSameRows("the picked table", answer.table, cliQuery(cwd, hourlySql), false);

    // Bad SQL: the server's reason on the page, no rows, no chart.
    await page.fill("#history-sql", BAD_SQL);
    answer = await runOnPage(page);
    const reason = await (await fetch(`${base}/api/query`, { method: "POST", body: BAD_SQL })).json();
    if (!reason.error) fail(`POST /api/query of bad SQL answered ${JSON.stringify(reason)}`);
    if (answer.status !== `error 400: ${reason.error}`) fail(`bad SQL: the page says ${JSON.stringify(answer.status)}`);
    if (answer.table.length !== 0) fail(`bad SQL: the page still shows ${answer.table.length} table rows`);
    if (!(await page.$eval("#history-chart", (n) => n.hidden))) fail("bad SQL: the chart is still shown");
    if (cliQuery(cwd, BAD_SQL) !== null) fail("weir query accepted the bad SQL");
    console.log(`bad SQL: the page shows "${answer.status.slice(0, 100)}…"`);

    // Typed queries over a time range: the CLI's rows in order, and the sums the input gives.
    for (const [what, sql, key] of [["the range query", RANGE_SQL, "building"], ["the range totals", TOTAL_SQL, null]]) {
      await page.fill("#history-sql", sql);
      answer = await runOnPage(page);
      const rows = cliQuery(cwd, sql);
      assertSameRows(what, answer.table, rows, true);
      assertRecomputed(what, rows, key !== null, readings);
      await assertChart(page, what, rows, "half_hour", key, ["kwh", "readings"]);
    }
    // The screenshot shows the per-building lines.
    await page.fill("#history-sql", RANGE_SQL);
    await runOnPage(page);
    await sleep(300);
    await page.locator("#history").screenshot({ path: screenshot });
    if (errors.length) fail(`the page raised: ${errors.join("; ")}`);
    console.log(`history ok: 5 queries on the page equal weir query's answers; screenshot ${screenshot}`);
  } finally {
    if (chromium) await chromium.close();
    // The lakes' folder goes once the run has stopped writing to it.
    const exited = run.exitCode !== null || run.signalCode !== null
      ? Promise.resolve() : new Promise((r) => run.once("exit", r));
    run.kill();
    await Promise.race([exited, sleep(10000)]);
    rmSync(cwd, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().catch((e) => {
  console.error(`history test failed: ${e.message}`);
  process.exit(1);
});
