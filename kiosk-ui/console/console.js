// Staff console page: search, results, record view with the guidance script,
// and the supervisor's audit view. Keyboard first: "/" search box, Enter search,
// arrow keys through results, Enter open, Esc back. Bahasa Indonesia and English.
// Every value from the server is set with textContent, never parsed as HTML.
'use strict';

const T = {
  id: {
    title: 'Call Center Bahagia 112 — Konsol', nav: 'Bagian', tab_search: 'Cari', tab_audit: 'Log audit',
    lang_switch: 'English', search_heading: 'Cari warga', q_label: 'Nama, nomor kartu atau NIK',
    q_hint: 'Tekan / untuk ke kotak ini, Enter untuk mencari, ↑↓ untuk memilih hasil.',
    kind_label: 'Cari menurut', kind_auto: 'Otomatis', kind_name: 'Nama', kind_card: 'Nomor kartu', kind_nik: 'NIK',
    kel_label: 'Kelurahan', rt_label: 'RT', search_button: 'Cari', back: '← Kembali ke hasil (Esc)',
    coverage_heading: 'Cakupan', col_program: 'Program', col_status: 'Status', col_valid: 'Berlaku',
    col_funder: 'Pembayar iuran', col_basis: 'Dasar hukum', col_activity: 'Kegiatan Kampung Bahagia / SK',
    script_heading: 'Naskah untuk penelepon', audit_heading: 'Log audit', col_time: 'Waktu (UTC)',
    col_operator: 'Operator', col_action: 'Tindakan', col_query: 'Pencarian', col_results: 'Kartu yang ditampilkan',
    who: (op, sup) => `Operator: ${op}${sup ? ' (supervisor)' : ''}`,
    age: (d) => `Data: seri ${d.serial}, ditandatangani ${d.signed_at}, umur ${dur(d.age_seconds, 'id')} — ${fresh(d.freshness, 'id')}`,
    no_data: 'Tidak ada data yang terverifikasi di node ini.',
    sync_failing: (code) => ` — sinkronisasi gagal (${code}), data lama tetap dipakai`,
    searching: 'Mencari…', none: 'Tidak ditemukan. Periksa ejaan, atau tanyakan kelurahan dan RT.',
    found: (n, more) => `${n} hasil${more ? ' (lebih banyak cocok: persempit dengan kelurahan/RT)' : ''}. ↓ untuk memilih.`,
    holder: 'Nama', card_no: 'Nomor kartu', nik_last4: 'NIK (4 angka terakhir)',
    birth_label: 'Tanggal lahir menurut penelepon (TTTT-BB-HH)', birth_button: 'Cocokkan',
    birth_match: 'COCOK: tanggal lahir sesuai data.', birth_mismatch: 'TIDAK COCOK: tanggal lahir berbeda dari data.',
    kelurahan: 'Kelurahan', rt: 'RT', category: 'Kategori', card_status: 'Status kartu', occupation: 'Pekerjaan',
    verdict: { ACTIVE: 'AKTIF — terlindungi hari ini', INACTIVE: 'TIDAK AKTIF — tidak ada cakupan aktif hari ini',
      BLOCKED: 'KARTU DIBLOKIR', NOT_FOUND: 'TIDAK ADA DI DATA', UNVERIFIABLE: 'TIDAK DAPAT DIVERIFIKASI' },
    covered: 'Terlindungi — bacakan:', not_covered: 'Tidak terlindungi — bacakan:',
    sections: { now: 'Yang harus dilakukan sekarang', deadlines: 'Batas waktu', documents: 'Dokumen', where: 'Ke mana',
      pays: 'Yang dibayar', special: 'Catatan khusus', steps: 'Langkah', who_can_pay: 'Siapa yang dapat membayar iuran' },
    funded: (c) => `Iuran dibayar: ${c.funder}${c.legal_basis ? ' (' + c.legal_basis + ')' : ''}; berlaku ${c.valid_from} s.d. ${c.valid_to}.`,
    activity: (c) => `Terkait kegiatan Kampung Bahagia: ${c.activity}${c.sk_rt_no ? ', SK ' + c.sk_rt_no : ''}.`,
    reviewed: (d) => `Konten ditinjau ${d}.`, missing: 'Konten panduan untuk program ini tidak tersedia.',
    audit_ok: (v) => `Rantai log utuh: ${v.lines} baris, ${v.checkpoints} checkpoint bertanda tangan.`,
    audit_bad: (e) => `LOG AUDIT RUSAK: ${e}`, audit_refused: 'Log audit hanya untuk supervisor.',
    error: (m) => `Gagal: ${m}`,
  },
  en: {
    title: 'Call Center Bahagia 112 — Console', nav: 'Sections', tab_search: 'Search', tab_audit: 'Audit log',
    lang_switch: 'Bahasa Indonesia', search_heading: 'Find a citizen', q_label: 'Name, card number or NIK',
    q_hint: 'Press / to come here, Enter to search, ↑↓ to pick a result.',
    kind_label: 'Search by', kind_auto: 'Automatic', kind_name: 'Name', kind_card: 'Card number', kind_nik: 'NIK',
    kel_label: 'Kelurahan', rt_label: 'RT', search_button: 'Search', back: '← Back to results (Esc)',
    coverage_heading: 'Coverage', col_program: 'Programme', col_status: 'Status', col_valid: 'Valid',
    col_funder: 'Contributions paid by', col_basis: 'Legal basis', col_activity: 'Kampung Bahagia activity / SK',
    script_heading: 'Script for the caller', audit_heading: 'Audit log', col_time: 'Time (UTC)',
    col_operator: 'Operator', col_action: 'Action', col_query: 'Query', col_results: 'Cards shown',
    who: (op, sup) => `Operator: ${op}${sup ? ' (supervisor)' : ''}`,
    age: (d) => `Data: serial ${d.serial}, signed ${d.signed_at}, age ${dur(d.age_seconds, 'en')} — ${fresh(d.freshness, 'en')}`,
    no_data: 'This node holds no verified data.',
    sync_failing: (code) => ` — sync failing (${code}), the data it has is still served`,
    searching: 'Searching…', none: 'Nothing found. Check the spelling, or ask for the kelurahan and RT.',
    found: (n, more) => `${n} results${more ? ' (more matched: narrow with kelurahan/RT)' : ''}. ↓ to pick one.`,
    holder: 'Name', card_no: 'Card number', nik_last4: 'NIK (last 4 digits)',
    birth_label: 'Birth date the caller states (YYYY-MM-DD)', birth_button: 'Check',
    birth_match: 'MATCH: the birth date agrees with the data.', birth_mismatch: 'NO MATCH: the birth date differs from the data.',
    kelurahan: 'Kelurahan', rt: 'RT', category: 'Category', card_status: 'Card status', occupation: 'Occupation',
    verdict: { ACTIVE: 'ACTIVE — covered today', INACTIVE: 'INACTIVE — no coverage active today',
      BLOCKED: 'CARD BLOCKED', NOT_FOUND: 'NOT IN THE DATA', UNVERIFIABLE: 'CANNOT BE VERIFIED' },
    covered: 'Covered — read out:', not_covered: 'Not covered — read out:',
    sections: { now: 'What to do now', deadlines: 'Deadlines', documents: 'Documents', where: 'Where to go',
      pays: 'What is paid', special: 'Special notes', steps: 'Steps', who_can_pay: 'Who can pay the contributions' },
    funded: (c) => `Contributions paid by ${c.funder}${c.legal_basis ? ' (' + c.legal_basis + ')' : ''}; valid ${c.valid_from} to ${c.valid_to}.`,
    activity: (c) => `Tied to the Kampung Bahagia activity: ${c.activity}${c.sk_rt_no ? ', SK ' + c.sk_rt_no : ''}.`,
    reviewed: (d) => `Content reviewed on ${d}.`, missing: 'No guidance content for this programme.',
    audit_ok: (v) => `Log chain intact: ${v.lines} lines, ${v.checkpoints} signed checkpoints.`,
    audit_bad: (e) => `AUDIT LOG BROKEN: ${e}`, audit_refused: 'The audit log is for supervisors only.',
    error: (m) => `Failed: ${m}`,
  },
};

