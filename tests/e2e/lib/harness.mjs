// Shared harness of the end-to-end test and the kiosk benchmarks: a real signed
// cache made with kbctl, a Kartu Bahagia card image, the PN532 emulator on a pty
// (the daemon talks to it through the real libnfc pn532_uart driver), the real
// kartu-bahagiad started from a config file, and real Chromium.
//
// Every process started here is tracked and killed at the end, also when a test
// fails or the runner is interrupted: nothing may outlive the run.
//
// Environment (ctest sets the first three from the build tree):
//   KB_DAEMON    kartu-bahagiad binary      KBCTL        kbctl binary
//   KB_EMULATOR  pn532-emulator binary      KB_CHROMIUM  browser (default /usr/bin/chromium)
//   KB_NODE_MODULES  where playwright-core lives (default tests/ui/node_modules)
//   KB_KEEP_WORKDIR=1  keep the temporary directory for a post-mortem

import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { REPO_ROOT, UI_ROOT as UI_DIR, SCREENS_DIR } from '../../ui/lib/paths.mjs';

const execFileP = promisify(execFile);

export { REPO_ROOT, UI_DIR, SCREENS_DIR };
export const ORIGINALITY_TEST_KEY = path.join(REPO_ROOT, 'tests/card/data/originality_test.key');
export const ORIGINALITY_TEST_PUB = path.join(REPO_ROOT, 'tests/card/data/originality_test.pub');

function binary(envName, buildRelative) {
  const given = process.env[envName];
  if (given) return path.resolve(REPO_ROOT, given);
  for (const dir of ['build/e2e', 'build/dev']) {
    const p = path.join(REPO_ROOT, dir, buildRelative);
    if (existsSync(p)) return p;
  }
  return path.join(REPO_ROOT, 'build/dev', buildRelative);
}

export const BIN = {
  daemon: binary('KB_DAEMON', 'daemon/bin/kartu-bahagiad/kartu-bahagiad'),
  kbctl: binary('KBCTL', 'daemon/bin/kbctl/kbctl'),
  emulator: binary('KB_EMULATOR', 'tests/support/pn532-emulator'),
};

// playwright-core is installed by the UI tests' package (tests/ui/package.json);
// an ES module cannot find it through NODE_PATH, so resolve it from there.
const NODE_MODULES = process.env.KB_NODE_MODULES ?? path.join(REPO_ROOT, 'tests/ui/node_modules');
const requireUi = createRequire(path.join(NODE_MODULES, '..', 'package.json'));
export const { chromium } = requireUi('playwright-core');

export const CHROMIUM = process.env.KB_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// libnfc must only open the emulator's pty: no scan of real serial ports.
export const LIBNFC_ENV = { LIBNFC_AUTO_SCAN: 'false', LIBNFC_INTRUSIVE_SCAN: 'false', LIBNFC_LOG_LEVEL: '0' };

