// The kelurahan operator's screen and the footer's honest freshness, in Chromium
// against a real kartu-bahagiad (--config, reader=sim) that syncs from a mirror
// served by this test over HTTP on loopback. The mirror is built with the real
// kbctl (keys, root, signed snapshot, signed timestamp.json); the frozen
// timestamp is the same document re-signed by the timestamp key with an expiry
// in the past, as a mirror that stopped publishing would serve it.
//
// Checked: the footer shows the data's age and the last sync; a failing sync and a
// FREEZE are said in words; a long press on the idle footer opens the PIN pad; a
// wrong PIN is refused, N wrong PINs lock the pad out (the right PIN too); the right
// PIN shows the kiosk's health; "sync now" runs a sync that the state then
// reports; no data-changing action exists; Exit returns to the citizen's screen.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DAEMON_BIN, freePort } from './lib/daemon.mjs';
import { REPO_ROOT, UI_ROOT } from './lib/paths.mjs';
import { openBrowser, PORTRAIT, closeCheckedPage, smallTouchTargets, screenshot, startKiosk, stopKiosk, pickCard, waitForScreen } from './lib/kiosk.mjs';

const KBCTL = path.resolve(REPO_ROOT, process.env.KB_KBCTL ?? 'build/dev/daemon/bin/kbctl/kbctl');
const PIN = '482916';
const MAX_FAILURES = 5; // OperatorGate's default

