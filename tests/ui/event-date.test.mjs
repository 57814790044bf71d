// Guidance judged on the day it happened, not on the day of the tap: ended
// cover asks when and answers for that date (claimable, lapsed, or not
// covered), future cover says when it starts, "not covered" follows the
// holder's category and history, two JKK coverages (city-paid and a Kampung
// Bahagia activity) are worded right. States are replayed into the page over a
// routed WebSocket, built from a real status state of the real daemon; the
// error-screen state fields are checked against the real daemon.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, openKiosk, resetKiosk, screenshot, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk,
  closeCheckedPage, stateAfterTap, openRoutedKiosk,
} from './lib/kiosk.mjs';

const DAY_MS = 86400000;
/** A calendar date in WIB, `days` from today. */
function day(days) {
  return new Date(Date.now() + 7 * 3600 * 1000 + days * DAY_MS).toISOString().slice(0, 10);
}

const CITY = { funder: 'APBD Kota Jambi', legal_basis: 'Perwal Jambi No. 14 Tahun 2025' };
const cover = (program, from, to, extra = {}) => ({
  program, status: 'active', valid_from: day(from), valid_to: day(to), active_today: from <= 0 && to >= 0, ...CITY, ...extra,
});
const ended = (program, from, to, extra = {}) => cover(program, from, to, { status: 'ended', active_today: false, ...extra });