function dur(s, lang) {
  const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  const u = lang === 'id' ? ['hari', 'jam', 'menit'] : ['d', 'h', 'min'];
  if (d > 0) return `${d} ${u[0]} ${h % 24} ${u[1]}`;
  if (h > 0) return `${h} ${u[1]} ${m % 60} ${u[2]}`;
  return `${m} ${u[2]}`;
}
function fresh(f, lang) {
  const id = { FRESH: 'terkini', STALE: 'PERINGATAN: data sudah lama', EXPIRED: 'DATA KEDALUWARSA' };
  const en = { FRESH: 'fresh', STALE: 'WARNING: data is old', EXPIRED: 'DATA EXPIRED' };
  return (lang === 'id' ? id : en)[f] ?? f;
}

let lang = localStorage.getItem('kb-console-lang') === 'en' ? 'en' : 'id';
let me = null;
let lastResults = null;
let lastRecord = null;
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
};

function applyLang() {
  const t = T[lang];
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const e of document.querySelectorAll('[data-i18n]')) {
    const v = t[e.dataset.i18n];
    if (typeof v === 'string') e.textContent = v;
  }
  for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t[e.dataset.i18nAria]);
  if (me) $('who').textContent = t.who(me.operator, me.supervisor);
}

// The sync fields come only with /api/console/me (fetched at start and every
// minute); the data line keeps showing them between those answers.
let sync = null;

