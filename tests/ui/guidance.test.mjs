// Guidance for the three situations, tailored to the holder's coverage,
// with 112, the QR code (no personal data in it), sources and review date.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UI_ROOT } from './lib/paths.mjs';
import {
  pickCard, waitForScreen, openKiosk, resetKiosk, screenshot, seriousA11yViolations, smallTouchTargets,
  smallestTextPx, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk, closeCheckedPage,
} from './lib/kiosk.mjs';

const readGuidance = async (lang, program) =>
  JSON.parse(await readFile(path.join(UI_ROOT, 'content', 'guidance', lang, `${program.toLowerCase()}.json`), 'utf8'));

async function openGuidance(page, program) {
  await page.locator(`[data-action="guidance"][data-program="${program}"]`).click();
  await waitForScreen(page, 'guidance');
  await page.waitForSelector(`.guidance[data-program="${program}"] .g-main[data-loaded="true"]`);
}

async function qrLoaded(page) {
  const img = page.locator('.qr-img');
  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const el = document.querySelector('.qr-img');
    return el && el.complete;
  });
  return img.evaluate((el) => ({ width: el.naturalWidth, src: el.getAttribute('src') }));
}

describe('guidance screen', () => {
  let daemon; let browser; let api; let cards; let page; let PROGRAMS;

  before(async () => {
    ({ daemon, api, cards, browser, programs: PROGRAMS } = await startKiosk());
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  it('covered holder: what to do now for each situation, 112, QR, sources', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    const state = await api.state();

    for (const program of PROGRAMS) {
      await openGuidance(page, program);
      assert.equal((await api.state()).guidance, program);
      const covered = state.tap.coverages.some((c) => c.program === program && c.active_today);
      assert.equal(await page.locator('.g-status').getAttribute('data-covered'), String(covered));
      const main = page.locator('.g-main');
      if (covered) {
        for (const section of ['now', 'deadlines', 'documents', 'where', 'pays']) {
          assert.equal(await main.locator(`[data-section="${section}"]`).count(), 1, `${program} ${section}`);
        }
        assert.equal(await main.locator('[data-section="steps"]').count(), 0);
      }
      const body = await main.innerText();
      if (covered && program === 'JKK') {
        assert.match(body, /2×24 jam/);
        assert.match(body, /PLKK/);
        assert.match(body, /tahap I/);
      }
      if (covered && program === 'JKM') assert.match(body, /Rp42 juta/);
      if (covered && program === 'JKN') assert.match(body, /FKTP/);
      assert.equal(await page.locator('.call-number').innerText(), '112');
      assert.ok(await main.locator('.g-source-list li').count() > 0, 'sources listed');
      // The date the editors last reviewed this file, as the file says, whichever it is.
      const reviewed = (await readGuidance('id', program)).reviewed_on;
      assert.equal(await main.locator('.g-reviewed').getAttribute('data-reviewed-on'), reviewed);
      assert.match(await main.locator('.g-reviewed').innerText(), /^Terakhir ditinjau \d+ \S+ \d{4}$/);

      const qr = await qrLoaded(page);
      assert.equal(qr.src, `/api/qr/${program}.svg?lang=id`);
      assert.ok(qr.width > 0, 'the QR image loads from the daemon');
      const svg = await (await fetch(`${daemon.baseUrl}${qr.src}`)).text();
      assert.match(svg, /<svg/);
      assert.ok(!svg.includes(state.tap.card.card_no) && !qr.src.includes(state.tap.card.card_no), 'no personal data in the QR');

      assert.deepEqual(await smallTouchTargets(page), []);
      assert.ok(await smallestTextPx(page, '#screen') >= 24);
      await screenshot(page, `guidance-${program}-covered`);
      if (program === 'JKK') assert.deepEqual(await seriousA11yViolations(page), []);

      await page.locator('[data-action="back"]').click();
      await waitForScreen(page, 'status');
    }
    await resetKiosk(page, api);
  });

  it('holder without cover: how to get covered and who can pay', async () => {
    const card = pickCard(cards, 'INACTIVE');
    page = await browser.newPage(LANDSCAPE);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    await openGuidance(page, 'JKK');
    assert.equal(await page.locator('.g-status').getAttribute('data-covered'), 'false');
    // Cover ended 30 days ago: the screen first asks when the accident happened.
    assert.equal(await page.locator('.guidance').getAttribute('data-branch'), 'ask');
    await page.locator('[data-when="other"]').click();
    assert.match(await page.locator('.g-status').innerText(), /tidak terlindungi JKK melalui Kartu Bahagia/);
    const main = page.locator('.g-main');
    assert.equal(await main.locator('[data-section="steps"]').count(), 1);
    assert.equal(await main.locator('[data-section="who_can_pay"]').count(), 1);
    assert.equal(await main.locator('[data-section="pays"]').count(), 0);
    assert.match(await main.locator('[data-section="route"]').innerText(), /Pekerja harian lepas/);
    assert.match(await main.innerText(), /Perwal Jambi No\. 14 Tahun 2025/);
    assert.equal(await page.locator('.call-number').innerText(), '112');
    assert.ok((await qrLoaded(page)).width > 0);
    await screenshot(page, 'guidance-JKK-not-covered-landscape');
    await page.locator('#screen [data-action="done"]').click();
    await waitForScreen(page, 'idle');
    await api.remove();
  });

  it('guidance follows the language switch', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(LANDSCAPE);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    await openGuidance(page, 'JKM');
    await page.locator('[data-lang="en"]').click();
    await page.waitForSelector('.g-main[data-loaded="true"]');
    await page.waitForFunction(() => document.querySelector('.g-title')?.textContent.includes('family member'));
    assert.match(await page.locator('.g-reviewed').innerText(), /^Last reviewed on \d+ \S+ \d{4}$/);
    assert.equal(await page.locator('.qr-img').getAttribute('src'), '/api/qr/JKM.svg?lang=en');
    await screenshot(page, 'guidance-JKM-en-landscape');
    await resetKiosk(page, api);
  });
});