export function checkBinaries() {
  const missing = Object.entries(BIN).filter(([, p]) => !existsSync(p)).map(([k, p]) => `${k}: ${p}`);
  if (missing.length) throw new Error(`binaries not built (set KB_DAEMON, KBCTL, KB_EMULATOR):\n  ${missing.join('\n  ')}`);
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (set KB_CHROMIUM)`);
}

// ---------------------------------------------------------------------------
// Process bookkeeping: every child is killed on the way out, whatever happens.

const children = new Set();
const tempDirs = new Set(); // removed on the way out too, unless KB_KEEP_WORKDIR=1

function killAllNow() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (process.env.KB_KEEP_WORKDIR === '1') return;
  for (const dir of tempDirs) {
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => { killAllNow(); process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)); });
}

function track(child) {
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => { children.delete(child); resolve({ code, signal }); });
    child.once('error', (err) => { children.delete(child); resolve({ code: null, signal: null, error: err }); });
  });
  return child;
}

async function stopChild(child, { graceMs = 3000 } = {}) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exited;
  child.kill('SIGTERM');
  const done = await Promise.race([child.exited, sleep(graceMs).then(() => null)]);
  if (done) return done;
  child.kill('SIGKILL');
  return child.exited;
}

export { freePort } from '../../ui/lib/daemon.mjs';  // one helper for every browser test

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor(fn, what, { timeoutMs = 15000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------
// Data: keys, trust root, roster, signed cache, card images (all through kbctl).

export async function kbctl(args, { cwd } = {}) {
  try {
    const { stdout } = await execFileP(BIN.kbctl, args, { cwd, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    throw new Error(`kbctl ${args.join(' ')} failed (exit ${err.code}):\n${err.stderr ?? ''}${err.stdout ?? ''}`);
  }
}

export async function makeWorkdir(prefix = 'kb-e2e-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return {
    dir,
    async remove() {
      if (process.env.KB_KEEP_WORKDIR === '1') {
        console.error(`# kept work directory ${dir}`);
        return;
      }
      await rm(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * A small hand-written roster: one card holder covered by JKK, JKM (city budget,
 * Kampung Bahagia activity) and JKN (PBI), and one card with no coverage.
 */
export const ROSTER_CARD = {
  card_no: 'KB-1571-0000042',
  full_name: 'SITI NURHALIZA',
  masked: 'SIT* NUR******', // per word: up to three letters, then one '*' per hidden letter
  nik: '1571024512890001',
  kelurahan: 'Telanaipura',
  rt: '007',
};

export function smallRosterCsv(now = Date.now()) {
  const from = isoDay(now - 200 * 86400e3);
  const to = isoDay(now + 200 * 86400e3);
  const c = ROSTER_CARD;
  const head = 'card_no,card_uid,nik,full_name,birth_date,kecamatan,kelurahan,rt,category,occupation,card_status,'
    + 'program,membership_no,coverage_status,valid_from,valid_to,funder,legal_basis,activity,sk_rt_no';
  const person = `${c.card_no},,${c.nik},${c.full_name},1989-12-05,Telanaipura,${c.kelurahan},${c.rt},pekerja_rentan,ojek online,active`;
  return [
    head,
    `${person},JKK,23051234567,active,${from},${to},APBD Kota Jambi,Perwal Jambi No. 14 Tahun 2025,Gotong royong kebersihan RT,SK-RT007/2025/014`,
    `${person},JKM,23051234567,active,${from},${to},APBD Kota Jambi,Perwal Jambi No. 14 Tahun 2025,,`,
    `${person},JKN,0001234567890,active,${from},${to},APBN (PBI JK),Perpres No. 82 Tahun 2018,,`,
    'KB-1571-0000043,,1571020101700002,BUDI SANTOSO,1970-01-01,Kota Baru,Simpang III Sipin,012,warga,,active,,,,,,,,,',
    '',
  ].join('\n');
}

/**
 * Keys, a DEV trust root, the roster published as a kiosk snapshot and imported
 * into `<dir>/state/cache.db`. `rosterPath` may name an existing roster CSV.
 */
export async function makeSignedCache(dir, { rosterCsv = null, rosterPath = null, expiresDays = 30 } = {}) {
  const keys = path.join(dir, 'keys');
  await mkdir(keys, { recursive: true });
  for (const name of ['root', 'snapshot', 'card']) await kbctl(['keygen', '--out', path.join(keys, name)]);
  const root = path.join(dir, 'root.json');
  await kbctl(['root', 'init', '--out', root, '--expires-days', '60', '--root-key', path.join(keys, 'root.key'),
    '--threshold', '1', '--snapshot-key', path.join(keys, 'snapshot.pub'), '--card-key', path.join(keys, 'card.pub'),
    '--dev']);
  let roster = rosterPath;
  if (!roster) {
    roster = path.join(dir, 'roster.csv');
    await writeFile(roster, rosterCsv ?? smallRosterCsv());
  }
  const bundles = path.join(dir, 'bundles');
  await kbctl(['publish', '--roster', roster, '--root', root, '--key', path.join(keys, 'snapshot.key'), '--serial', '1',
    '--expires-days', String(expiresDays), '--profile', 'kiosk', '--out', bundles]);
  const state = path.join(dir, 'state');
  await mkdir(state, { recursive: true });
  const db = path.join(state, 'cache.db');
  await kbctl(['import', '--db', db, '--root', root, path.join(bundles, 'snapshot-1.kbs')]);
  return { root, db, state, cardKey: path.join(keys, 'card.key'), roster };
}

/** `kbctl card encode`: the NTAG213 image of a personalised card bound to `uid`. */
export async function encodeCard(dir, { cardNo, uid, cardKey, name = null }) {
  const out = path.join(dir, `${name ?? cardNo}.mfd`);
  await kbctl(['card', 'encode', '--card-no', cardNo, '--uid', uid, '--key', cardKey, '--chip', 'ntag213', '--out', out]);
  return out;
}

// ---------------------------------------------------------------------------
// Originality (NXP READ_SIG) with the repository's test key standing in for NXP.

function derToRaw(der) {
  // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s, 16 bytes each.
  let i = 2;
  if (der[1] & 0x80) i = 2 + (der[1] & 0x7f);
  const ints = [];
  for (let k = 0; k < 2; k++) {
    if (der[i] !== 0x02) throw new Error('bad DER signature');
    const len = der[i + 1];
    let v = der.subarray(i + 2, i + 2 + len);
    while (v.length > 16 && v[0] === 0) v = v.subarray(1);
    const padded = Buffer.alloc(16);
    v.copy(padded, 16 - v.length);
    ints.push(padded);
    i += 2 + len;
  }
  return Buffer.concat(ints).toString('hex');
}

/** 64 hex digits: ECDSA(secp128r1) over the raw UID, as an NTAG21x answers READ_SIG. */
export async function originalitySignature(dir, uidHex) {
  const uidFile = path.join(dir, `uid-${uidHex}.bin`);
  await writeFile(uidFile, Buffer.from(uidHex, 'hex'));
  // pkeyutl without -digest signs the bytes as given (no hash), like NXP's scheme.
  const { stdout } = await execFileP('openssl', ['pkeyutl', '-sign', '-inkey', ORIGINALITY_TEST_KEY, '-in', uidFile],
    { encoding: 'buffer' });
  return derToRaw(stdout);
}

/** The test public key as the daemon's `originality_key` (uncompressed point, hex). */
export async function originalityPointHex() {
  const { stdout } = await execFileP('openssl', ['pkey', '-pubin', '-in', ORIGINALITY_TEST_PUB, '-outform', 'DER'],
    { encoding: 'buffer' });
  return stdout.subarray(stdout.length - 33).toString('hex'); // SPKI ends with the BIT STRING's point
}

// ---------------------------------------------------------------------------
// The PN532 emulator: a pty behind `link`, commands on stdin.

export async function startEmulator({ link, mfd, uid, signature = null, throttle = false, withCard = false }) {
  const args = ['--chip', 'ntag213', '--mfd', mfd, '--uid', uid, '--link', link];
  if (signature) args.push('--signature', signature);
  if (throttle) args.push('--throttle');
  if (!withCard) args.push('--no-card');
  const child = track(spawn(BIN.emulator, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d.toString(); });
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-20000); });
  child.stdin.on('error', () => {}); // EPIPE after the emulator quit: the exit is reported instead
  let exit = null;
  child.exited.then((e) => { exit = e; });
  const connstring = await waitFor(() => {
    if (exit) throw new Error(`pn532-emulator exited ${JSON.stringify(exit)}: ${stderr}`);
    const line = stdout.split('\n')[0];
    return stdout.includes('\n') && existsSync(link) ? line.trim() : null;
  }, 'the PN532 emulator to print its connstring', { timeoutMs: 10000, everyMs: 20 });
  return {
    child,
    connstring, // pn532_uart:/dev/pts/N (the daemon uses the stable `link` instead)
    get stderr() { return stderr; },
    /** Writes one command (insert | remove | unplug | quit); resolves once it is handed to the pipe. */
    send(command) {
      return new Promise((resolve, reject) => {
        if (exit) { reject(new Error(`pn532-emulator already exited: ${stderr}`)); return; }
        child.stdin.write(`${command}\n`, (err) => (err ? reject(err) : resolve()));
      });
    },
    async stop() {
      if (!exit) {
        child.stdin.end('quit\n');
        await Promise.race([child.exited, sleep(2000)]);
      }
      return stopChild(child);
    },
  };
}