function showData(d) {
  const p = $('data-age');
  p.className = 'data-age';
  if (d && 'last_sync_attempt' in d) sync = d;
  const failing = sync?.last_sync_error ? T[lang].sync_failing(sync.last_sync_error) : '';
  if (!d || !d.serving) { p.textContent = T[lang].no_data + failing; p.classList.add('expired'); return; }
  p.textContent = T[lang].age(d) + failing;
  if (d.freshness === 'STALE') p.classList.add('stale');
  if (d.freshness === 'EXPIRED') p.classList.add('expired');
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (body && body.data) showData(body.data);
  return { status: res.status, body };
}

function show(view) {
  for (const v of ['search', 'record', 'audit']) $(`view-${v}`).hidden = v !== view;
  $('tab-search').setAttribute('aria-pressed', String(view !== 'audit'));
  $('tab-audit').setAttribute('aria-pressed', String(view === 'audit'));
}

function guessKind(q) {
  const s = q.trim();
  if (/^[0-9]{16}$/.test(s)) return 'nik';
  if (/^[0-9A-Za-z-]{6,24}$/.test(s) && /[0-9]/.test(s)) return 'card_no';
  return 'name';
}

async function search(ev) {
  ev?.preventDefault();
  const q = $('q').value;
  const kind = $('kind').value === 'auto' ? guessKind(q) : $('kind').value;
  const params = new URLSearchParams();
  params.set(kind, kind === 'name' ? q : q.trim());
  if (kind === 'name') {
    if ($('kelurahan').value.trim()) params.set('kelurahan', $('kelurahan').value.trim());
    if ($('rt').value.trim()) params.set('rt', $('rt').value.trim());
  }
  const msg = $('search-msg');
  msg.className = 'msg';
  msg.textContent = T[lang].searching;
  $('results').replaceChildren();
  const { status, body } = await api(`/api/console/search?${params}`);
  if (status !== 200) {
    msg.className = 'msg error';
    msg.textContent = T[lang].error(body?.message ?? `HTTP ${status}`);
    return;
  }
  lastResults = body;
  renderResults();
}

