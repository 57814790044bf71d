// Reading tap.coverages: which programmes to show and whether each one
// protects the holder today. The daemon decides active_today; the UI only
// words it.

export const MAIN_PROGRAMS = ['JKK', 'JKM', 'JKN'];
const ORDER = ['JKK', 'JKM', 'JKN', 'JHT', 'JP'];

export function programsToShow(coverages) {
  const present = new Set((coverages ?? []).map((c) => c.program));
  const shown = ORDER.filter((p) => MAIN_PROGRAMS.includes(p) || present.has(p));
  for (const p of present) if (p && !shown.includes(p)) shown.push(p);
  return shown;
}

/** Entries of one programme, the one that protects today first, then the latest ending. */
export function coveragesFor(coverages, program) {
  return (coverages ?? [])
    .filter((c) => c.program === program)
    .sort((a, b) => Number(Boolean(b.active_today)) - Number(Boolean(a.active_today))
      || String(b.valid_to ?? '').localeCompare(String(a.valid_to ?? '')));
}

export function isCovered(coverages, program) {
  return coveragesFor(coverages, program).some((c) => c.active_today === true);
}

export function todayWib() {
  const d = new Date(Date.now() + 7 * 3600 * 1000);
  return d.toISOString().slice(0, 10);
}

/** One short line about an entry's dates: until / starts / ended / not active. */
export function validityLine(c, ctx) {
  if (c.active_today) return c.valid_to ? ctx.t('tile.until', { date: ctx.date(c.valid_to) }) : ctx.t('tile.covered');
  const today = todayWib();
  if (c.status === 'active' && c.valid_from && c.valid_from > today) return ctx.t('tile.starts', { date: ctx.date(c.valid_from) });
  if (c.valid_to && c.valid_to < today) return ctx.t('tile.ended', { date: ctx.date(c.valid_to) });
  return ctx.t('tile.inactive');
}

export function funderLine(funder, ctx) {
  if (!funder) return null;
  const specific = `tile.funder.${funder}`;
  return ctx.has(specific) ? ctx.t(specific) : ctx.t('tile.funder', { funder });
}
