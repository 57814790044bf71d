// "Dengarkan" / "Listen": the screen read aloud by the kiosk's own espeak-ng
// (offline), through the real daemon's POST /api/speech, played by Chromium.
// The audio must be real (a WAV of plausible length, not silent, decoded by
// Chromium itself) and the text sent must be only what the screen shows,
// never the holder's name or card number.

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickCard, waitForScreen, openKiosk, resetKiosk, screenshot, PORTRAIT, LANDSCAPE, startKiosk, stopKiosk,
  closeCheckedPage,
} from './lib/kiosk.mjs';

/** Sample rate, length and loudness of a 16-bit PCM WAV, read here independently of the daemon. */
function wavInfo(buf) {
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.toString('ascii', 8, 12), 'WAVE');
  let at = 12;
  let rate = 0; let channels = 0; let bits = 0; let data = null;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(at + 10);
      rate = buf.readUInt32LE(at + 12);
      bits = buf.readUInt16LE(at + 22);
    } else if (id === 'data') {
      data = buf.subarray(at + 8, at + 8 + size);
      break;
    }
    at += 8 + size + (size & 1);
  }
  assert.ok(data, 'a data chunk');
  assert.equal(buf.readUInt32LE(4), buf.length - 8, 'RIFF size is the real size');
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readInt16LE(i) ** 2;
  return { rate, channels, bits, seconds: data.length / 2 / channels / rate, rms: Math.sqrt(sum / (data.length / 2)) };
}

describe('read aloud', () => {
  let daemon; let browser; let api; let cards; let page;

  before(async () => {
    ({ daemon, api, cards, browser } = await startKiosk());
  });
  after(() => stopKiosk({ daemon, browser }));
  afterEach(async () => {
    page = await closeCheckedPage(page);
  });

  const speak = (body) => fetch(`${daemon.baseUrl}/api/speech`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });

  it('the daemon answers a real WAV in the asked language, and typed errors', async () => {
    const id = await speak({ lang: 'id', text: 'Anda terlindungi hari ini. Telepon satu satu dua.' });
    assert.equal(id.status, 200);
    assert.equal(id.headers.get('content-type'), 'audio/wav');
    const idWav = Buffer.from(await id.arrayBuffer());
    const info = wavInfo(idWav);
    assert.deepEqual([info.rate, info.channels, info.bits], [22050, 1, 16]);
    assert.ok(info.seconds > 1.5 && info.seconds < 10, `plausible length: ${info.seconds} s for 7 words`);
    assert.ok(info.rms > 500, `not silent: rms ${info.rms}`);
    const en = Buffer.from(await (await speak({ lang: 'en', text: 'Anda terlindungi hari ini. Telepon satu satu dua.' })).arrayBuffer());
    assert.ok(!en.subarray(44).equals(idWav.subarray(44)), 'another language, another voice');

    for (const [body, status, code] of [
      [{ lang: 'fr', text: 'bonjour' }, 400, 'MALFORMED'],
      [{ lang: 'id', text: '' }, 400, 'MALFORMED'],
      [{ lang: 'id' }, 400, 'MALFORMED'],
      [{ lang: 'id', text: 'a'.repeat(2001) }, 400, 'TOO_LARGE'],
    ]) {
      const res = await speak(body);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 40));
      assert.equal((await res.json()).error, code);
    }
  });

  it('status: "Dengarkan" reads what the screen shows, Chromium plays it, nothing personal is sent', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(PORTRAIT);
    const sent = [];
    page.on('request', (req) => { if (req.url().endsWith('/api/speech')) sent.push(JSON.parse(req.postData())); });
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    const state = await api.state();
    const listen = page.locator('#screen [data-action="listen"]');
    assert.equal(await listen.innerText(), 'Dengarkan');
    await screenshot(page, 'status-listen');
    await listen.click();
    await page.waitForSelector('body[data-speech="playing"]', { timeout: 20000 });
    // Chromium is really playing it: time moves on, and the audio it decoded has sound in it.
    await page.waitForFunction(() => document.getElementById('speech-audio').currentTime > 0.3, null, { timeout: 10000 });
    const decoded = await page.evaluate(async () => {
      const el = document.getElementById('speech-audio');
      const bytes = await (await fetch(el.src)).arrayBuffer();
      const ctx = new OfflineAudioContext(1, 1, 22050);
      const audio = await ctx.decodeAudioData(bytes);
      const samples = audio.getChannelData(0);
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      return { seconds: audio.duration, peak, paused: el.paused };
    });
    assert.equal(decoded.paused, false);
    assert.ok(decoded.seconds > 1, `decoded ${decoded.seconds} s`);
    assert.ok(decoded.peak > 0.05, `peak ${decoded.peak}`);
    assert.equal(await listen.getAttribute('aria-pressed'), 'true');
    assert.equal(await listen.innerText(), 'Berhenti');

    assert.ok(sent.length >= 1);
    const text = sent.map((b) => b.text).join(' ');
    assert.ok(sent.every((b) => b.lang === 'id'));
    assert.match(text, /Anda terlindungi hari ini/);
    assert.match(text, /Jaminan Kecelakaan Kerja/);
    assert.ok(!text.includes(state.tap.card.holder) && !text.includes(state.tap.card.card_no), 'no name, no card number');
    assert.ok(!/\*/.test(text), 'no masked name');

    await listen.click(); // stop
    await page.waitForSelector('body[data-speech="idle"]');
    assert.equal(await page.evaluate(() => document.getElementById('speech-audio').paused), true);
    await resetKiosk(page, api);
  });

  it('guidance in English: "Listen" reads the guidance in the English voice; leaving the screen stops it', async () => {
    const card = pickCard(cards, 'ACTIVE');
    page = await browser.newPage(LANDSCAPE);
    const sent = [];
    page.on('request', (req) => { if (req.url().endsWith('/api/speech')) sent.push(JSON.parse(req.postData())); });
    await openKiosk(page, daemon.baseUrl);
    await api.tap(card.card_no);
    await waitForScreen(page, 'status');
    await page.locator('[data-lang="en"]').click();
    await page.locator('[data-action="guidance"][data-program="JKK"]').click();
    await page.waitForSelector('.guidance .g-main[data-loaded="true"]');
    const listen = page.locator('.g-actions [data-action="listen"]');
    assert.equal(await listen.innerText(), 'Listen');
    await listen.click();
    await page.waitForSelector('body[data-speech="playing"]', { timeout: 20000 });
    assert.ok(sent.every((b) => b.lang === 'en'));
    const text = sent.map((b) => b.text).join(' ');
    assert.match(text, /Work accident/);
    assert.match(text, /2 times 24 hours/, 'read as words, not symbols');
    assert.match(text, /1 1 2/, '112 read digit by digit');
    assert.doesNotMatch(text, /\[\d+\]/, 'no source markers read out');
    await screenshot(page, 'guidance-listen-en-landscape');
    await page.locator('[data-action="back"]').click();
    await waitForScreen(page, 'status');
    await page.waitForSelector('body[data-speech="idle"]');
    await resetKiosk(page, api);
  });
});
