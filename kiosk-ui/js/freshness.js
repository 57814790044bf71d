// How old the data is and why it did not update, in words (the footer of the
// citizen's screens and the operator's health screen share these).

/** "3 jam" / "3 hours", "2 hari" / "2 days". */
export function ageText(ctx, seconds) {
  if (seconds < 3600) return ctx.t('age.minutes', { n: Math.max(0, Math.floor(seconds / 60)) });
  if (seconds < 2 * 86400) return ctx.t('age.hours', { n: Math.floor(seconds / 3600) });
  return ctx.t('age.days', { n: Math.floor(seconds / 86400) });
}

/** A sync error code in words; unknown codes get the generic sentence. */
export function syncErrorText(ctx, code) {
  const key = `sync_error.${code}`;
  return ctx.has(key) ? ctx.t(key) : ctx.t('sync_error.other', { code });
}
