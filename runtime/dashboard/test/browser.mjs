// The dashboard in a real browser: Debian's Chromium driven by playwright-core opens the
// dashboard of a live `weir run`, checks that the job graph names every operator, that
// each chart's last drawn point equals the chart sink's last record and that each live
// sink's table shows the newest record its stream carries, and saves a screenshot.
//
//   node runtime/dashboard/test/browser.mjs WEIR_BINARY EXAMPLE.pipe SCREENSHOT.png
import { fail, json, openBrowser, sleep, startRun } from "./live_run.mjs";

const [weirBin, example, screenshot] = process.argv.slice(2);
if (!weirBin || !example || !screenshot) {
  console.error("usage: browser.mjs WEIR_BINARY EXAMPLE.pipe SCREENSHOT.png");
  process.exit(2);
}

/** The records a live sink keeps for a new viewer: the `data:` of the events its stream
 * sends at once (read until the stream is quiet for a moment). */
async function keptRecords(url) {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  if (!response.ok) fail(`${url}: ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const quiet = sleep(300).then(() => null);
    const chunk = await Promise.race([reader.read(), quiet]);
    if (chunk === null || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  abort.abort();
  return text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
}

async function main() {
  const { run, address } = startRun(weirBin, example);
  let chromium;
  try {
    const base = `http://${await address}`;
    chromium = await openBrowser();
    const page = await chromium.browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/`);

    // The graph names every operator of the job.
    const job = await json(`${base}/api/job`);
    const operators = [
      ...job.sources.map((s) => s.name),
      ...job.pipelines.flatMap((p) => p.stages.map((s) => (s.startsWith("to ") ? s.slice(3) : s))),
      ...job.sinks.map((s) => s.name),
    ];
    await page.waitForSelector("#graph .pipeline");
    const named = await page.$$eval("#graph [data-operator]", (nodes) => nodes.map((n) => n.dataset.operator));
    for (const op of operators) if (!named.includes(op)) fail(`the graph does not name \`${op}\` (it has ${named})`);
    if (job.charts.length === 0) fail("the example has no chart sink");

    // Each chart's last drawn point is the sink's last record for that series.
    for (const chart of job.charts) {
      // Three points of one series, so the chart (and the screenshot) shows a line.
      await page.waitForFunction((sink) => {
        const c = window.weir.charts[sink];
        return c && [...c.series.values()].some((points) => points.length >= 3);
      }, chart.sink, { timeout: 90000 });
      await page.waitForSelector(`[data-sink="${chart.sink}"] canvas`, { timeout: 10000 });
      let agreed = false;
      for (let attempt = 0; attempt < 20 && !agreed; attempt++) {
        const { points } = await json(`${base}/api/chart/${chart.sink}`);
        const lastPoint = points[points.length - 1];
        const drawn = await page.evaluate(([sink, series]) => window.weir.last(sink, series), [chart.sink, lastPoint.series]);
        agreed = drawn !== null && drawn[0] === lastPoint.x && drawn[1] === lastPoint.y;
        if (!agreed) await sleep(250); // a point in flight between the sink and the page
        else console.log(`chart ${chart.sink}: last point of ${lastPoint.series} = (${lastPoint.x}, ${lastPoint.y}) on the page and in the sink`);
      }
      if (!agreed) fail(`chart ${chart.sink}: the page's last point never matched the sink's`);
    }
    // Each live sink's table shows the newest record the sink's stream carries.
    // Asked again: a sink's feed is listed once the sink has opened.
    const live = (await json(`${base}/api/job`)).live || [];
    if (live.length === 0) fail("the example has no live sink");
    for (const { sink } of live) {
      await page.waitForSelector(`[data-live="${sink}"] table`, { timeout: 90000 });
      let agreed = false;
      for (let attempt = 0; attempt < 20 && !agreed; attempt++) {
        const kept = await keptRecords(`${base}/api/stream/${sink}`);
        const newest = kept[kept.length - 1];
        const shown = await page.$eval(`[data-live="${sink}"]`, (n) => n.dataset.last);
        agreed = newest !== undefined && shown !== "" && JSON.stringify(JSON.parse(shown)) === JSON.stringify(newest);
        if (!agreed) await sleep(250); // a record in flight between the sink and the page
        else console.log(`live ${sink}: newest record ${JSON.stringify(newest)} on the page and in the stream`);
      }
      if (!agreed) fail(`live sink ${sink}: the page's newest record never matched the stream's`);
    }
    await sleep(600); // one redraw after the last check, for the screenshot
    await page.screenshot({ path: screenshot, fullPage: true });
    if (errors.length) fail(`the page raised: ${errors.join("; ")}`);
    console.log(`dashboard ok: ${operators.length} operators named, ${job.charts.length} chart(s), ${live.length} live table(s); screenshot ${screenshot}`);
  } finally {
    if (chromium) await chromium.close();
    run.kill();
  }
}

main().catch((e) => {
  console.error(`browser test failed: ${e.message}`);
  process.exit(1);
});
