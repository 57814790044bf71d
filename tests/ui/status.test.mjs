// Tap → status in real Chromium against the real daemon: masked name, card
// number, one tile per programme, data-age footer, stale banner, reload,
// both orientations, touch targets, text size and accessibility.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, openKiosk, resetKiosk, screenshot, seriousA11yViolations, smallTouchTargets,
  smallestTextPx, screenScrolls, expectedDataAsOf, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk,
  closeCheckedPage,
} from './lib/kiosk.mjs';

describe('status screen', () => {
  let daemon; let browser; let api; let cards; let page; let PROGRAMS;

  before(async () => {
    ({ daemon, api, cards, browser, programs: PROGRAMS } = await startKiosk());
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  it('the demo offers a card for every outcome the UI must show', () => {
    const verdicts = new Set(cards.map((c) => c.expected_verdict));
    for (const v of ['ACTIVE', 'INACTIVE', 'BLOCKED', 'NOT_FOUND']) assert.ok(verdicts.has(v), `demo card with ${v}`);
  });

  for (const [orientation, viewport] of [['portrait', PORTRAIT], ['landscape', LANDSCAPE]]) {
    it(`idle then tap → status with masked name and tiles (${orientation})`, async () => {
      page = await browser.newPage(viewport);
      await openKiosk(page, daemon.baseUrl);
      await waitForScreen(page, 'idle');
      assert.equal(await page.locator('.idle-title').innerText(), 'Tempelkan Kartu Bahagia Anda di sini');
      assert.equal(await page.locator('.tap-picture').count(), 1);
      await screenshot(page, `idle-${orientation}`);
      assert.deepEqual(await smallTouchTargets(page), []);
      if (orientation === 'portrait') assert.deepEqual(await seriousA11yViolations(page), []);

      const card = pickCard(cards, 'ACTIVE');
      await api.tap(card.card_no);
      await waitForScreen(page, 'status');
      const state = await api.state();
      assert.equal(state.screen, 'status');
      const holder = state.tap.card.holder;
      assert.match(holder, /\*/, 'the daemon sends a masked name');
      assert.equal(await page.locator('.holder').innerText(), holder);
      assert.equal(await page.locator('.card-no').innerText(), state.tap.card.card_no);
      assert.equal(state.tap.card.card_no, card.card_no);

      for (const program of PROGRAMS) {
        const tile = page.locator(`.tile[data-program="${program}"]`);
        assert.equal(await tile.count(), 1, `${program} tile`);
        const covered = state.tap.coverages.some((c) => c.program === program && c.active_today);
        assert.equal(await tile.getAttribute('data-covered'), String(covered), `${program} covered`);
      }
      for (const c of state.tap.coverages.filter((x) => x.active_today && PROGRAMS.includes(x.program))) {
        const text = await page.locator(`.tile[data-program="${c.program}"]`).innerText();
        if (c.funder === 'APBD Kota Jambi') assert.match(text, /Iuran dibayar Pemkot Jambi \(APBD\)/);
        if (c.legal_basis) assert.ok(text.includes(c.legal_basis), `${c.program} legal basis`);
      }
      assert.ok(state.data.signed_at, 'the demo cache is signed');
      assert.equal(await page.locator('.data-as-of').innerText(), expectedDataAsOf(state.data.signed_at, 'id'));
      for (const p of PROGRAMS) assert.equal(await page.locator(`[data-action="guidance"][data-program="${p}"]`).count(), 1);
      assert.equal(await page.locator('#screen [data-action="done"]').count(), 1);

      assert.equal(await screenScrolls(page), false, 'status fits without scrolling');
      assert.deepEqual(await smallTouchTargets(page), []);
      assert.ok(await smallestTextPx(page, '#screen') >= 24, 'body text at least 24 px');
      await screenshot(page, `status-${orientation}`);
      if (orientation === 'portrait') assert.deepEqual(await seriousA11yViolations(page), []);

      await page.locator('#screen [data-action="done"]').click();
      await waitForScreen(page, 'idle');
      await api.remove();
    });
  }

  it('a card without active cover shows status with every tile "not covered"', async () => {
    const card = pickCard(cards, 'INACTIVE');
    page = await browser.newPage();
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    for (const program of PROGRAMS) {
      assert.equal(await page.locator(`.tile[data-program="${program}"]`).getAttribute('data-covered'), 'false');
    }
    assert.match(await page.locator('.summary').innerText(), /belum ada perlindungan/);
    await screenshot(page, 'status-inactive');
    await resetKiosk(page, api);
  });

  it('a Kampung Bahagia cover shows its activity, period and SK number', async () => {
    page = await browser.newPage(LANDSCAPE);
    await openKiosk(page, daemon.baseUrl);
    let found = null;
    for (const card of cards.filter((c) => c.expected_verdict === 'ACTIVE')) {
      await api.tap(card.card_no);
      await waitForScreen(page, 'status');
      const state = await api.state();
      found = state.tap?.coverages.find((c) => c.activity && c.sk_rt_no);
      if (found) break;
      await resetKiosk(page, api);
    }
    assert.ok(found, 'no demo card carries a Kampung Bahagia activity');
    const kb = page.locator('.tile-kb').first();
    const text = await kb.innerText();
    assert.ok(text.includes(found.activity));
    assert.ok(text.includes(found.sk_rt_no));
    assert.match(text, /Periode .+ – /);
    await screenshot(page, 'status-kampung-bahagia');
    await resetKiosk(page, api);
  });

  it('stale data shows the amber banner', async () => {
    const card = cards.find((c) => /STALE/i.test(`${c.card_no} ${c.label} ${c.expected_verdict}`));
    assert.ok(card, 'no stale demo card');
    page = await browser.newPage(LANDSCAPE);
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    const state = await api.state();
    assert.equal(state.tap.freshness, 'STALE');
    const banner = page.locator('.banner-amber');
    assert.equal(await banner.count(), 1);
    assert.match(await banner.innerText(), /belum diperbarui|tidak tersambung/);
    assert.equal(await screenScrolls(page), false);
    await screenshot(page, 'status-stale');
    await resetKiosk(page, api);
  });

  it('reload restores the screen from the daemon', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage();
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    const holder = await page.locator('.holder').innerText();
    await page.reload();
    await waitForScreen(page, 'status');
    assert.equal(await page.locator('.holder').innerText(), holder);
    await page.locator(`[data-action="guidance"][data-program="JKM"]`).click();
    await waitForScreen(page, 'guidance');
    await page.reload();
    await waitForScreen(page, 'guidance');
    assert.equal(await page.locator('.guidance').getAttribute('data-program'), 'JKM');
    await resetKiosk(page, api);
  });
});
