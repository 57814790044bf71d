// Static checks of kiosk-ui/: the content files a city editor may change
// without a rebuild, and the no-network-resources rule. No browser needed; the
// domain's lists (programmes, categories, statuses) are the real daemon's
// GET /api/schema, from one short --demo run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { UI_ROOT } from './lib/paths.mjs';
import { ERROR_CODES } from './lib/kiosk.mjs';
import { daemonSchema } from './lib/daemon.mjs';

const LANGS = ['id', 'en'];
const SCHEMA = await daemonSchema();
// The programmes the kiosk explains, as their content files are named.
const PROGRAMS = SCHEMA.guidance_programs.map((p) => p.toLowerCase());
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
  assert.equal(id['tile.funder.apbd'], 'Iuran dibayar Pemkot Jambi (APBD)');
  assert.equal(id['action.JKK'], 'Saya mengalami kecelakaan kerja');
  assert.equal(id['action.JKM'], 'Anggota keluarga meninggal');
  assert.equal(id['action.JKN'], 'Saya sakit');
  // "Huruf besar" means capital letters; the switch makes the text bigger.
  assert.equal(id['pref.large'], 'Perbesar tulisan');
  assert.match(id['tile.legal_basis'], /^Dasar hukum: /);
  assert.match(id['guidance.reviewed_on'], /^Terakhir ditinjau /);
  for (const [key, value] of Object.entries(id)) {
    assert.doesNotMatch(value, /Tanyakan petugas|tanyakan petugas/, `${key}: "tanyakan kepada petugas"`);
  }
  // No accusation on the cloned/forged screen: it only sends the citizen to the officer.
  for (const dict of [id, en]) {
    const text = `${dict['error.CANNOT_VERIFY_CARD.title']} ${dict['error.CANNOT_VERIFY_CARD.body']}`.toLowerCase();
    for (const word of ['palsu', 'clone', 'fake', 'forged', 'fraud', 'penipuan', 'kloning']) assert.ok(!text.includes(word), word);
    assert.match(text, /petugas|officer/);
  }
});

test('every code in the daemon\'s schema has its texts in both languages, and no text names a code outside it', async () => {
  for (const lang of LANGS) {
    const dict = await readJson('content', 'i18n', `${lang}.json`);
    const keyed = [
      ...SCHEMA.programs.flatMap((p) => [`program.${p}`, `program.agency.${p}`]),
      ...SCHEMA.guidance_programs.map((p) => `action.${p}`),
      ...SCHEMA.categories.map((c) => `category.${c}`),
      ...SCHEMA.card_statuses.map((c) => `card_status.${c}`),
    ];
    for (const key of keyed) assert.ok(dict[key]?.length > 0, `${lang}: ${key}`);
    // A text for a code the daemon does not know would be a list of the UI's own.
    const known = new Set(keyed);
    const stray = Object.keys(dict).filter((k) => /^(?:(?:program(?:\.agency)?|action)\.[A-Z]+|(?:category|card_status)\.[a-z_]+)$/.test(k)
      && !known.has(k));
    assert.deepEqual(stray, [], `${lang}: texts for codes outside the schema`);
  }
  for (const lang of LANGS) {
    for (const program of PROGRAMS) {
      const routes = (await readJson('content', 'guidance', lang, `${program}.json`)).not_covered?.routes ?? {};
      const strange = Object.keys(routes).filter((k) => k !== 'renewal' && !SCHEMA.categories.includes(k));
      assert.deepEqual(strange, [], `${lang}/${program}.json: routes for categories outside the schema`);
    }
  }
});

test('the UI code repeats none of the schema\'s lists', async () => {
  const dir = path.join(UI_ROOT, 'js');
  const files = [...(await readdir(dir)).map((f) => path.join(dir, f)), path.join(UI_ROOT, 'console', 'console.js')]
    .filter((f) => f.endsWith('.js'));
  for (const key of ['programs', 'categories', 'card_statuses', 'coverage_statuses']) {
    const codes = SCHEMA[key].map((c) => c.replace(/[^A-Za-z0-9_]/g, '')).join('|');
    // Two codes of one list next to each other in an array literal: a copy of the list.
    const copy = new RegExp(`['"\`](?:${codes})['"\`]\\s*,\\s*['"\`](?:${codes})['"\`]`);
    for (const f of files) assert.doesNotMatch(await readFile(f, 'utf8'), copy, `${path.relative(UI_ROOT, f)} repeats ${key}`);
  }
});

