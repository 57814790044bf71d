// The guidance screen: content/guidance/<lang>/<program>.json (editable data
// with sources and a reviewed-on date) filled in from this holder's coverage.

import { h } from './dom.js';
import { icon } from './icons.js';
import { coveragesFor, isCovered, funderLine } from './coverage.js';
import { callBox, dataBanner, dataFooter } from './screens.js';

const PROGRAMS = ['JKK', 'JKM', 'JKN'];
const cache = new Map();

export function loadGuidance(lang, program) {
  const key = `${lang}/${program}`;
  if (!cache.has(key)) {
    const p = fetch(`content/guidance/${lang}/${program.toLowerCase()}.json`, { cache: 'no-cache' })
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return res.json();
      });
    p.catch(() => cache.delete(key)); // let a later visit try again
    cache.set(key, p);
  }
  return cache.get(key);
}

export function guidanceScreen(state, ctx) {
  const program = PROGRAMS.includes(state.guidance) ? state.guidance : 'JKK';
  const coverages = state.tap?.coverages ?? [];
  const covered = isCovered(coverages, program);
  const entry = coveragesFor(coverages, program)[0] ?? null;

  const head = h('header', { class: 'g-head' },
    h('h1', { id: 'guidance-title', class: 'g-title', text: ctx.t(`action.${program}`) }),
    h('p', { class: ['g-status', covered ? 'is-ok' : 'is-neutral'], 'data-covered': String(covered) },
      icon(covered ? 'check' : 'info'),
      h('span', { class: 'g-status-text', text: coverLine(program, covered, entry, null, ctx) })));
  const main = h('div', { class: 'g-main', 'data-loaded': 'false', tabindex: '0', 'aria-labelledby': 'guidance-title' },
    h('p', { class: 'g-loading', text: ctx.t('guidance.loading') }));
  const side = h('aside', { class: 'g-side' },
    callBox(ctx),
    h('figure', { class: 'qr' },
      h('img', { class: 'qr-img', src: `/api/qr/${program}.svg?lang=${ctx.lang}`, width: '240', height: '240',
        alt: ctx.t('guidance.qr_alt', { program }) }),
      h('figcaption', { text: ctx.t('guidance.qr_caption') })));

  // Elderly readers may not know a list scrolls: an explicit button reads on.
  const more = h('button', { type: 'button', class: 'btn btn-more', 'data-action': 'more', hidden: true,
    onclick: () => main.scrollBy({ top: main.clientHeight * 0.8, behavior: 'smooth' }) },
  icon('down'), h('span', { text: ctx.t('guidance.more') }));
  const updateMore = () => {
    more.hidden = main.scrollTop + main.clientHeight >= main.scrollHeight - 4;
  };
  main.addEventListener('scroll', updateMore, { passive: true });
  const screen = h('section', { class: 'screen guidance', 'aria-labelledby': 'guidance-title', 'data-program': program },
    head,
    dataBanner(state, ctx),
    h('div', { class: 'g-body' }, main, side),
    h('nav', { class: 'g-actions' },
      more,
      h('button', { type: 'button', class: 'btn btn-back', 'data-action': 'back', onclick: () => ctx.send({ action: 'back' }) },
        icon('back'), h('span', { text: ctx.t('action.back') })),
      h('button', { type: 'button', class: 'btn btn-done', 'data-action': 'done', onclick: () => ctx.send({ action: 'done' }) },
        icon('done'), h('span', { text: ctx.t('action.done') }))),
    dataFooter(state, ctx));

  loadGuidance(ctx.lang, program).then((content) => {
    if (!screen.isConnected) return; // the person moved on before the content arrived
    head.querySelector('.g-title').textContent = content.title ?? ctx.t(`action.${program}`);
    head.querySelector('.g-status-text').textContent = coverLine(program, covered, entry, content, ctx);
    main.replaceChildren(...guidanceBody(content, covered, entry, ctx));
    main.append(sourcesBlock(content, ctx));
    main.dataset.loaded = 'true';
    requestAnimationFrame(updateMore);
  }, () => {
    main.replaceChildren(h('p', { class: 'g-failed', text: ctx.t('guidance.load_failed') }));
    main.dataset.loaded = 'failed';
  });
  return screen;
}

