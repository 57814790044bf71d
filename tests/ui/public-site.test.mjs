// The public guidance site (build artefact of the `public-site` target, made
// from the same content as the kiosk): every QR code the kiosk shows, decoded
// with zbarimg as a phone would, opens a page that exists in the site, in the
// language asked for; the pages load nothing from anywhere and hold nothing
// personal.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, UI_ROOT } from './lib/paths.mjs';
import { startKiosk, stopKiosk, screenshot } from './lib/kiosk.mjs';

const SITE = path.resolve(REPO_ROOT, process.env.KB_PUBLIC_SITE ?? 'build/dev/public-site');
const PHONE = { width: 390, height: 844 };

/** What a phone camera reads from the kiosk's QR SVG: modules drawn to a PGM, decoded by zbarimg. */
function decodeQr(svg, dir) {
  const n = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  assert.ok(n > 0 && n < 200, 'a square QR');
  const scale = 8;
  const px = Buffer.alloc(n * scale * n * scale, 255);
  for (const m of svg.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    const [x, y] = [Number(m[1]), Number(m[2])];
    for (let dy = 0; dy < scale; dy++) px.fill(0, ((y * scale + dy) * n + x) * scale, ((y * scale + dy) * n + x + 1) * scale);
  }
  const file = path.join(dir, 'qr.pgm');
  writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${n * scale} ${n * scale}\n255\n`), px]));
  return execFileSync('zbarimg', ['--quiet', '--raw', file], { encoding: 'utf8' }).trim();
}

describe('public guidance site', () => {
  let kiosk; let tmp;

  before(async () => {
    assert.ok(existsSync(path.join(SITE, 'index.html')), `${SITE} missing: build the public-site target`);
    kiosk = await startKiosk();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'kb-public-site-'));
  });
  after(async () => {
    await stopKiosk(kiosk ?? {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('every QR target of the kiosk exists in the site, in its language', async () => {
    const state = await kiosk.api.state();
    const base = state.public_guidance_url;
    assert.ok(base, 'the kiosk has a public_guidance_url');
    for (const program of kiosk.programs) {
      for (const lang of ['id', 'en']) {
        const svg = await (await fetch(`${kiosk.daemon.baseUrl}/api/qr/${program}.svg?lang=${lang}`)).text();
        const url = decodeQr(svg, tmp);
        assert.ok(url.startsWith(`${base}/`), `${url} is under ${base}`);
        const target = new URL(url);
        assert.equal(target.searchParams.get('lang'), lang);
        const rel = url.slice(base.length + 1).split('?')[0];
        assert.match(rel, /^[a-z]+$/, 'one page per programme');
        // Any static host: <base>/jkk served as jkk/index.html or as jkk.html.
        for (const file of [path.join(SITE, rel, 'index.html'), path.join(SITE, `${rel}.html`)]) {
          assert.ok(existsSync(file), `${url} -> ${path.relative(SITE, file)}`);
          const html = readFileSync(file, 'utf8');
          assert.match(html, new RegExp(`<section lang="${lang}" id="${lang}">`), `${file} has the ${lang} text`);
        }
      }
    }
  });

  it('made from the kiosk content: titles, figures, sources and review date of each language', () => {
    for (const program of kiosk.programs) {
      const html = readFileSync(path.join(SITE, program.toLowerCase(), 'index.html'), 'utf8');
      for (const lang of ['id', 'en']) {
        const g = JSON.parse(readFileSync(path.join(UI_ROOT, 'content', 'guidance', lang, `${program.toLowerCase()}.json`), 'utf8'));
        const escaped = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
        assert.ok(html.includes(escaped(g.title)), `${program} ${lang} title`);
        for (const s of g.sources) assert.ok(html.includes(escaped(s.title)), `${program} ${lang} source ${s.title}`);
        assert.ok(html.includes(g.reviewed_on), `${program} ${lang} reviewed_on`);
        const first = g.covered.pays.find((x) => typeof x === 'object');
        if (first) assert.ok(html.includes(escaped(first.text)), `${program} ${lang} ${first.text}`);
      }
    }
  });

  it('nothing personal, nothing loaded from elsewhere', async () => {
    const cards = await kiosk.api.cards();
    for (const file of readdirSync(SITE, { recursive: true }).filter((f) => f.endsWith('.html'))) {
      const html = readFileSync(path.join(SITE, file), 'utf8');
      assert.doesNotMatch(html, /\b\d{16}\b/, `${file}: no NIK`);
      for (const c of cards) assert.ok(!html.includes(c.card_no), `${file}: no card number`);
      assert.doesNotMatch(html, /\b(?:src|href)=["']?(?:https?:)?\/\//i, `${file}: no external resource or link`);
      assert.doesNotMatch(html, /<(?:link|img|iframe|object|embed)\b/i, `${file}: self-contained`);
    }
  });

  it('a phone opens the page in the language of the QR code', async () => {
    const page = await kiosk.browser.newPage(PHONE);
    const outside = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue();
      outside.push(route.request().url());
      return route.abort();
    });
    for (const [program, lang, other] of [['jkk', 'id', 'en'], ['jkm', 'en', 'id'], ['jkn', 'id', 'en']]) {
      await page.goto(`${pathToFileURL(path.join(SITE, program, 'index.html')).href}?lang=${lang}`);
      assert.equal(await page.locator(`section#${lang}`).isVisible(), true, `${program}: ${lang} shown`);
      assert.equal(await page.locator(`section#${other}`).isVisible(), false, `${program}: ${other} hidden`);
      assert.match(await page.locator(`section#${lang} .call`).innerText(), /112/);
      await screenshot(page, `public-${program}-${lang}-phone`);
    }
    assert.deepEqual(outside, []);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
