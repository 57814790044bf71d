// End to end through real parts only: kbctl makes keys, a DEV trust root, a
// signed kiosk cache and a card image; the PN532 emulator holds the card on a
// pty; kartu-bahagiad reads it through the real libnfc pn532_uart driver from
// its config file; real Chromium shows what a citizen would see.
//
//   genuine card placed  → status: masked holder, card number, JKK/JKM/JKN tiles
//   card taken away      → idle after removal_timeout, nothing personal left
//   reader unplugged     → READER_LOST, then idle when a reader is back
//   same image, other UID (a clone) → the calm "cannot verify" screen, nothing personal
//
// Run: node --test tests/e2e/   (KB_DAEMON, KBCTL, KB_EMULATOR name the binaries;
// ctest sets them, see tests/e2e/CMakeLists.txt). Screenshots: test-artifacts/screens/e2e-*.png.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  checkBinaries, makeWorkdir, makeSignedCache, encodeCard, originalitySignature, originalityPointHex,
  startEmulator, writeDaemonConfig, startDaemon, openBrowser, openKiosk, waitForScreen, screenshot,
  freePort, waitFor, ROSTER_CARD, UI_DIR, REPO_ROOT,
} from './lib/harness.mjs';

const GENUINE_UID = '04a1b2c3d4e5f6';
const CLONE_UID = '04c1c2c3c4c5c6';
const REMOVAL_TIMEOUT_MS = 1500;
const PROGRAMS = ['JKK', 'JKM', 'JKN'];

