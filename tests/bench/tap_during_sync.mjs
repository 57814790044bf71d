#!/usr/bin/env node
// Sync never delays a tap (docs/PERFORMANCE.md "Sync"): tap-to-screen (card placed
// on the PN532 emulator -> status painted in Chromium, through libnfc and the real
// kartu-bahagiad) on an idle kiosk, then while the same kiosk's background sync
// downloads and imports a full N-record snapshot from nginx (TLS, loopback). The
// idle taps are the baseline, in the same run, same daemon, same page. One round
// per sync thread priority (KB_SYNC_PRIORITY), each from the same start.
//
// usage: node tests/bench/tap_during_sync.mjs [--cards 1000000] [--taps 30]
//        [--priorities normal,background]
// env:   KB_DAEMON, KBCTL, KB_EMULATOR (default build/e2e or build/dev), KB_CHROMIUM
// Figures are wall-clock for humans; nothing here is asserted.

import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkBinaries, makeWorkdir, kbctl, encodeCard, originalitySignature, originalityPointHex,
  startEmulator, writeDaemonConfig, startDaemon, openBrowser, openKiosk, waitForScreen, freePort, waitFor,
  summary, UI_DIR,
} from '../e2e/lib/harness.mjs';
import { opt } from './lib/args.mjs';
import { clockOffset, installProbe, tap } from './lib/tap_probe.mjs';