function coverLine(program, covered, entry, content, ctx) {
  const date = entry?.valid_to ? ctx.date(entry.valid_to) : '';
  const custom = covered ? content?.covered?.headline : content?.not_covered?.headline;
  let line = custom
    ? custom.replace('{date}', date).replace('{program}', program)
    : ctx.t(covered ? 'guidance.you_covered' : 'guidance.you_not_covered', { program, date });
  if (covered && entry?.funder) {
    const payer = funderLine(entry.funder, ctx);
    line += ` ${payer}.`;
  }
  return line;
}

function guidanceBody(content, covered, entry, ctx) {
  const out = [];
  if (covered) {
    const c = content.covered ?? {};
    if (entry?.activity) {
      out.push(h('p', { class: 'g-note g-activity' }, icon('info'), h('span', {
        text: ctx.t('guidance.activity_only', { activity: entry.activity, sk: entry.sk_rt_no ?? '–',
          from: ctx.date(entry.valid_from), to: ctx.date(entry.valid_to) }),
      })));
    }
    out.push(section('now', ctx.t('guidance.now'), c.now, 'ol', null, content, ctx));
    out.push(section('deadlines', ctx.t('guidance.deadlines'), c.deadlines, 'ul', 'clock', content, ctx));
    out.push(section('documents', ctx.t('guidance.documents'), c.documents, 'ul', 'box', content, ctx));
    out.push(section('where', ctx.t('guidance.where'), c.where, 'ul', 'pin', content, ctx));
    out.push(section('pays', ctx.t('guidance.pays'), c.pays, 'ul', 'coins', content, ctx));
    if (content.notes_bpu) {
      out.push(h('div', { class: 'g-note g-bpu', 'data-section': 'notes_bpu' },
        h('h2', { class: 'g-h2', text: ctx.t('guidance.bpu_note') }),
        h('p', { text: content.notes_bpu })));
    }
  } else {
    const n = content.not_covered ?? {};
    out.push(section('steps', ctx.t('guidance.steps'), n.steps, 'ol', null, content, ctx));
    out.push(section('who_can_pay', ctx.t('guidance.who_can_pay'), n.who_can_pay, 'ul', 'coins', content, ctx));
  }
  return out.filter(Boolean);
}

function section(name, title, items, listTag, bullet, content, ctx) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return h('section', { class: `g-section g-${name}`, 'data-section': name },
    h('h2', { class: 'g-h2', text: title }),
    h(listTag, { class: ['g-list', bullet ? 'g-list-icons' : 'g-list-numbers'] },
      items.map((item) => h('li', null, bullet ? icon(bullet) : null, itemText(item, content, ctx)))));
}

// An item is either plain text or {text, as_of, source}: figures from the press
// carry their date and the number of their source.
function itemText(item, content, ctx) {
  if (typeof item === 'string') return h('span', { text: item });
  const notes = [];
  if (item.as_of) notes.push(ctx.t('guidance.as_of', { date: item.as_of }));
  if (Number.isInteger(item.source) && content.sources?.[item.source]) notes.push(`[${item.source + 1}]`);
  return h('span', null, item.text ?? '', notes.length ? h('span', { class: 'g-asof', text: ` (${notes.join(', ')})` }) : null);
}

function sourcesBlock(content, ctx) {
  return h('div', { class: 'g-sources' },
    h('h2', { class: 'g-h3', text: ctx.t('guidance.sources') }),
    h('ol', { class: 'g-source-list' }, (content.sources ?? []).map((s) =>
      h('li', null, h('span', { text: s.title ?? '' }), s.url_or_ref && s.url_or_ref !== s.title
        ? h('span', { class: 'g-ref', text: ` — ${s.url_or_ref}` }) : null))),
    content.reviewed_on ? h('p', { class: 'g-reviewed', 'data-reviewed-on': content.reviewed_on,
      text: ctx.t('guidance.reviewed_on', { date: ctx.date(content.reviewed_on) }) }) : null);
}