test('every i18n key is used by the UI code', async () => {
  const id = await readJson('content', 'i18n', 'id.json');
  const code = (await Promise.all((await readdir(path.join(UI_ROOT, 'js'))).filter((f) => f.endsWith('.js'))
    .map((f) => readFile(path.join(UI_ROOT, 'js', f), 'utf8')))).join('\n');
  // The public guidance site generator uses the same strings ("key", or "prefix." + ...).
  const site = await readFile(path.join(UI_ROOT, '..', 'daemon', 'publicsite', 'public_site.cpp'), 'utf8');
  // Keys built at run time: the literal prefix appears in the code as `prefix.${...}`.
  const dynamic = [...code.matchAll(/`([a-z_]+(?:\.[a-z_]+)*)\.\$\{/g), ...site.matchAll(/"([a-z_]+(?:\.[a-z_]+)*)\." \+/g)]
    .map((m) => `${m[1]}.`);
  const unused = Object.keys(id).filter((key) => !code.includes(`'${key}'`) && !site.includes(`"${key}"`)
    && !dynamic.some((p) => key.startsWith(p)));
  assert.deepEqual(unused, [], 'unused keys: remove them');
});

// What counts as a figure a citizen may act on: an amount, a share, a duration or a deadline.
const FIGURE = /Rp\s?\d|\d+(?:[.,]\d+)?\s?%|\d+\s?×\s?\d+|\b\d+\s?(?:hari|jam|bulan|tahun|minggu|days?|hours?|months?|years?|weeks?)\b/i;
// Regulation numbers ("No. 14 Tahun 2025", "PP 44/2015") are names, not figures.
const CITATION = /\b(?:No\.|Nomor)\s?\d+\s(?:Tahun|of)\s\d{4}|\b\d+\/\d{4}\b/g;

/** Every piece of text in a guidance file with where it sits: [where, item]. */
function* items(node, where = '') {
  if (typeof node === 'string') yield [where, node];
  else if (Array.isArray(node)) for (const [i, x] of node.entries()) yield* items(x, `${where}[${i}]`);
  else if (node && typeof node === 'object') {
    if (typeof node.text === 'string') yield [where, node];
    else for (const [k, v] of Object.entries(node)) yield* items(v, where ? `${where}.${k}` : k);
  }
}

for (const lang of LANGS) {
  for (const program of PROGRAMS) {
    test(`guidance ${lang}/${program}.json is complete`, async () => {
      const g = await readJson('content', 'guidance', lang, `${program}.json`);
      assert.equal(g.program, program.toUpperCase());
      assert.ok(g.title);
      for (const key of ['now', 'deadlines', 'documents', 'where', 'pays']) {
        assert.ok(Array.isArray(g.covered[key]) && g.covered[key].length > 0, `covered.${key}`);
      }
      for (const key of ['now', 'steps', 'who_can_pay']) {
        assert.ok(Array.isArray(g.not_covered[key]) && g.not_covered[key].length > 0, `not_covered.${key}`);
      }
      assert.ok(g.not_covered.headline_not_registered, 'not_covered.headline_not_registered');
      assert.ok(g.future?.headline?.includes('{date}'), 'future.headline says when it starts');
      assert.ok(g.contacts?.length > 0 && g.complaints?.length > 0, 'contacts and complaints');
      assert.ok('notes_bpu' in g);
      // A real date, not in the future; which date is the editors' business.
      assert.match(g.reviewed_on, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(!Number.isNaN(Date.parse(g.reviewed_on)) && Date.parse(g.reviewed_on) <= Date.now() + 86400000);
      assert.ok(g.sources.length > 0 && g.sources.every((s) => s.title && s.url_or_ref));
      for (const [where, item] of items({ ...g, sources: undefined, title: undefined })) {
        if (typeof item === 'object') {
          assert.ok(item.text, `${where}: text`);
          const refs = Array.isArray(item.source) ? item.source : [item.source];
          assert.ok(refs.every((r) => Number.isInteger(r) && g.sources[r]), `${where}: source of ${item.text}`);
          if (item.only) assert.ok(['pu', 'bpu', 'activity'].includes(item.only), `${where}: only`);
        }
        // Every figure carries a source entry (and figures from the press their date).
        const text = typeof item === 'string' ? item : item.text;
        if (FIGURE.test(text.replace(CITATION, ''))) {
          assert.ok(typeof item === 'object' && item.source !== undefined, `${lang}/${program} ${where}: figure without a source: ${text}`);
        }
        if (typeof item === 'object' && /^(media|press)/.test(g.sources[item.source]?.url_or_ref ?? '')) {
          assert.ok(item.as_of, `${where}: a press figure says "as of"`);
        }
      }
    });
  }
  test(`guidance ${lang}: routes for every category in JKK and JKM, and a renewal route`, async () => {
    for (const program of ['jkk', 'jkm']) {
      const g = await readJson('content', 'guidance', lang, `${program}.json`);
      for (const c of ['renewal', ...SCHEMA.categories]) {
        assert.ok(g.not_covered.routes?.[c]?.length > 0, `${program} route ${c}`);
      }
      assert.ok(g.question, `${program}: asks when it happened`);
    }
  });
}

test('both languages carry the same structure and the same sources', async () => {
  const shape = (node) => (Array.isArray(node) ? node.map(shape)
    : node && typeof node === 'object' ? Object.fromEntries(Object.entries(node).filter(([k]) => !['text', 'title', 'headline', 'note', 'question'].includes(k))
      .map(([k, v]) => [k, typeof v === 'string' && !['url_or_ref', 'as_of', 'reviewed_on', 'only', 'program'].includes(k) ? 'text' : shape(v)]))
      : typeof node === 'string' ? 'text' : node);
  for (const program of PROGRAMS) {
    const [id, en] = await Promise.all(LANGS.map((l) => readJson('content', 'guidance', l, `${program}.json`)));
    assert.deepEqual(shape(en), shape(id), program);
  }
});

test('guidance carries the corrected claim facts', async () => {
  const text = async (lang, p) => JSON.stringify(await readJson('content', 'guidance', lang, `${p}.json`));
  const jkk = await text('id', 'jkk');
  for (const fact of ['2×24 jam', 'tahap I', 'tahap II', 'PLKK', 'Rp5 juta', 'Rp2 juta', 'Rp10 juta', 'Rp20 juta', '1 tahun',
    '5 tahun', 'kuitansi asli', 'laporan polisi', 'Jasa Raharja', 'perjalanan dari rumah', 'Beasiswa pendidikan',
    'Rp16.800/bulan, tergantung penghasilan', 'JMO', '175', 'SP4N-LAPOR!', 'Ombudsman', 'Baznas',
    'PP 44/2015 jo. PP 82/2019', 'Permenaker 5/2021 jo. Permenaker 1/2025']) assert.ok(jkk.includes(fact), fact);
  assert.ok(!/Rp \d/.test(jkk), 'Rp5 juta, without a space');
  assert.ok(!jkk.includes('201.600'), 'no yearly figure from the press');
  const jkm = await text('id', 'jkm');
  for (const fact of ['Rp42 juta', 'Rp20 juta', 'Rp12 juta', 'Rp10 juta', 'Ditambah beasiswa', '2 anak', '3 tahun', 'Lapak Asik',
    'KTP ahli waris', 'KTP almarhum', 'Kartu Keluarga', 'Buku tabungan atas nama ahli waris', 'Buku nikah']) assert.ok(jkm.includes(fact), fact);
  assert.ok(!jkm.includes('3 hari kerja'), 'no false-precision payment time');
  assert.ok(!jkm.includes('Lapakasik'));
  const jkn = await text('id', 'jkn');
  for (const fact of ['FKTP', 'puskesmas', 'IGD', 'PBI APBD', 'DTSEN', 'dahulu DTKS', '14 hari', 'tunggakan', 'Mobile JKN', '165',
    'PANDAWA', 'BPJS SATU!', 'Jasa Raharja']) assert.ok(jkn.includes(fact), fact);
  assert.ok(!jkn.includes('49.212'), 'the added quota is not the total');
  const jkmEn = await text('en', 'jkm');
  for (const fact of ['Rp42 million', 'Marriage certificate', 'Certificate of heirship']) assert.ok(jkmEn.includes(fact), fact);
  const jkkEn = await text('en', 'jkk');
  assert.ok(jkkEn.includes('2×24 hours'));
  assert.ok(jkkEn.includes("petugas syara'"), "petugas syara' stays untranslated");
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