function renderResults() {
  const body = lastResults;
  const msg = $('search-msg');
  msg.textContent = body.results.length ? T[lang].found(body.results.length, body.truncated) : T[lang].none;
  const list = $('results');
  list.replaceChildren();
  for (const r of body.results) {
    const li = el('li');
    const b = el('button');
    b.type = 'button';
    b.className = 'result';
    b.dataset.card = r.card_no;
    b.append(el('span', r.holder), el('span', `${r.card_no} · NIK …${r.nik_last4}`),
      el('span', `${r.kelurahan}, RT ${r.rt}`), el('span', r.card_status));
    b.addEventListener('click', () => openRecord(r.card_no));
    li.append(b);
    list.append(li);
  }
}

// The node holds only a keyed hash of the birth date: it says match or not.
async function checkBirth(ev) {
  ev?.preventDefault();
  const msg = $('birth-msg');
  const date = $('birth').value.trim();
  const { status, body } = await api(
    `/api/console/card/${encodeURIComponent(lastRecord.cardNo)}/birth-check?date=${encodeURIComponent(date)}`);
  if (status !== 200) {
    msg.className = 'msg error';
    msg.textContent = T[lang].error(body?.message ?? `HTTP ${status}`);
    return;
  }
  msg.className = body.match ? 'msg' : 'msg error';
  msg.textContent = body.match ? T[lang].birth_match : T[lang].birth_mismatch;
}

async function openRecord(cardNo) {
  const { status, body } = await api(`/api/console/card/${encodeURIComponent(cardNo)}?lang=${lang}`);
  if (status !== 200 && status !== 404) {
    $('search-msg').className = 'msg error';
    $('search-msg').textContent = T[lang].error(body?.message ?? `HTTP ${status}`);
    return;
  }
  lastRecord = { cardNo, body };
  renderRecord();
  show('record');
  $('rec-h').focus();
}

function renderRecord() {
  const t = T[lang];
  const v = lastRecord.body.verdict && !lastRecord.body.card ? lastRecord.body.verdict : lastRecord.body;
  const c = v.card;
  $('rec-h').textContent = c ? `${c.holder} — ${c.card_no}` : lastRecord.cardNo;
  const verdict = $('rec-verdict');
  verdict.className = `verdict ${v.verdict}`;
  verdict.textContent = (t.verdict[v.verdict] ?? v.verdict) + (v.reason ? ` (${v.reason})` : '');
  const dl = $('rec-card');
  dl.replaceChildren();
  if (c) {
    for (const [k, val] of [['holder', c.holder], ['card_no', c.card_no], ['nik_last4', c.nik_last4],
      ['kelurahan', `${c.kelurahan}, ${c.kecamatan}`], ['rt', c.rt],
      ['category', c.category], ['occupation', c.occupation], ['card_status', c.status]]) {
      if (val === undefined || val === null || val === '') continue;
      dl.append(el('dt', t[k]), el('dd', val));
    }
  }
  const birthForm = $('birth-form');
  if (birthForm.dataset.card !== lastRecord.cardNo) {
    birthForm.dataset.card = lastRecord.cardNo;
    $('birth').value = '';
    $('birth-msg').textContent = '';
  }
  birthForm.hidden = !(c && c.birth_date_on_file);
  const tb = $('rec-cov').querySelector('tbody');
  tb.replaceChildren();
  for (const cv of v.coverages ?? []) {
    const tr = el('tr');
    tr.append(el('td', cv.program), el('td', `${cv.status}${cv.active_today ? ' ✓' : ''}`),
      el('td', `${cv.valid_from} – ${cv.valid_to}`), el('td', cv.funder), el('td', cv.legal_basis),
      el('td', [cv.activity, cv.sk_rt_no].filter(Boolean).join(' / ')));
    tb.append(tr);
  }
  const script = $('script');
  script.replaceChildren();
  for (const p of lastRecord.body.script?.programs ?? []) {
    const s = el('section');
    s.className = 'program';
    s.dataset.program = p.program;
    s.append(el('h4', `${p.title ?? p.program}: ${p.covered ? t.covered : t.not_covered}`));
    if (p.missing) s.append(el('p', t.missing));
    if (p.coverage) {
      s.append(el('p', t.funded(p.coverage)));
      if (p.coverage.activity) s.append(el('p', t.activity(p.coverage)));
    }
    for (const sec of p.sections) {
      s.append(el('h5', t.sections[sec.key] ?? sec.key));
      const ol = el('ol');
      for (const item of sec.items) ol.append(el('li', item));
      s.append(ol);
    }
    if (p.notes) s.append(el('p', p.notes));
    if (p.reviewed_on) s.append(el('p', t.reviewed(p.reviewed_on), 'hint'));
    script.append(s);
  }
}

