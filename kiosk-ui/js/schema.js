// The domain's closed lists (programmes, categories, card and coverage statuses),
// as the daemon defines them: GET /api/schema (docs/contracts.md §4). The UI keeps
// no copy of its own; what it adds per code (names, icons) is presentation and
// falls back to something neutral for a code it does not know.

let current = null;

const isList = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);

/** Fetches and checks the document; throws when the daemon does not answer with one. */
export async function loadSchema() {
  const res = await fetch('/api/schema', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /api/schema: HTTP ${res.status}`);
  const doc = await res.json();
  for (const key of ['programs', 'guidance_programs', 'categories', 'card_statuses', 'coverage_statuses']) {
    if (!isList(doc?.[key])) throw new Error(`GET /api/schema: ${key} is not a list of codes`);
  }
  current = Object.freeze({ ...doc });
  return current;
}

/** The loaded document (main.js loads it before the first screen is drawn). */
export function schema() {
  if (!current) throw new Error('the domain schema is not loaded yet');
  return current;
}

/** The programmes the kiosk explains: a tile and a guidance button each, in this order. */
export const guidancePrograms = () => schema().guidance_programs;

/**
 * Every programme in display order: the explained ones first, then the others
 * in the order the schema lists them.
 */
export function programOrder() {
  const { guidance_programs: main, programs } = schema();
  return [...main, ...programs.filter((p) => !main.includes(p))];
}

export const isCategory = (code) => schema().categories.includes(code);
