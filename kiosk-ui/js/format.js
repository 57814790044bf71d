// Dates shown to citizens. Kota Jambi is on WIB (UTC+7, no daylight saving),
// so the offset is fixed rather than left to the kiosk's own time zone.

const WIB_OFFSET_MS = 7 * 60 * 60 * 1000;

const MONTHS = {
  id: ['Jan', 'Feb', 'Mar', 'Apr', 'Mei', 'Jun', 'Jul', 'Agu', 'Sep', 'Okt', 'Nov', 'Des'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

const pad = (n) => String(n).padStart(2, '0');

/** "2026-11-20T01:00:00Z" → "20 Nov 2026 08.00 WIB" (id) / "20 Nov 2026 08:00 WIB" (en). */
export function formatInstantWib(iso, lang) {
  const ms = Date.parse(iso ?? '');
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms + WIB_OFFSET_MS);
  const months = MONTHS[lang] ?? MONTHS.id;
  const sep = lang === 'en' ? ':' : '.';
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}${sep}${pad(d.getUTCMinutes())} WIB`;
}

/** "2026-12-31" → "31 Des 2026". Calendar dates carry no time zone. */
export function formatDate(ymd, lang) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '');
  if (!m) return ymd ?? '';
  const months = MONTHS[lang] ?? MONTHS.id;
  return `${Number(m[3])} ${months[Number(m[2]) - 1]} ${m[1]}`;
}