async function openAudit() {
  show('audit');
  const { status, body } = await api('/api/console/audit?limit=200');
  const msg = $('audit-verify');
  const tb = $('audit').querySelector('tbody');
  tb.replaceChildren();
  if (status !== 200) {
    msg.className = 'msg error';
    msg.textContent = status === 403 ? T[lang].audit_refused : T[lang].error(body?.message ?? `HTTP ${status}`);
    $('audit-h').focus();
    return;
  }
  msg.className = body.verify.ok ? 'msg' : 'msg error';
  msg.textContent = body.verify.ok ? T[lang].audit_ok(body.verify) : T[lang].audit_bad(body.verify.error);
  for (const e of body.entries.slice().reverse()) {
    const tr = el('tr');
    tr.append(el('td', e.seq), el('td', e.time), el('td', e.operator), el('td', e.action),
      el('td', JSON.stringify(e.query)), el('td', (e.results ?? []).join(', ')));
    tb.append(tr);
  }
  $('audit-h').focus();
}

function onKey(ev) {
  const inField = ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement?.tagName);
  if (ev.key === '/' && !inField) { ev.preventDefault(); show('search'); $('q').focus(); $('q').select(); return; }
  if (ev.key === 'Escape') {
    if (!$('view-record').hidden || !$('view-audit').hidden) {
      show('search');
      const first = document.querySelector(`.result[data-card="${CSS.escape(lastRecord?.cardNo ?? '')}"]`);
      (first ?? $('q')).focus();
    }
    return;
  }
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    const items = [...document.querySelectorAll('.result')];
    if (!items.length || $('view-search').hidden) return;
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' && (i >= 0 || document.activeElement === $('q'))) {
      ev.preventDefault();
      items[Math.min(i + 1, items.length - 1)].focus();
    } else if (ev.key === 'ArrowUp' && i >= 0) {
      ev.preventDefault();
      (i === 0 ? $('q') : items[i - 1]).focus();
    }
  }
}

async function start() {
  applyLang();
  $('search-form').addEventListener('submit', search);
  $('birth-form').addEventListener('submit', checkBirth);
  $('back').addEventListener('click', () => onKey({ key: 'Escape' }));
  $('tab-search').addEventListener('click', () => { show('search'); $('q').focus(); });
  $('tab-audit').addEventListener('click', openAudit);
  $('lang').addEventListener('click', () => {
    lang = lang === 'id' ? 'en' : 'id';
    localStorage.setItem('kb-console-lang', lang);
    applyLang();
    if (lastResults) renderResults();
    if (lastRecord && !$('view-record').hidden) openRecord(lastRecord.cardNo);
  });
  document.addEventListener('keydown', onKey);
  const { body } = await api('/api/console/me');
  me = body;
  if (me?.supervisor) $('tab-audit').hidden = false;
  applyLang();
  setInterval(() => api('/api/console/me'), 60000);  // data age and sync state stay current
  $('q').focus();
  document.body.dataset.ready = 'true';
}

start();