// ---------------------------------------------------------------------------
// The daemon from a config file (docs/contracts.md §5: kartu-bahagiad --config FILE).

export async function writeDaemonConfig(file, settings) {
  const lines = ['# written by tests/e2e/lib/harness.mjs'];
  // makeSignedCache's roots are DEV roots (root init --dev): the daemon refuses them without this.
  for (const [k, v] of Object.entries({ allow_dev_root: 'true', ...settings })) if (v !== undefined && v !== null) lines.push(`${k} = ${v}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export async function startDaemon(configFile, baseUrl, { env = {} } = {}) {
  const child = track(spawn(BIN.daemon, ['--config', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...LIBNFC_ENV, ...env },
  }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d.toString()).slice(-50000); });
  let exit = null;
  child.exited.then((e) => { exit = e; });
  await waitFor(async () => {
    if (exit) throw new Error(`kartu-bahagiad exited early ${JSON.stringify(exit)}:\n${stderr}`);
    const res = await fetch(`${baseUrl}/healthz`);
    return res.ok;
  }, `kartu-bahagiad healthy at ${baseUrl}/healthz`, { timeoutMs: 60000, everyMs: 100 }).catch(async (err) => {
    await stopChild(child);
    throw new Error(`${err.message}\n--- daemon stderr ---\n${stderr}`);
  });
  return {
    child,
    pid: child.pid,
    baseUrl,
    get stderr() { return stderr; },
    get exit() { return exit; },
    async state() {
      const res = await fetch(`${baseUrl}/api/state`);
      if (!res.ok) throw new Error(`GET /api/state: HTTP ${res.status}`);
      return res.json();
    },
    async metrics() {
      const res = await fetch(`${baseUrl}/metrics`);
      return res.text();
    },
    stop() { return stopChild(child); },
  };
}

// ---------------------------------------------------------------------------
// Chromium with a fresh profile.

export async function openBrowser(viewport = { width: 1080, height: 1920 }) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'kb-e2e-chromium-'));
  tempDirs.add(userDataDir);
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
      page.on('console', (msg) => { if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`); });
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
      tempDirs.delete(userDataDir);
    },
  };
}

export async function waitForScreen(page, screen, { error = null, timeout = 15000 } = {}) {
  const sel = error ? `body[data-screen="${screen}"][data-error="${error}"]` : `body[data-screen="${screen}"]`;
  await page.waitForSelector(sel, { timeout, state: 'attached' });
}

export async function openKiosk(page, baseUrl) {
  await page.goto(baseUrl);
  await page.waitForFunction(() => /^\d+$/.test(document.body.dataset.seq ?? ''), null, { timeout: 15000 });
}

export async function screenshot(page, name) {
  await mkdir(SCREENS_DIR, { recursive: true });
  await page.evaluate(() => document.fonts.ready);
  const file = path.join(SCREENS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------------------
// Small statistics for the benchmarks (figures are for humans, never asserted).

export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
}

export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0], max: s[s.length - 1] };
}

export async function readProcStatus(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number((text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN);
  return { VmRSS: kb('VmRSS'), VmHWM: kb('VmHWM'), RssAnon: kb('RssAnon'), RssFile: kb('RssFile'), VmSize: kb('VmSize') };
}
