// Static checks of kiosk-ui/: the content files a city editor may change
// without a rebuild, and the no-network-resources rule. No browser needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { UI_ROOT } from './lib/paths.mjs';
import { ERROR_CODES } from './lib/kiosk.mjs';

const LANGS = ['id', 'en'];
const PROGRAMS = ['jkk', 'jkm', 'jkn'];
const readJson = async (...parts) => JSON.parse(await readFile(path.join(UI_ROOT, ...parts), 'utf8'));
const itemText = (item) => (typeof item === 'string' ? item : item.text);

test('i18n files have the same keys and every error screen has a title and a body', async () => {
  const [id, en] = await Promise.all(LANGS.map((l) => readJson('content', 'i18n', `${l}.json`)));
  assert.deepEqual(Object.keys(en).sort(), Object.keys(id).sort());
  for (const dict of [id, en]) {
    for (const code of ERROR_CODES) {
      assert.ok(dict[`error.${code}.title`]?.length > 0, `error.${code}.title`);
      assert.ok(dict[`error.${code}.body`]?.length > 0, `error.${code}.body`);
    }
  }
  assert.equal(id['idle.title'], 'Tempelkan Kartu Bahagia Anda di sini');
  assert.equal(id['tile.funder.APBD Kota Jambi'], 'Dibayar Pemkot Jambi (APBD)');
  assert.equal(id['action.JKK'], 'Saya kecelakaan kerja');
  assert.equal(id['action.JKM'], 'Anggota keluarga meninggal');
  assert.equal(id['action.JKN'], 'Saya sakit');
  // No accusation on the cloned/forged screen: it only sends the citizen to the officer.
  for (const dict of [id, en]) {
    const text = `${dict['error.CANNOT_VERIFY_CARD.title']} ${dict['error.CANNOT_VERIFY_CARD.body']}`.toLowerCase();
    for (const word of ['palsu', 'clone', 'fake', 'forged', 'fraud', 'penipuan', 'kloning']) assert.ok(!text.includes(word), word);
    assert.match(text, /petugas|officer/);
  }
});

for (const lang of LANGS) {
  for (const program of PROGRAMS) {
    test(`guidance ${lang}/${program}.json is complete`, async () => {
      const g = await readJson('content', 'guidance', lang, `${program}.json`);
      assert.equal(g.program, program.toUpperCase());
      assert.ok(g.title);
      for (const key of ['now', 'deadlines', 'documents', 'where', 'pays']) {
        assert.ok(Array.isArray(g.covered[key]) && g.covered[key].length > 0, `covered.${key}`);
      }
      for (const key of ['steps', 'who_can_pay']) {
        assert.ok(Array.isArray(g.not_covered[key]) && g.not_covered[key].length > 0, `not_covered.${key}`);
      }
      assert.ok('notes_bpu' in g);
      assert.equal(g.reviewed_on, '2026-11-21');
      assert.ok(g.sources.length > 0 && g.sources.every((s) => s.title && s.url_or_ref));
      // Figures from the press say "as of" and point at an existing source.
      const all = [...Object.values(g.covered).flat(), ...Object.values(g.not_covered).flat()].filter((x) => typeof x === 'object' && x);
      for (const item of all) {
        assert.ok(item.text && item.as_of, JSON.stringify(item));
        assert.ok(Number.isInteger(item.source) && g.sources[item.source], `source of ${item.text}`);
      }
    });
  }
}

test('guidance carries the claim facts of the programmes', async () => {
  const text = async (lang, p) => JSON.stringify(await readJson('content', 'guidance', lang, `${p}.json`));
  const jkk = await text('id', 'jkk');
  for (const fact of ['2×24 jam', 'tahap I', 'PLKK', 'Rp 5 juta', 'Rp 2 juta', 'Rp 10 juta', 'Rp 20 juta', '1 tahun', '5 tahun',
    'PP 44/2015 jo. PP 82/2019', 'Permenaker 5/2021 jo. Permenaker 1/2025']) assert.ok(jkk.includes(fact), fact);
  const jkm = await text('id', 'jkm');
  for (const fact of ['Rp 42 juta', 'Rp 20 juta', 'Rp 12 juta', 'Rp 10 juta', '2 anak', '3 tahun', 'Lapakasik', '3 hari kerja',
    'KTP ahli waris', 'Kartu Keluarga', 'ahli waris', 'Buku nikah']) assert.ok(jkm.includes(fact), fact);
  const jkn = await text('id', 'jkn');
  for (const fact of ['FKTP', 'puskesmas', 'IGD', 'PBI APBD']) assert.ok(jkn.includes(fact), fact);
  const jkmEn = await text('en', 'jkm');
  assert.ok(jkmEn.includes('Rp 42 million'));
  const jkkEn = await text('en', 'jkk');
  assert.ok(jkkEn.includes('2×24 hours'));
});

test('the UI loads nothing from outside the kiosk', async () => {
  const files = [];
  const walk = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.(html|css|js)$/.test(e.name)) files.push(p);
    }
  };
  await walk(UI_ROOT);
  assert.ok(files.length > 3);
  for (const f of files) {
    const src = await readFile(f, 'utf8');
    // Only the SVG namespace URI may look like a URL.
    const urls = [...src.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg');
    assert.deepEqual(urls, [], path.relative(UI_ROOT, f));
    assert.doesNotMatch(src, /@import\s+url\(|fonts\.googleapis|cdn\./, path.relative(UI_ROOT, f));
  }
});