// nlohmann's dump(): keys sorted, compact (the values here are ASCII).
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
const utc = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('kelurahan operator screen and honest freshness', () => {
  let dir; let mirror; let server; let mirrorMode = 'ok'; let frozen; let requests = 0;
  let daemon; let daemonErr = ''; let baseUrl; let browser; let page;

  const state = async () => (await (await fetch(`${baseUrl}/api/state`)).json());
  const waitState = async (ok, what) => {
    for (let i = 0; i < 300; i++) {
      const s = await state();
      if (ok(s)) return s;
      await sleep(100);
    }
    throw new Error(`state never showed ${what}: ${JSON.stringify((await state()).data)}`);
  };
  const post = (p, body) => fetch(`${baseUrl}${p}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const longPressFooter = async () => {
    const box = await page.locator('.idle .data-footer').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForSelector('[data-operator="pin"]', { timeout: 8000 });
    await page.mouse.up();
  };
  const typePin = async (pin) => {
    for (const d of pin) await page.click(`.op-key[data-key="${d}"]`);
    await page.click('.op-key[data-key="enter"]');
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kb-ui-operator-'));
    const kb = (...args) => execFileSync(KBCTL, args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    await mkdir(path.join(dir, 'state'));
    await mkdir(path.join(dir, 'keys'));
    for (const k of ['root', 'snap', 'card', 'ts']) kb('keygen', '--out', `keys/${k}`);
    kb('root', 'init', '--out', 'keys/root.json', '--expires-days', '365', '--root-key', 'keys/root.key',
      '--threshold', '1', '--snapshot-key', 'keys/snap.pub', '--card-key', 'keys/card.pub', '--timestamp-key', 'keys/ts.pub');
    kb('roster', 'synth', '--cards', '60', '--seed', '3', '--out', 'roster.csv');
    kb('publish', '--roster', 'roster.csv', '--root', 'keys/root.json', '--key', 'keys/snap.key', '--serial', '1',
      '--expires-days', '30', '--profile', 'kiosk', '--out', 'mirror');
    kb('import', '--db', 'state/cache.db', '--root', 'keys/root.json', '--tpm-tcti', 'none', 'mirror/snapshot-1.kbs');
    kb('timestamp', '--root', 'keys/root.json', '--key', 'keys/ts.key', '--dir', 'mirror', '--expires-hours', '6');
    mirror = path.join(dir, 'mirror');
    // The same timestamp, re-signed with signed_at and expires_at in the past: a FREEZE.
    const ts = JSON.parse(await readFile(path.join(mirror, 'timestamp.json'), 'utf8'));
    ts.signed.signed_at = utc(Date.now() - 5 * 3600e3);
    ts.signed.expires_at = utc(Date.now() - 2 * 3600e3);
    const key = createPrivateKey(await readFile(path.join(dir, 'keys/ts.key')));
    ts.signatures = ts.signatures.map((s) => ({ ...s, sig: sign(null, Buffer.from(canonical(ts.signed)), key).toString('base64') }));
    frozen = JSON.stringify(ts);
    const pinHash = execFileSync(KBCTL, ['operator-pin'], { input: `${PIN}\n` }).toString().trim();
    assert.match(pinHash, /^operator_pin_hash = scrypt\$/);

    server = http.createServer(async (req, res) => {
      const name = path.basename(new URL(req.url, 'http://x').pathname);
      if (name === 'timestamp.json') requests += 1;
      if (mirrorMode === 'down') { res.writeHead(500); res.end(); return; }
      if (mirrorMode === 'freeze' && name === 'timestamp.json') { res.writeHead(200); res.end(frozen); return; }
      try {
        const body = await readFile(path.join(mirror, name));
        res.writeHead(200, { 'Content-Length': body.length });
        res.end(body);
      } catch { res.writeHead(404); res.end(); }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    await writeFile(path.join(dir, 'kiosk.conf'), [
      `listen = 127.0.0.1:${port}`, `state_dir = ${dir}/state`, `root = ${dir}/keys/root.json`, 'reader = sim',
      `ui_dir = ${UI_ROOT}`, `mirror = http://127.0.0.1:${server.address().port}/`, 'sync_interval_minutes = 60',
      'tpm_tcti = none', 'idle_timeout_ms = 600000', pinHash, ''].join('\n'));
    daemon = spawn(DAEMON_BIN, ['--config', path.join(dir, 'kiosk.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr.on('data', (d) => { daemonErr = (daemonErr + d).slice(-20000); });
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${baseUrl}/healthz`)).ok) break; } catch { /* not yet */ }
      if (i > 300 || daemon.exitCode !== null) throw new Error(`daemon not healthy:\n${daemonErr}`);
      await sleep(100);
    }
    browser = await openBrowser(PORTRAIT);
    page = await browser.newPage();
    await page.goto(baseUrl);
    await page.waitForSelector('body[data-screen="idle"]');
  });

  after(async () => {
    await browser?.close();
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      for (let i = 0; i < 50 && daemon.exitCode === null; i++) await sleep(100);
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the footer shows the data\'s age and a good sync; a failing sync and a FREEZE in words', async () => {
    const s = await waitState((x) => typeof x.data.last_sync === 'string', 'a first sync');
    assert.equal(s.data.last_sync_error, null);
    assert.equal(typeof s.data.last_sync_attempt, 'string');
    await page.waitForSelector('.idle .data-footer[data-sync="ok"]');
    assert.match(await page.locator('.data-age').innerText(), /lalu$/);
    assert.match(await page.locator('.data-sync').innerText(), /terbaru/);

    mirrorMode = 'down';
    process.kill(daemon.pid, 'SIGHUP'); // sync now, as systemctl reload does
    await waitState((x) => x.data.last_sync_error === 'HTTP_STATUS', 'HTTP_STATUS');
    await page.waitForSelector('.idle .data-footer[data-sync="failing"]');
    const failing = await page.locator('.data-sync').innerText();
    assert.match(failing, /Pembaruan data gagal: pusat data menjawab dengan galat\./);
    assert.match(failing, /Terakhir berhasil: \d/);

    mirrorMode = 'freeze';
    process.kill(daemon.pid, 'SIGHUP');
    const f = await waitState((x) => x.data.last_sync_error === 'FREEZE', 'FREEZE');
    assert.equal(f.data.serial, 1, 'the old data keeps serving');
    await page.waitForSelector('.idle .data-footer[data-sync="freeze"]');
    assert.match(await page.locator('.data-sync').innerText(), /membeku \(tanda waktunya kedaluwarsa\)/);
    await page.click('button[data-lang="en"]');
    await page.waitForFunction(() => /frozen/.test(document.querySelector('.data-sync')?.textContent ?? ''));
    assert.match(await page.locator('.data-sync').innerText(), /Data update failed: the data source is frozen/);
    await screenshot(page, 'footer-freeze-en');
    await page.click('button[data-lang="id"]');
    mirrorMode = 'ok';
  });

  it('a citizen\'s short tap on the footer opens nothing', async () => {
    await page.click('.idle .data-footer');
    await sleep(300);
    assert.equal(await page.locator('#operator-root .operator').count(), 0);
  });

  it('the right PIN shows the kiosk\'s health; "sync now" runs a sync the state reports; nothing changes data', async () => {
    // A stick with a tampered bundle, imported by the command the USB unit runs: refused.
    const stick = path.join(dir, 'stick');
    await mkdir(stick);
    const bundle = await readFile(path.join(mirror, 'snapshot-1.kbs'));
    bundle[bundle.length - 10] ^= 0x40;
    await writeFile(path.join(stick, 'snapshot-2.kbs'), bundle);
    assert.throws(() => execFileSync(KBCTL, ['import-usb', '--db', `${dir}/state/cache.db`, '--root', `${dir}/keys/root.json`,
      '--tpm-tcti', 'none', stick], { stdio: 'pipe' }));

    const before = await state();
    assert.equal(before.data.last_sync_error, 'FREEZE');
    await longPressFooter();
    await typePin(PIN);
    await page.waitForSelector('[data-operator="health"]');
    const row = (name) => page.locator(`[data-row="${name}"] dd`).innerText();
    assert.equal(await row('reader'), 'siap');
    assert.match(await row('data'), /^nomor 1 · \d.* WIB · \d+ (menit|jam) · terkini$/);
    assert.match(await row('sync_error'), /^FREEZE · sumber data membeku/);
    assert.match(await row('disk'), /GB bebas dari .* GB/);
    assert.match(await row('usb'), /^ditolak · [A-Z_]+ · \d/);
    assert.deepEqual(await smallTouchTargets(page), [], 'buttons are large touch targets');
    // Only "sync now" and "exit": nothing on this screen changes data, and no such route exists.
    assert.deepEqual(await page.locator('.operator button').evaluateAll((b) => b.map((x) => x.dataset.op)), ['sync', 'exit']);
    for (const route of ['/api/operator/import', '/api/operator/config', '/api/import', '/api/operator/pin']) {
      assert.equal((await post(route, { token: 'x' })).status, 404, route);
    }
    assert.equal((await post('/api/operator/sync', { token: 'not-a-session' })).status, 401);
    await screenshot(page, 'operator-health-id');

    const timestampRequests = requests;
    await page.click('[data-op="sync"]');
    await page.waitForSelector('[data-note="operator.sync_requested"]');
    const after = await waitState((x) => x.data.last_sync_error === null, 'the sync now succeeding');
    assert.ok(requests > timestampRequests, 'the mirror was asked');
    assert.equal(after.data.usb_import.outcome, 'refused');
    assert.equal(after.data.serial, 1);
    await page.waitForFunction(() => document.querySelector('[data-row="sync_error"] dd')?.textContent === 'tidak ada');
    await page.click('button[data-lang="en"]');
    await page.waitForFunction(() => document.querySelector('[data-row="reader"] dd')?.textContent === 'ready');
    assert.match(await row('data'), /^serial 1 · .* · \d+ (minutes?|hours?) · up to date$/);
    await page.click('button[data-lang="id"]');
    await page.click('[data-op="exit"]');
    await page.waitForSelector('body[data-screen="idle"]:not([data-operator])');
    await page.waitForSelector('.idle .data-footer[data-sync="ok"]');
  });

  it('wrong PINs are refused, then the pad locks out even the right PIN', async () => {
    await longPressFooter();
    assert.deepEqual(await smallTouchTargets(page), [], 'keys are large touch targets');
    await typePin('000000');
    await page.waitForSelector('.op-message[data-code="WRONG_PIN"]');
    assert.match(await page.locator('.op-message').innerText(), /PIN salah\. Sisa percobaan: 4\./);
    for (let i = 2; i < MAX_FAILURES; i++) {
      await typePin(`11111${i}`);
      await page.waitForFunction((n) => document.querySelector('.op-message')?.textContent.includes(`: ${n}.`), MAX_FAILURES - i);
    }
    await typePin('999999');
    await page.waitForSelector('.op-message[data-code="LOCKED_OUT"]');
    assert.match(await page.locator('.op-message').innerText(), /Terlalu banyak PIN salah\. Coba lagi dalam 5 menit\./);
    await typePin(PIN); // locked: the right PIN is refused too
    await page.waitForSelector('.op-message[data-code="LOCKED_OUT"]');
    assert.equal(await page.locator('[data-operator="health"]').count(), 0);
    const api = await post('/api/operator/login', { pin: PIN });
    assert.equal(api.status, 429);
    assert.ok(Number(api.headers.get('retry-after')) > 0);
    await page.click('.op-exit');
    await page.waitForSelector('body[data-screen="idle"]:not([data-operator])');
    page = await closeCheckedPage(page, /status of (401|404|429)/);
  });
});

describe('kelurahan operator: a citizen\'s card takes the screen back (demo daemon, no mirror)', () => {
  let daemon; let browser; let api; let cards; let page;

  before(async () => {
    const line = execFileSync(KBCTL, ['operator-pin'], { input: `${PIN}\n` }).toString().trim();
    const hash = line.replace(/^operator_pin_hash = /, '');
    ({ daemon, browser, api, cards } = await startKiosk({ daemonArgs: ['--set', `operator_pin_hash=${hash}`] }));
    page = await browser.newPage();
    await page.goto(daemon.baseUrl);
    await page.waitForSelector('body[data-screen="idle"]');
  });
  after(() => stopKiosk({ daemon, browser }));

  it('a tap closes the operator screen; without a mirror sync now is off', async () => {
    const box = await page.locator('.idle .data-footer').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForSelector('[data-operator="pin"]', { timeout: 8000 });
    await page.mouse.up();
    for (const d of PIN) await page.click(`.op-key[data-key="${d}"]`);
    await page.click('.op-key[data-key="enter"]');
    await page.waitForSelector('[data-operator="health"]');
    assert.equal(await page.locator('[data-op="sync"]').isDisabled(), true, 'no mirror: nothing to sync');
    await api.tap(pickCard(cards, ['ACTIVE']).card_no);
    await waitForScreen(page, 'status');
    await page.waitForSelector('body:not([data-operator])');
    assert.equal(await page.locator('#operator-root .operator').count(), 0);
    await api.remove();
    page = await closeCheckedPage(page, /status of (401|404|429)/);
  });
});
