#!/usr/bin/env node
// Daemon memory with a 10^6-card kiosk cache (issue 4, docs/PERFORMANCE.md; goal
// VmRSS ≤ 64 MB): `kbctl roster synth --cards 1000000`, `kbctl publish` (kiosk
// profile), `kbctl import`, then the real kartu-bahagiad from a config file with
// the PN532 emulator behind libnfc, one Chromium page on its WebSocket, and taps
// of cards spread over the roster (each a verified cache lookup). Prints VmRSS and
// VmHWM from /proc/PID/status after start and after the taps.
//
// usage: node tests/bench/daemon_rss.mjs [--cards 1000000] [--picks 5] [--taps-per-card 3] [--no-browser]
//                                       [--prepare-only]
// env:   KB_DAEMON, KBCTL, KB_EMULATOR (default build/e2e or build/dev), KB_CHROMIUM
//        KB_RSS_WORKDIR=DIR  keep/reuse the roster, keys and cache there (the 10^6 build takes minutes)
// Figures are for humans; nothing is asserted.

import { createReadStream, existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import {
  checkBinaries, makeWorkdir, makeSignedCache, encodeCard, kbctl, startEmulator, writeDaemonConfig, startDaemon,
  openBrowser, openKiosk, freePort, waitFor, readProcStatus, UI_DIR,
} from '../e2e/lib/harness.mjs';
import { opt, flag } from './lib/args.mjs';

const CARDS = Number(opt('cards', 1000000));
const PICKS = Number(opt('picks', 5));
const TAPS_PER_CARD = Number(opt('taps-per-card', 3));
const WITH_BROWSER = !flag('no-browser');
const PREPARE_ONLY = flag('prepare-only'); // with KB_RSS_WORKDIR: build the cache, start nothing
const mb = (kb) => (kb / 1024).toFixed(1);

async function timed(label, fn, log) {
  const t0 = performance.now();
  const r = await fn();
  log.push(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

/** Card numbers spread evenly over the roster (column card_no), and the row count. */
async function pickCards(rosterPath, picks) {
  const rl = readline.createInterface({ input: createReadStream(rosterPath), crlfDelay: Infinity });
  let col = -1;
  let rows = 0;
  const all = [];
  for await (const line of rl) {
    if (col < 0) { col = line.replace(/^\uFEFF/, '').split(',').indexOf('card_no'); continue; }
    rows++;
    // card_no is never quoted ([0-9A-Z-]); take every 1000th distinct one to keep memory small.
    if (rows % 1000 === 1) all.push(line.split(',')[col]);
  }
  const step = Math.max(1, Math.floor(all.length / picks));
  const chosen = [];
  for (let i = 0; i < all.length && chosen.length < picks; i += step) if (!chosen.includes(all[i])) chosen.push(all[i]);
  return { chosen, rows };
}

async function main() {
  if (!PREPARE_ONLY) checkBinaries();
  const keep = process.env.KB_RSS_WORKDIR;
  const work = keep ? { dir: path.resolve(keep), remove: async () => {} } : await makeWorkdir('kb-rss-bench-');
  await mkdir(work.dir, { recursive: true });
  const log = [];
  const roster = path.join(work.dir, `roster-${CARDS}.csv`);
  const marker = path.join(work.dir, 'state', 'cache.db');
  let daemon = null; let emulator = null; let browser = null;
  try {
    let data;
    if (keep && existsSync(marker) && existsSync(path.join(work.dir, 'root.json'))) {
      data = { root: path.join(work.dir, 'root.json'), db: marker, state: path.join(work.dir, 'state'),
        cardKey: path.join(work.dir, 'keys', 'card.key') };
      log.push(`reusing the cache in ${work.dir}`);
    } else {
      if (!existsSync(roster)) {
        await timed(`kbctl roster synth --cards ${CARDS}`, () => kbctl(['roster', 'synth', '--cards', String(CARDS), '--seed', '1', '--out', roster]), log);
      }
      data = await timed('keygen + root init + kbctl publish (kiosk) + kbctl import', () => makeSignedCache(work.dir, { rosterPath: roster }), log);
    }
    if (PREPARE_ONLY) {
      for (const line of log) console.log(`- ${line}`);
      return;
    }
    const { chosen, rows } = await pickCards(roster, PICKS);
    const dbSize = (await stat(data.db)).size;

    const link = path.join(work.dir, 'pn532');
    const images = [];
    for (const [i, cardNo] of chosen.entries()) {
      const uid = `04${(0xa00000000000 + i).toString(16)}`;
      images.push({ cardNo, uid, mfd: await encodeCard(work.dir, { cardNo, uid, cardKey: data.cardKey, name: `rss-${i}` }) });
    }

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const config = await writeDaemonConfig(path.join(work.dir, 'kiosk.conf'), {
      listen: `127.0.0.1:${port}`, reader: `pn532_uart:${link}`, root: data.root, state_dir: data.state, db: data.db,
      ui_dir: UI_DIR, removal_timeout_ms: 100, error_timeout_ms: 100, idle_timeout_ms: 3600000, log_level: 'warning',
    });
    emulator = await startEmulator({ link, mfd: images[0].mfd, uid: images[0].uid });
    const t0 = performance.now();
    daemon = await startDaemon(config, baseUrl);
    log.push(`daemon start to healthy /healthz: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'reader ready');
    if (WITH_BROWSER) {
      browser = await openBrowser();
      await openKiosk(await browser.newPage(), baseUrl);
    }
    const atStart = await readProcStatus(daemon.pid);

    const screens = {};
    for (const [i, card] of images.entries()) {
      if (i > 0) {
        // One emulator holds one card: swap it (the daemon sees the reader go and come back).
        await emulator.stop();
        await waitFor(async () => (await daemon.state()).reader.status === 'lost', 'reader lost');
        emulator = await startEmulator({ link, mfd: card.mfd, uid: card.uid });
        await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'reader back', { timeoutMs: 20000 });
        await waitFor(async () => (await daemon.state()).screen === 'idle', 'idle');
      }
      for (let t = 0; t < TAPS_PER_CARD; t++) {
        await emulator.send('insert');
        const s = await waitFor(async () => {
          const st = await daemon.state();
          return st.screen === 'status' || st.screen === 'error' ? st : null;
        }, 'a tap answer', { everyMs: 20 });
        const key = s.screen === 'status' ? `status/${s.tap.verdict}` : `error/${s.error}`;
        screens[key] = (screens[key] ?? 0) + 1;
        await emulator.send('remove');
        await waitFor(async () => (await daemon.state()).screen === 'idle', 'idle after removal');
      }
    }
    await fetch(`${baseUrl}/metrics`).then((r) => r.text());
    const afterTaps = await readProcStatus(daemon.pid);

    console.log(`\n### kartu-bahagiad memory with a ${CARDS.toLocaleString('en')}-card kiosk cache\n`);
    console.log(`roster: ${rows.toLocaleString('en')} rows; cache DB ${(dbSize / 1048576).toFixed(1)} MiB; `
      + `${images.length} cards × ${TAPS_PER_CARD} taps through libnfc + PN532 emulator `
      + `(answers: ${Object.entries(screens).map(([k, v]) => `${k} ×${v}`).join(', ')}); `
      + `${WITH_BROWSER ? 'one Chromium page connected' : 'no browser'}.\n`);
    console.log('| when | VmRSS | VmHWM (peak) | RssAnon | RssFile | goal VmRSS ≤ 64 MB |');
    console.log('|---|---|---|---|---|---|');
    for (const [label, s] of [['after start', atStart], ['after taps', afterTaps]]) {
      console.log(`| ${label} | ${mb(s.VmRSS)} MiB | ${mb(s.VmHWM)} MiB | ${mb(s.RssAnon)} MiB | ${mb(s.RssFile)} MiB | `
        + `${s.VmHWM <= 64 * 1024 ? 'yes (peak too)' : s.VmRSS <= 64 * 1024 ? 'yes (peak above)' : 'no'} |`);
    }
    console.log('');
    for (const line of log) console.log(`- ${line}`);
  } finally {
    await browser?.close().catch(() => {});
    await daemon?.stop().catch(() => {});
    await emulator?.stop().catch(() => {});
    await work.remove();
  }
}

await main();
