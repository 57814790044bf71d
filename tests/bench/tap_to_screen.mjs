#!/usr/bin/env node
// Tap-to-screen benchmark (issue 4, docs/PERFORMANCE.md): a Kartu Bahagia card is
// placed on the PN532 emulator (the moment `insert` is written to its stdin) until
// the status screen is painted in real Chromium, through the real libnfc
// pn532_uart driver and the real kartu-bahagiad. Unthrottled and with the
// emulator's 115200 baud wire time; in the same run, `nfc-mfultralight r`
// (libnfc-bin, a full dump, whole process) on the same emulated card as baseline.
//
// Clocks and the probe: tests/bench/lib/tap_probe.mjs.
//
// usage: node tests/bench/tap_to_screen.mjs [--taps 30] [--baseline-runs 10] [--modes unthrottled,115200]
// env:   KB_DAEMON, KBCTL, KB_EMULATOR (binaries; default build/e2e or build/dev), KB_CHROMIUM
// Figures are wall-clock for humans; nothing here is asserted.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  checkBinaries, makeWorkdir, makeSignedCache, encodeCard, originalitySignature, originalityPointHex,
  startEmulator, writeDaemonConfig, startDaemon, openBrowser, openKiosk, waitForScreen, freePort, waitFor,
  summary, ROSTER_CARD, UI_DIR, LIBNFC_ENV,
} from '../e2e/lib/harness.mjs';
import { opt } from './lib/args.mjs';
import { clockOffset, installProbe, tap } from './lib/tap_probe.mjs';

const TAPS = Number(opt('taps', 30));
const BASELINE_RUNS = Number(opt('baseline-runs', 10));
const MODES = opt('modes', 'unthrottled,115200').split(',');
const UID = '04a1b2c3d4e5f6';

function timeProcess(cmd, argv, env) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: 'ignore', env: { ...process.env, ...env } });
    child.on('exit', (code) => resolve(code === 0 ? performance.now() - t0 : null));
    child.on('error', () => resolve(null));
  });
}

async function runMode(mode, ctx) {
  const throttle = mode === '115200';
  const link = path.join(ctx.work.dir, `pn532-${mode}`);
  const emulator = await startEmulator({ link, mfd: ctx.image, uid: UID, signature: ctx.sig, throttle });
  const out = { mode, dom: [], frame: [], painted: [], failures: [], baseline: [], offset: null };
  try {
    await measureTaps(emulator, link, out, ctx);
    // Baseline on the same emulated card once the daemon has let go of the pty.
    await emulator.send('insert');
    const dump = path.join(ctx.work.dir, `dump-${mode}.mfd`);
    for (let i = 0; i < BASELINE_RUNS; i++) {
      const t = await timeProcess('nfc-mfultralight', ['r', dump], { ...LIBNFC_ENV, LIBNFC_DEVICE: `pn532_uart:${link}` });
      if (t === null) out.failures.push('nfc-mfultralight r failed');
      else out.baseline.push(t);
    }
  } finally {
    await emulator.stop();
  }
  return out;
}

async function measureTaps(emulator, link, out, ctx) {
  const { mode } = out;
  let daemon = null;
  let page = null;
  try {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const config = await writeDaemonConfig(path.join(ctx.work.dir, `kiosk-${mode}.conf`), {
      listen: `127.0.0.1:${port}`, reader: `pn532_uart:${link}`, root: ctx.data.root, state_dir: ctx.data.state,
      db: ctx.data.db, ui_dir: UI_DIR, originality_key: ctx.point,
      removal_timeout_ms: 100, idle_timeout_ms: 3600000, error_timeout_ms: 100, log_level: 'warning',
    });
    daemon = await startDaemon(config, baseUrl);
    await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'reader ready');
    page = await ctx.browser.newPage();
    await openKiosk(page, baseUrl);
    await waitForScreen(page, 'idle');
    await page.evaluate(installProbe);

    // One untimed tap warms the page (fonts, layout) and the daemon's cache pages.
    for (let i = -1; i < TAPS; i++) {
      const r = await tap(page, emulator);
      if (i < 0) continue;
      if (r.screen === 'status') {
        out.dom.push(r.dom);
        out.frame.push(r.frame);
        out.painted.push(r.painted);
      } else {
        out.failures.push(`${r.screen}${r.error ? `/${r.error}` : ''}`);
      }
    }
    out.offset = await clockOffset(page);
    for (const key of ['dom', 'frame', 'painted']) out[key] = out[key].map((v) => v - out.offset.offset);
  } finally {
    await page?.close().catch(() => {});
    await daemon?.stop();
  }
}