describe('tap through libnfc and the PN532 emulator (e2e)', { timeout: 240000 }, () => {
  let work; let data; let cardImage; let genuineSig; let link; let emulator; let daemon; let browser; let page;
  let baseUrl;

  const bodyText = () => page.evaluate(() => document.body.innerText);
  const diagnostics = () => `\n--- daemon stderr ---\n${daemon?.stderr ?? ''}\n--- emulator stderr ---\n${emulator?.stderr ?? ''}`;

  before(async () => {
    checkBinaries();
    work = await makeWorkdir('kb-e2e-');
    data = await makeSignedCache(work.dir);
    cardImage = await encodeCard(work.dir, { cardNo: ROSTER_CARD.card_no, uid: GENUINE_UID, cardKey: data.cardKey });
    genuineSig = await originalitySignature(work.dir, GENUINE_UID);
    link = path.join(work.dir, 'pn532');
    emulator = await startEmulator({ link, mfd: cardImage, uid: GENUINE_UID, signature: genuineSig });

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const config = await writeDaemonConfig(path.join(work.dir, 'kiosk.conf'), {
      listen: `127.0.0.1:${port}`,
      reader: `pn532_uart:${link}`,
      root: data.root,
      state_dir: data.state,
      db: data.db,
      ui_dir: UI_DIR,
      originality_key: await originalityPointHex(),
      removal_timeout_ms: REMOVAL_TIMEOUT_MS,
      idle_timeout_ms: 120000,
      error_timeout_ms: 60000,
      log_level: 'debug',
    });
    daemon = await startDaemon(config, baseUrl);
    browser = await openBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    // Each step on its own: one failing must not leave the others running.
    await browser?.close().catch(() => {});
    await daemon?.stop().catch(() => {});
    await emulator?.stop().catch(() => {});
    if (daemon) {
      // The daemon's log as an artefact (checked below to hold nothing personal).
      const dir = path.join(REPO_ROOT, 'test-artifacts');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'e2e-daemon.log'), daemon.stderr).catch(() => {});
    }
    await work?.remove().catch(() => {});
  });

  it('the kiosk starts idle with the libnfc reader ready', async () => {
    await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'the reader to be ready',
      { timeoutMs: 15000 }).catch((e) => { throw new Error(e.message + diagnostics()); });
    const state = await daemon.state();
    assert.equal(state.reader.driver, 'libnfc');
    assert.equal(state.screen, 'idle');
    assert.equal(state.demo, false);
    assert.equal(state.data.freshness, 'FRESH');
    assert.equal(state.data.serial, 1);
    await openKiosk(page, baseUrl);
    await waitForScreen(page, 'idle');
    await screenshot(page, 'e2e-idle');
  });

  it('a genuine card placed on the reader shows the masked holder and the coverage tiles', async () => {
    await emulator.send('insert');
    await waitForScreen(page, 'status', { timeout: 15000 }).catch((e) => { throw new Error(e.message + diagnostics()); });

    const state = await daemon.state();
    assert.equal(state.screen, 'status');
    assert.equal(state.tap.card_check, 'GENUINE');
    assert.equal(state.tap.originality, 'VALID', 'READ_SIG went through libnfc and checked against the test key');
    assert.equal(state.tap.verdict, 'ACTIVE');
    assert.equal(state.tap.card.card_no, ROSTER_CARD.card_no);
    assert.equal(state.tap.card.holder, ROSTER_CARD.masked);

    assert.equal(await page.locator('.holder').innerText(), ROSTER_CARD.masked);
    assert.equal(await page.locator('.card-no').innerText(), ROSTER_CARD.card_no);
    const text = await bodyText();
    assert.ok(!text.includes('SITI NURHALIZA') && !text.includes('NURHALIZA'), 'the full name never reaches the kiosk');
    assert.ok(!text.includes(ROSTER_CARD.nik), 'no NIK on screen');
    for (const program of PROGRAMS) {
      const tile = page.locator(`.tile[data-program="${program}"]`);
      assert.equal(await tile.count(), 1, `${program} tile`);
      assert.equal(await tile.getAttribute('data-covered'), 'true', `${program} covered`);
    }
    const jkk = await page.locator('.tile[data-program="JKK"]').innerText();
    assert.match(jkk, /Pemkot Jambi/, 'JKK tile names the city as the payer');
    assert.ok(jkk.includes('Perwal Jambi No. 14 Tahun 2025'), 'JKK tile shows the legal basis');
    await screenshot(page, 'e2e-status');
  });

  it('taking the card away returns to idle after the removal timeout and forgets the person', async () => {
    await emulator.send('remove');
    // Still shown right after removal (the citizen may glance back), idle after the timeout.
    await waitForScreen(page, 'idle', { timeout: REMOVAL_TIMEOUT_MS + 15000 });
    const text = await bodyText();
    assert.ok(!text.includes(ROSTER_CARD.masked) && !text.includes(ROSTER_CARD.card_no), 'nothing personal left on the page');
    assert.equal(await page.locator('.holder').count(), 0);
    const state = await daemon.state();
    assert.equal(state.screen, 'idle');
    assert.equal(state.tap, null);
    await screenshot(page, 'e2e-idle-after-removal');
  });

  it('a reader unplugged shows READER_LOST; a reader plugged back returns to idle', async () => {
    await emulator.stop(); // closes the pty: to libnfc the device is gone
    await waitForScreen(page, 'error', { error: 'READER_LOST', timeout: 15000 })
      .catch((e) => { throw new Error(e.message + diagnostics()); });
    assert.equal((await daemon.state()).reader.status, 'lost');
    await screenshot(page, 'e2e-reader-lost');

    // The "clone": the genuine card's whole memory and originality signature on a chip with another UID.
    emulator = await startEmulator({ link, mfd: cardImage, uid: CLONE_UID, signature: genuineSig });
    await waitFor(async () => (await daemon.state()).reader.status === 'ready', 'the reader to come back',
      { timeoutMs: 20000 }).catch((e) => { throw new Error(e.message + diagnostics()); });
    await waitForScreen(page, 'idle', { timeout: 15000 });
  });

  it('a cloned card (same image, other UID) gets the calm "cannot verify" screen with nothing personal', async () => {
    await emulator.send('insert');
    await waitForScreen(page, 'error', { error: 'CANNOT_VERIFY_CARD', timeout: 15000 })
      .catch((e) => { throw new Error(e.message + diagnostics()); });
    const state = await daemon.state();
    assert.equal(state.error, 'CANNOT_VERIFY_CARD');
    assert.equal(state.tap?.card ?? null, null, 'no card data for a card that cannot be verified');
    const metrics = await daemon.metrics();
    assert.match(metrics, /kb_card_checks_total\{result="CLONED"\} 1\b/, 'the daemon judged it CLONED');
    assert.match(metrics, /kb_card_checks_total\{result="GENUINE"\} 1\b/);
    const text = await bodyText();
    for (const personal of [ROSTER_CARD.masked, ROSTER_CARD.card_no, 'NURHALIZA']) {
      assert.ok(!text.includes(personal), `"${personal}" not on the cannot-verify screen`);
    }
    assert.ok(!/palsu|clone|kloning|fake|fraud/i.test(text), 'no accusation on screen');
    await screenshot(page, 'e2e-cannot-verify');

    await emulator.send('remove');
    await waitForScreen(page, 'idle', { timeout: REMOVAL_TIMEOUT_MS + 15000 });
  });

  it('nothing personal in the daemon log and no script errors on the page', () => {
    const log = daemon.stderr;
    for (const personal of [ROSTER_CARD.card_no, ROSTER_CARD.masked, 'NURHALIZA', ROSTER_CARD.nik, GENUINE_UID, CLONE_UID]) {
      assert.ok(!log.toLowerCase().includes(personal.toLowerCase()), `"${personal}" not in the daemon log`);
    }
    assert.match(log, /card_check=GENUINE/, 'the taps were logged (without personal data)');
    assert.deepEqual(page.problems, []);
  });
});
