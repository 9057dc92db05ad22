// What the dashboard's browser tests share: a live `weir run` serving on a free loopback
// port, and Debian's Chromium driven by playwright-core with a fresh profile.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export function fail(message) {
  throw new Error(message);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `weir run PIPE` in `cwd` (a fresh folder by default, so `state` sinks start
 *  empty rather than from an earlier run); `address` resolves with where it serves. */
export function startRun(weirBin, pipe, cwd = mkdtempSync(join(tmpdir(), "weir-run-"))) {
  const run = spawn(resolve(weirBin), ["run", resolve(pipe), "--http", "127.0.0.1:0"],
    { cwd, stdio: ["ignore", "ignore", "pipe"] });
  let seen = "";
  const address = new Promise((resolve, reject) => {
    run.stderr.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/weir: serving http:\/\/([0-9.]+:[0-9]+)\//);
      if (m) resolve(m[1]);
    });
    run.on("exit", (code) => reject(new Error(`weir exited (${code}) before serving:\n${seen}`)));
    setTimeout(() => reject(new Error(`weir never said where it serves:\n${seen}`)), 60000).unref();
  });
  return { run, address, cwd, stderr: () => seen };
}

/** Chromium with a fresh profile folder (playwright's way of passing --user-data-dir);
 *  `close()` closes it and deletes the folder. */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "weir-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  }).catch((e) => {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function json(url) {
  const response = await fetch(url);
  if (!response.ok) fail(`${url}: ${response.status}`);
  return response.json();
}