const CARDS = Number(opt('cards', 1000000));
const TAPS = Number(opt('taps', 30));
// KB_SYNC_PRIORITY of the daemon per round: normal (the sync thread in the normal
// class) and background (the default: SCHED_IDLE, I/O class idle).
const PRIORITIES = opt('priorities', 'normal,background').split(',');

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(' ')}: ${err}`))));
  });
}

async function main() {
  checkBinaries();
  const work = await makeWorkdir('kb-tap-sync-');
  const dir = work.dir;
  let browser = null; let daemon = null; let emulator = null; let nginx = null;
  try {
    // Keys and a DEV root with a timestamp key; serial 1 = the small roster (installed),
    // serial 2 = N synthetic records plus the tapped card (published to the mirror later).
    const keys = path.join(dir, 'keys');
    await mkdir(keys, { recursive: true });
    for (const k of ['root', 'snapshot', 'card', 'ts']) await kbctl(['keygen', '--out', path.join(keys, k)]);
    const root = path.join(dir, 'root.json');
    await kbctl(['root', 'init', '--out', root, '--expires-days', '60', '--root-key', path.join(keys, 'root.key'),
      '--threshold', '1', '--snapshot-key', path.join(keys, 'snapshot.pub'), '--card-key', path.join(keys, 'card.pub'),
      '--timestamp-key', path.join(keys, 'ts.pub'), '--dev']);
    // Serial 1: the first rows of the synthetic roster; serial 2: all of it. The tapped
    // card is the first active one (its UID as the roster says).
    const big = path.join(dir, 'r2.csv');
    await kbctl(['roster', 'synth', '--cards', String(CARDS), '--seed', '1', '--out', big]);
    const small = path.join(dir, 'r1.csv');
    await run('sh', ['-c', `head -n 200 '${big}' > '${small}'`]);
    const pickOut = path.join(dir, 'card.txt');
    await run('sh', ['-c', `awk -F, 'NR > 1 && $11 == "active" && $14 == "active" { print $1 " " $2; exit }' '${small}' > '${pickOut}'`]);
    const [cardNo, cardUid] = (await readFile(pickOut, 'utf8')).trim().split(' ');
    const www = path.join(dir, 'www'); const mirror = path.join(www, 'mirror');
    await mkdir(mirror, { recursive: true });
    const publish = (serial, roster, out) => kbctl(['publish', '--roster', roster, '--root', root, '--key',
      path.join(keys, 'snapshot.key'), '--serial', String(serial), '--expires-days', '7', '--profile', 'kiosk', '--out', out]);
    await publish(1, small, mirror);
    const b2 = path.join(dir, 'b2');
    const t0 = performance.now();
    await publish(2, big, b2);
    const publishS = (performance.now() - t0) / 1000;
    const stamp = () => kbctl(['timestamp', '--root', root, '--key', path.join(keys, 'ts.key'), '--dir', mirror, '--expires-hours', '2']);
    await stamp();
    // nginx with TLS on loopback.
    const pki = path.join(dir, 'pki'); await mkdir(pki);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await run('openssl', ['req', '-x509', ...ec, '-keyout', `${pki}/ca.key`, '-out', `${pki}/ca.crt`, '-days', '2', '-subj', '/CN=kb-bench-ca']);
    await run('openssl', ['req', ...ec, '-keyout', `${pki}/server.key`, '-out', `${pki}/server.csr`, '-subj', '/CN=127.0.0.1']);
    await writeFile(`${pki}/san.ext`, 'subjectAltName=IP:127.0.0.1\n');
    await run('openssl', ['x509', '-req', '-in', `${pki}/server.csr`, '-CA', `${pki}/ca.crt`, '-CAkey', `${pki}/ca.key`,
      '-CAcreateserial', '-out', `${pki}/server.crt`, '-days', '2', '-extfile', `${pki}/san.ext`]);
    const ngx = path.join(dir, 'nginx'); await mkdir(path.join(ngx, 'tmp'), { recursive: true });
    const nport = await freePort();
    const user = process.getuid() === 0 ? `user ${(await import('node:os')).userInfo().username};\n` : '';
    await writeFile(path.join(ngx, 'nginx.conf'), `${user}worker_processes 1;\nerror_log ${ngx}/error.log warn;\npid ${ngx}/nginx.pid;\n`
      + `events { worker_connections 64; }\nhttp {\n access_log off;\n client_body_temp_path ${ngx}/tmp/body;\n proxy_temp_path ${ngx}/tmp/proxy;\n`
      + ` fastcgi_temp_path ${ngx}/tmp/fastcgi;\n uwsgi_temp_path ${ngx}/tmp/uwsgi;\n scgi_temp_path ${ngx}/tmp/scgi;\n default_type application/octet-stream;\n`
      + ` server {\n  listen 127.0.0.1:${nport} ssl;\n  ssl_certificate ${pki}/server.crt;\n  ssl_certificate_key ${pki}/server.key;\n  root ${www};\n }\n}\n`);
    nginx = spawn('nginx', ['-p', ngx, '-c', path.join(ngx, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await sleep(300);

    const image = await encodeCard(dir, { cardNo, uid: cardUid, cardKey: path.join(keys, 'card.key') });
    const signature = await originalitySignature(dir, cardUid);
    const point = await originalityPointHex();
    browser = await openBrowser();
    const f = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
    const results = [];
    let failed = false;

    // One round per sync thread priority, each from the same start: a fresh state
    // directory with serial 1 installed, serial 1 on the mirror, a new daemon,
    // emulator and page; idle taps (that round's baseline), then serial 2's full
    // snapshot on the mirror, "sync now", and taps until serial 2 is served.
    for (const priority of PRIORITIES) {
      const state = path.join(dir, `state-${priority}`);
      await mkdir(state, { recursive: true });
      const db = path.join(state, 'cache.db');
      await kbctl(['import', '--db', db, '--root', root, path.join(mirror, 'snapshot-1.kbs')]);
      await rm(path.join(mirror, 'snapshot-2.kbs'), { force: true });
      await stamp();
      const link = path.join(dir, `pn532-${priority}`);
      emulator = await startEmulator({ link, mfd: image, uid: cardUid, signature });
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const config = await writeDaemonConfig(path.join(dir, `kiosk-${priority}.conf`), {
        listen: `127.0.0.1:${port}`, reader: `pn532_uart:${link}`, root, state_dir: state, db, ui_dir: UI_DIR,
        originality_key: point, removal_timeout_ms: 100, idle_timeout_ms: 3600000,
        error_timeout_ms: 100, log_level: 'warning', mirror: `https://127.0.0.1:${nport}/mirror/`,
        mirror_ca: `${pki}/ca.crt`, sync_interval_minutes: 1440,
      });
      daemon = await startDaemon(config, baseUrl, { env: { KB_SYNC_PRIORITY: priority } });
      await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'reader ready');
      await waitFor(async () => (await daemon.state()).data.last_sync, 'the first (current) sync', { timeoutMs: 60000 });
      const page = await browser.newPage();
      await openKiosk(page, baseUrl);
      await waitForScreen(page, 'idle');
      await page.evaluate(installProbe);

      const idle = []; const during = []; const failures = [];
      await tap(page, emulator);  // warm-up
      for (let i = 0; i < TAPS; i++) {
        const r = await tap(page, emulator);
        if (r.screen === 'status') idle.push(r.painted); else failures.push(`idle: ${r.screen}`);
      }
      // The full snapshot on the mirror (no delta from 1), and "sync now".
      await copyFile(path.join(b2, 'snapshot-2.kbs'), path.join(mirror, 'snapshot-2.kbs'));
      await stamp();
      const s0 = performance.now();
      daemon.child.kill('SIGHUP');
      let syncS = null;
      while (performance.now() - s0 < 600000) {
        const before = (await daemon.state()).data.serial;
        if (before === 2) { syncS = (performance.now() - s0) / 1000; break; }
        const r = await tap(page, emulator);
        const after = (await daemon.state()).data.serial;
        if (r.screen !== 'status') failures.push(`during sync: ${r.screen}`);
        else if (after !== 2) during.push(r.painted);  // only taps that ended before the swap
      }
      const off = await clockOffset(page);
      const fix = (v) => v - off.offset;
      results.push({ priority, syncS, off, failures, idle: summary(idle.map(fix)), during: summary(during.map(fix)) });
      if (failures.length) failed = true;
      await page.close().catch(() => {});
      await daemon.stop();
      daemon = null;
      await emulator.stop();
      emulator = null;
    }

    console.log(`\n### Tap-to-screen while the kiosk syncs a full ${CARDS}-record snapshot (nginx, TLS, loopback)\n`);
    console.log(`publish of serial 2: ${publishS.toFixed(1)} s; ${TAPS} idle taps per round after a warm-up tap\n`);
    console.log('| sync thread | sync (SIGHUP → serving serial 2) | idle n | idle median | idle p95 | during n | during median | during p95 | during max | p95 − idle p95 | goal ≤ 10 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of results) {
      const diff = r.during.p95 - r.idle.p95;
      const met = Number.isFinite(diff) ? (diff <= 10 ? 'met' : 'NOT met') : '–';
      console.log(`| ${r.priority} | ${r.syncS === null ? '–' : r.syncS.toFixed(1)} s | ${r.idle.n} | ${f(r.idle.median)} ms | ${f(r.idle.p95)} ms | `
        + `${r.during.n} | ${f(r.during.median)} ms | ${f(r.during.p95)} ms | ${f(r.during.max)} ms | ${f(diff)} ms | ${met} |`);
    }
    for (const r of results) {
      console.log(`- ${r.priority}: clock offset ${r.off.offset.toFixed(2)} ms (rtt ${r.off.rtt.toFixed(2)} ms)`
        + `${r.failures.length ? `; not status: ${r.failures.join(', ')}` : ''}`);
    }
    if (failed) process.exitCode = 1;
  } finally {
    await browser?.close();
    await daemon?.stop();
    await emulator?.stop();
    if (nginx) { nginx.kill('SIGTERM'); await new Promise((r) => { nginx.once('exit', r); setTimeout(r, 3000); }); }
    await work.remove();
  }
}

await main();
