// UI strings live in content/i18n/<lang>.json so they can be corrected
// without touching code. Indonesian is the default and the fallback.

export const LANGS = ['id', 'en'];
export const DEFAULT_LANG = 'id';

const dicts = {};

export async function loadStrings() {
  await Promise.all(LANGS.map(async (lang) => {
    const res = await fetch(`content/i18n/${lang}.json`, { cache: 'no-cache' });
    if (!res.ok) throw new Error(`i18n ${lang}: HTTP ${res.status}`);
    dicts[lang] = await res.json();
  }));
}

export function has(lang, key) {
  return Boolean(dicts[lang]?.[key] ?? dicts[DEFAULT_LANG]?.[key]);
}

export function translate(lang, key, vars = {}) {
  const template = dicts[lang]?.[key] ?? dicts[DEFAULT_LANG]?.[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}