describe('guidance by the date of the event', () => {
  let daemon; let browser; let api; let cards; let statusState; let page;

  before(async () => {
    ({ daemon, api, cards, browser } = await startKiosk());
    statusState = await stateAfterTap(api, pickCard(cards, 'ACTIVE').card_no);
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  /** A status/guidance state for a holder of `category` with `coverages`. */
  function holder(category, coverages, screen = 'status', guidance = null) {
    const s = structuredClone(statusState);
    s.tap.card.category = category;
    s.tap.coverages = coverages;
    s.tap.verdict = coverages.some((c) => c.active_today) ? 'ACTIVE' : 'INACTIVE';
    return { ...s, screen, guidance };
  }

  async function openInjected(viewport, first, lang = 'id') {
    let send; let ready;
    ({ page, send, ready } = await openRoutedKiosk(browser, daemon.baseUrl, viewport));
    await ready;
    if (lang !== 'id') {
      send({ ...first, screen: 'idle', tap: null, guidance: null });
      await waitForScreen(page, 'idle');
      await page.locator(`[data-lang="${lang}"]`).click();
    }
    send(first);
    return send;
  }

  async function guidance(program, state, { viewport = PORTRAIT, lang = 'id' } = {}) {
    const send = await openInjected(viewport, { ...state, screen: 'guidance', guidance: program }, lang);
    await waitForScreen(page, 'guidance');
    await page.waitForSelector(`.guidance[data-program="${program}"] .g-main[data-loaded="true"]`);
    return send;
  }
  const branch = () => page.locator('.guidance').getAttribute('data-branch');
  const statusLine = () => page.locator('.g-status').innerText();
  const mainText = () => page.locator('.g-main').innerText();
  const section = (name) => page.locator(`.g-main [data-section="${name}"]`);

  it('ended city-paid JKK: asks when it happened, then answers for that date', async () => {
    const s = holder('pekerja_rentan', [ended('JKK', -400, -30), ended('JKM', -400, -30)]);
    await guidance('JKK', s);
    assert.equal(await branch(), 'ask');
    assert.match(await statusLine(), /berakhir \d+ \S+ \d{4}\./);
    assert.match(await statusLine(), /Kejadian sebelum tanggal itu masih dapat diklaim/);
    assert.equal(await section('when').count(), 1);
    assert.match(await section('when').innerText(), /Kapan kecelakaan itu terjadi\?/);
    assert.equal(await page.locator('[data-when]').count(), 2);
    assert.equal(await section('steps').count(), 0, 'no "register as BPU" before the answer');
    await screenshot(page, 'guidance-JKK-ended-ask');

    // Inside the ended period: still claimable, with the 5-year limit and the late-report note.
    await page.locator('[data-when="ended-0"]').click();
    assert.equal(await branch(), 'past');
    assert.equal(await page.locator('[data-when="ended-0"]').getAttribute('aria-pressed'), 'true');
    assert.match(await statusLine(), /ditanggung JKK Anda/);
    assert.match(await statusLine(), /5 tahun setelah kecelakaan/);
    assert.match(await statusLine(), /Iuran dibayar Pemkot Jambi \(APBD\)/);
    assert.equal(await page.locator('.g-status').getAttribute('class'), 'g-status is-ok');
    assert.match(await page.locator('.g-past-note').innerText(), /Tetap laporkan sekarang/);
    for (const name of ['now', 'deadlines', 'documents', 'pays', 'special']) assert.equal(await section(name).count(), 1, name);
    assert.match(await section('special').innerText(), /Jasa Raharja/);
    // City-paid informal member: BPU note, but not the wage-earner-only late-report warning.
    assert.equal(await section('notes_bpu').count(), 1);
    assert.doesNotMatch(await mainText(), /tanggungan pemberi kerja/);
    await screenshot(page, 'guidance-JKK-ended-past');

    // At another time: not covered, with the renewal route first and no false promise.
    await page.locator('[data-when="other"]').click();
    assert.equal(await branch(), 'not_covered');
    assert.match(await statusLine(), /tidak terlindungi JKK melalui Kartu Bahagia/);
    const route = await section('route').innerText();
    assert.match(route, /Jalur untuk Pekerja rentan/);
    assert.match(route, /perpanjangan/);
    assert.ok(route.indexOf('perpanjangan') < route.indexOf('UMKM'), 'renewal before the category route');
    assert.match(await page.locator('.g-already').innerText(), /Pendaftaran baru tidak menanggung kecelakaan yang sudah terjadi/);
    assert.match(await section('steps').innerText(), /Rp16\.800\/bulan, tergantung penghasilan/);
    assert.match(await section('who_can_pay').innerText(), /Baznas/);
    await screenshot(page, 'guidance-JKK-ended-other');
  });

  it('an accident in a period that ended more than 5 years ago: the right has lapsed', async () => {
    const s = holder('pekerja_rentan', [ended('JKK', -7 * 365, -6 * 365)]);
    await guidance('JKK', s, { viewport: LANDSCAPE });
    await page.locator('[data-when="ended-0"]').click();
    assert.equal(await branch(), 'lapsed');
    assert.match(await statusLine(), /sudah gugur/);
    assert.equal(await section('pays').count(), 0);
  });

  it('JKM after the cover ended (e.g. the card holder died, then the year ended): heirs can still claim', async () => {
    const s = holder('petugas_keagamaan', [ended('JKK', -300, -10), ended('JKM', -300, -10)]);
    await guidance('JKM', s);
    assert.equal(await branch(), 'ask');
    assert.match(await section('when').innerText(), /Kapan almarhum atau almarhumah meninggal dunia\?/);
    await page.locator('[data-when="ended-0"]').click();
    assert.equal(await branch(), 'past');
    assert.match(await statusLine(), /Ahli waris tetap dapat mengajukan klaim/);
    assert.match(await section('pays').innerText(), /Rp42 juta/);
    assert.match(await section('pays').innerText(), /Ditambah beasiswa/);
    assert.match(await section('documents').innerText(), /Buku tabungan atas nama ahli waris/);
    assert.match(await page.locator('.g-past-note').innerText(), /dicabut karena kematian/);
  });

  it('future cover says when it starts, on the tile and in the guidance', async () => {
    const s = holder('kader', [cover('JKK', 20, 200), cover('JKM', 20, 200)]);
    const send = await openInjected(LANDSCAPE, s);
    await waitForScreen(page, 'status');
    const tile = page.locator('.tile[data-program="JKK"]');
    assert.equal(await tile.getAttribute('data-state'), 'future');
    assert.match(await tile.locator('.tile-state').innerText(), /^Mulai \d+ \S+ \d{4}$/);
    assert.doesNotMatch(await tile.innerText(), /Tidak terlindungi/);
    await screenshot(page, 'status-future-cover-landscape');
    send({ ...s, screen: 'guidance', guidance: 'JKK' });
    await page.waitForSelector('.guidance[data-program="JKK"] .g-main[data-loaded="true"]');
    assert.equal(await branch(), 'future');
    assert.match(await statusLine(), /Perlindungan JKK Anda mulai berlaku \d+ \S+ \d{4}\./);
    assert.match(await page.locator('.g-future').innerText(), /Kecelakaan sebelum .* tidak ditanggung/);
    assert.equal(await section('who_can_pay').count(), 0, 'already registered: no registration advice');
  });

  const ROUTES = {
    pekerja_rentan: /ditetapkan setiap tahun/,
    petugas_keagamaan: /pengurus rumah ibadah/,
    ketua_rt: /selama Anda menjabat/,
    phl: /perangkat daerah tempat Anda bekerja/,
    petugas_syara: /Petugas syara': pendaftaran lewat kelurahan/,
    kader: /Kader PKK dan Posyandu direncanakan/,
    warga: /gotong royong Kampung Bahagia/,
  };
  it('not registered: each category gets its own route, funders are named, "through Kartu Bahagia"', async () => {
    for (const [category, route] of Object.entries(ROUTES)) {
      const s = holder(category, [cover('JKN', -100, 100, { funder: 'APBD Kota Jambi (PBI)', legal_basis: 'Perpres No. 82 Tahun 2018' })]);
      await guidance('JKK', s);
      assert.equal(await branch(), 'not_registered', category);
      assert.match(await statusLine(), /tidak terdaftar JKK melalui Kartu Bahagia/, category);
      assert.match(await section('route').innerText(), route, category);
      assert.doesNotMatch(await section('route').innerText(), /perpanjangan/, `${category}: never had city cover`);
      assert.match(await section('who_can_pay').innerText(), /Baznas/, category);
      assert.match(await section('contacts').innerText(), /175/, category);
      assert.match(await section('complaints').innerText(), /SP4N-LAPOR!/, category);
      page = await closeCheckedPage(page);
    }
  });

  it('two JKK coverages: the city-paid one applies, the activity is mentioned as extra', async () => {
    const kb = {
      activity: 'Gotong royong Kampung Bahagia: semenisasi jalan RT 007', sk_rt_no: 'SK/RT007/KB/2026/004',
      legal_basis: 'Perwal Jambi No. 18 Tahun 2025',
    };
    // The activity ends later than the city-paid cover: it must still not be the headline.
    const s = holder('ketua_rt', [cover('JKK', -200, 30), cover('JKK', -5, 120, kb), cover('JKM', -200, 30)]);
    const send = await guidance('JKK', s, { viewport: LANDSCAPE });
    assert.equal(await branch(), 'covered');
    assert.doesNotMatch(await mainText(), /hanya untuk kegiatan/);
    assert.match(await page.locator('.g-activity').innerText(), /Anda juga terlindungi selama kegiatan Kampung Bahagia/);
    assert.match(await statusLine(), new RegExp(`sampai .*Iuran dibayar Pemkot Jambi \\(APBD\\)`));
    assert.equal(await section('documents').innerText().then((t) => /SK Ketua RT yang memuat nama Anda/.test(t)), false,
      'the SK is a document for activity cover only');
    await screenshot(page, 'guidance-JKK-two-coverages-landscape');

    // Only the activity: then (and only then) "only for the activity", with the SK as a document.
    send({ ...holder('warga', [cover('JKK', -5, 120, kb)]), screen: 'guidance', guidance: 'JKK' });
    await page.waitForFunction(() => /hanya untuk kegiatan/.test(document.querySelector('.g-main')?.innerText ?? ''));
    assert.match(await section('documents').innerText(), /SK Ketua RT yang memuat nama Anda/);
  });

  it('wage earners see the late-report rule, informal members do not', async () => {
    const s = holder('warga', [cover('JKK', -100, 100, { funder: 'Pemberi kerja', legal_basis: '' })]);
    await guidance('JKK', s);
    assert.match(await section('deadlines').innerText(), /tanggungan pemberi kerja/);
    assert.equal(await section('notes_bpu').count(), 0);
    assert.match(await statusLine(), /Iuran dibayar pemberi kerja/);
  });

  it('JKN: not registered through Kartu Bahagia, or lapsed for unpaid contributions', async () => {
    await guidance('JKN', holder('warga', [cover('JKK', -10, 100)]));
    assert.equal(await branch(), 'not_registered');
    assert.match(await statusLine(), /tidak terdaftar JKN melalui Kartu Bahagia/);
    assert.match(await section('now').innerText(), /Mobile JKN/);
    const steps = await section('steps').innerText();
    assert.ok(steps.indexOf('PBI APBD') < steps.indexOf('mandiri'), 'city-paid registration before self-registration');
    assert.match(steps, /DTSEN .*dahulu DTKS/);
    assert.match(steps, /14 hari/);
    assert.doesNotMatch(await mainText(), /49\.212/);
    page = await closeCheckedPage(page);

    await guidance('JKN', holder('warga', [cover('JKN', -300, 60, { status: 'inactive', active_today: false, funder: 'Mandiri' })]));
    assert.equal(await branch(), 'not_covered');
    assert.match(await section('lapsed').innerText(), /tunggakan/);
  });

  it('the question and the answers in English', async () => {
    const s = holder('phl', [ended('JKK', -400, -30)]);
    await guidance('JKK', s, { lang: 'en', viewport: LANDSCAPE });
    assert.match(await section('when').innerText(), /When did the accident happen\?/);
    assert.match(await statusLine(), /ended on/);
    await page.locator('[data-when="other"]').click();
    assert.match(await section('route').innerText(), /city office you work for/);
    assert.match(await page.locator('.g-already').innerText(), /A new registration does not cover an accident that has already happened/);
    await screenshot(page, 'guidance-JKK-ended-en-landscape');
  });

  it('an error screen reports the verdict and the card check, without the holder', async () => {
    page = await browser.newPage(PORTRAIT);
    await openKiosk(page, daemon.baseUrl);
    for (const [cardNo, verdict, check] of [['KB-DEMO-LOST', 'BLOCKED', 'GENUINE'], ['KB-DEMO-CLONED', null, 'CLONED'],
      ['KB-DEMO-NOTFOUND', 'NOT_FOUND', 'GENUINE']]) {
      await api.tap(cardNo);
      await waitForScreen(page, 'error');
      const state = await api.state();
      assert.equal(state.verdict, verdict, cardNo);
      assert.equal(state.card_check, check, cardNo);
      assert.equal(state.tap, null, `${cardNo}: nothing of the holder`);
      assert.ok(!JSON.stringify(state).includes('*'), `${cardNo}: no masked name anywhere`);
      await resetKiosk(page, api);
    }
  });
});