const f = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');

async function main() {
  checkBinaries();
  const work = await makeWorkdir('kb-tap-bench-');
  let browser = null;
  const results = [];
  try {
    const data = await makeSignedCache(work.dir);
    const image = await encodeCard(work.dir, { cardNo: ROSTER_CARD.card_no, uid: UID, cardKey: data.cardKey });
    const ctx = { work, data, image, sig: await originalitySignature(work.dir, UID), point: await originalityPointHex() };
    browser = await openBrowser();
    ctx.browser = browser;
    for (const mode of MODES) results.push(await runMode(mode, ctx));
  } finally {
    await browser?.close();
    await work.remove();
  }

  const cpu = (await import('node:os')).cpus();
  console.log(`\n### Tap-to-screen (card placed on the PN532 emulator → status painted in Chromium)\n`);
  console.log(`${TAPS} taps per mode after one warm-up tap; NTAG213 Kartu Bahagia card; libnfc pn532_uart; `
    + `kartu-bahagiad --config; Chromium ${CHROMIUM_VERSION ?? ''}; ${cpu.length}× ${cpu[0]?.model ?? '?'}; `
    + `baseline: \`nfc-mfultralight r\` whole process, ${BASELINE_RUNS} runs.\n`);
  console.log('| emulator | tap → DOM updated (median / p95) | tap → frame (median / p95) | **tap → painted (median / p95)** | `nfc-mfultralight r` (median / p95) | goal | met |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const d = summary(r.dom); const fr = summary(r.frame); const p = summary(r.painted); const b = summary(r.baseline);
    const throttled = r.mode === '115200';
    const goal = throttled ? b.median + 50 : 100;
    const goalText = throttled ? `≤ baseline + 50 = ${f(goal)} ms` : '≤ 100 ms';
    const met = p.n ? (p.p95 <= goal ? 'yes (p95)' : p.median <= goal ? 'median only' : 'no') : '–';
    console.log(`| ${throttled ? '115200 baud' : 'unthrottled'} | ${f(d.median)} / ${f(d.p95)} ms | ${f(fr.median)} / ${f(fr.p95)} ms | `
      + `**${f(p.median)} / ${f(p.p95)} ms** | ${f(b.median)} / ${f(b.p95)} ms | ${goalText} | ${met} |`);
  }
  console.log('');
  for (const r of results) {
    const p = summary(r.painted);
    console.log(`- ${r.mode}: n=${p.n}, painted min ${f(p.min)} / max ${f(p.max)} ms; page−node clock offset `
      + `${r.offset ? `${r.offset.offset.toFixed(2)} ms (rtt ${r.offset.rtt.toFixed(2)} ms)` : '–'}`
      + `${r.failures.length ? `; not status: ${r.failures.join(', ')}` : ''}`);
  }
  if (results.some((r) => r.failures.length)) process.exitCode = 1;
}

let CHROMIUM_VERSION = null;
try {
  const { execFileSync } = await import('node:child_process');
  CHROMIUM_VERSION = execFileSync(process.env.KB_CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim().replace(/^Chromium\s+/, '').split(' ')[0];
} catch { /* version is only decoration */ }

await main();
