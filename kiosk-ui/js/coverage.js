// Reading tap.coverages: which programmes to show, whether each one protects
// the holder today, and what each entry meant on another day (the day of the
// accident or the death). The daemon decides active_today; the UI words it and
// reasons about the dates the entries carry.

import { guidancePrograms, programOrder } from './schema.js';

// The programmes and their order come from the daemon's schema (schema.js).
/** Every explained programme (always a tile) and any other one the holder has, in display order. */
export function programsToShow(coverages) {
  const main = guidancePrograms();
  const present = new Set((coverages ?? []).map((c) => c.program));
  const shown = programOrder().filter((p) => main.includes(p) || present.has(p));
  for (const p of present) if (p && !shown.includes(p)) shown.push(p);
  return shown;
}

/**
 * Entries of one programme, best first: the ones that protect today, a general
 * (city-paid, employer, own) cover before an activity-bound Kampung Bahagia one,
 * then the latest ending.
 */
export function coveragesFor(coverages, program) {
  return (coverages ?? [])
    .filter((c) => c.program === program)
    .sort((a, b) => Number(Boolean(b.active_today)) - Number(Boolean(a.active_today))
      || Number(Boolean(a.activity)) - Number(Boolean(b.activity))
      || String(b.valid_to ?? '').localeCompare(String(a.valid_to ?? '')));
}

export function isCovered(coverages, program) {
  return coveragesFor(coverages, program).some((c) => c.active_today === true);
}

export function todayWib() {
  const d = new Date(Date.now() + 7 * 3600 * 1000);
  return d.toISOString().slice(0, 10);
}

/** "2025-12-31" plus whole years ("2030-12-31"); 29 Feb falls back to 28 Feb. */
export function addYears(ymd, years) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '');
  if (!m) return null;
  const y = Number(m[1]) + years;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const day = m[2] === '02' && m[3] === '29' && !leap ? '28' : m[3];
  return `${String(y).padStart(4, '0')}-${m[2]}-${day}`;
}

/**
 * What one entry means today: 'active' (protects today), 'future' (starts
 * later), 'ended' (protected until valid_to, which has passed) or 'inactive'
 * (within its dates but not in force, e.g. contributions not paid).
 */
export function entryState(c, today = todayWib()) {
  if (c.active_today) return 'active';
  if (c.status === 'inactive') return 'inactive';
  if (c.status !== 'ended' && c.valid_from && c.valid_from > today) return 'future';
  if (c.status === 'ended' || (c.valid_to && c.valid_to < today)) return 'ended';
  return 'inactive';
}

/**
 * Who the member is to BPJS Ketenagakerjaan for this entry, as far as the
 * kiosk data tells: 'activity' (a Kampung Bahagia activity, insured like a
 * construction project), 'pu' (wage earner, paid by an employer) or 'bpu'
 * (informal worker, paid by the city, a funder or the member).
 */
export function memberKind(c) {
  if (!c) return null;
  if (c.activity) return 'activity';
  if (/pemberi kerja|perusahaan|employer/i.test(c.funder ?? '')) return 'pu';
  return 'bpu';
}

/** True when the city budget pays this entry (APBD Kota Jambi, Pemkot Jambi). */
export function cityPaid(c) {
  return /APBD Kota Jambi|Pemkot Jambi|Pemerintah Kota Jambi/i.test(c?.funder ?? '');
}

/**
 * Everything the guidance needs about one programme for this holder:
 * the entry in force today (if any), the Kampung Bahagia activity entries in
 * force, the periods that have ended (newest first, one per period) and the
 * entries that start later.
 */
export function programView(coverages, program, today = todayWib()) {
  const entries = coveragesFor(coverages, program);
  const active = entries.filter((c) => entryState(c, today) === 'active');
  const seen = new Set();
  const ended = entries.filter((c) => entryState(c, today) === 'ended')
    .sort((a, b) => String(b.valid_to).localeCompare(String(a.valid_to)))
    .filter((c) => {
      const key = `${c.valid_from}|${c.valid_to}|${c.activity ?? ''}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const future = entries.filter((c) => entryState(c, today) === 'future')
    .sort((a, b) => String(a.valid_from).localeCompare(String(b.valid_from)));
  return {
    program,
    entries,
    current: active[0] ?? null,
    activities: active.filter((c) => c.activity),
    ended,
    future,
    inactive: entries.filter((c) => entryState(c, today) === 'inactive'),
  };
}

/** One short line about an entry's dates: until / starts / ended / not active. */
export function validityLine(c, ctx) {
  const state = entryState(c);
  if (state === 'active') return c.valid_to ? ctx.t('tile.until', { date: ctx.date(c.valid_to) }) : ctx.t('tile.covered');
  if (state === 'future') return ctx.t('tile.starts', { date: ctx.date(c.valid_from) });
  if (state === 'ended' && c.valid_to) return ctx.t('tile.ended', { date: ctx.date(c.valid_to) });
  return ctx.t('tile.inactive');
}

// Funder text as the roster spells it -> a label key. Anything else is shown as written.
const FUNDERS = [
  [/^APBD Kota Jambi \((PBI|PBI Daerah|PBI APBD)\)$/i, 'apbd_pbi'],
  [/^(APBD Kota Jambi|Pemkot Jambi|Pemerintah Kota Jambi)$/i, 'apbd'],
  [/^APBN|PBI APBN|Pemerintah Pusat/i, 'apbn'],
  [/^APBD Provinsi Jambi|Pemprov Jambi/i, 'apbd_prov'],
  [/baznas/i, 'baznas'],
  [/^(mandiri|peserta mandiri|peserta|sendiri)$/i, 'self'],
  [/pemberi kerja|perusahaan|employer/i, 'employer'],
];

export function funderLine(funder, ctx) {
  if (!funder) return null;
  const known = FUNDERS.find(([re]) => re.test(funder.trim()));
  return known ? ctx.t(`tile.funder.${known[1]}`) : ctx.t('tile.funder', { funder });
}
