// The guidance screen: content/guidance/<lang>/<program>.json (editable data
// with sources and a reviewed-on date) filled in from this holder's coverage.
//
// Cover is judged on the day the accident or death happened, not on the day of
// the tap: when the programme's cover has ended (or only starts later), the
// screen asks when it happened and answers for that date. An accident inside
// an ended period is still claimable (JKK: until the right lapses, 5 years after
// the accident); a new registration never covers what already happened.

import { h } from './dom.js';
import { icon } from './icons.js';
import { programView, memberKind, cityPaid, funderLine, addYears, todayWib } from './coverage.js';
import { callBox, dataBanner, dataFooter } from './screens.js';
import { listenButton } from './speech.js';
import { printButton } from './print.js';
import { guidancePrograms, isCategory } from './schema.js';

const cache = new Map();
// The holder's answer to "when did it happen?", per programme, for this tap only.
let answers = { tap: null, byProgram: {} };

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

/** The person has gone: their answers go with them. */
export function forgetGuidanceAnswers() {
  answers = { tap: null, byProgram: {} };
}

function tapKey(state) {
  const tap = state.tap ?? {};
  return JSON.stringify([tap.card?.card_no, tap.snapshot?.serial, tap.coverages?.length]);
}

const text = (item) => (typeof item === 'string' ? item : item?.text ?? '');
const fill = (template, vars) => text(template).replace(/\{(\w+)\}/g, (whole, k) => (k in vars ? String(vars[k]) : whole));

/**
 * Which branch of the guidance applies:
 *   covered         — cover in force today (the general one before an activity one)
 *   ask             — cover ended or starts later: the screen asks when it happened
 *   past            — the event happened inside an ended period: still claimable
 *   lapsed          — inside an ended period, but the claim right has lapsed (JKK, 5 years)
 *   future          — the only cover starts later
 *   not_covered     — entries exist, none applies on the day of the event
 *   not_registered  — no entry for this programme in the Kartu Bahagia data
 */
export function chooseBranch(view, content, answer, today = todayWib()) {
  if (view.current) return { branch: 'covered', entry: view.current };
  const askable = Boolean(content?.question) && view.ended.length > 0;
  if (askable) {
    if (!answer) return { branch: 'ask', entry: view.ended[0] };
    const m = /^ended-(\d+)$/.exec(answer);
    const entry = m ? view.ended[Number(m[1])] : null;
    if (entry) {
      const years = content.claim_lapse?.years;
      const lapsesOn = years ? addYears(entry.valid_to, years) : null;
      return { branch: lapsesOn && lapsesOn < today ? 'lapsed' : 'past', entry, lapsesOn };
    }
    return { branch: 'not_covered', entry: view.ended[0] };
  }
  if (view.future.length > 0) return { branch: 'future', entry: view.future[0] };
  if (view.entries.length > 0) return { branch: 'not_covered', entry: view.ended[0] ?? view.inactive[0] ?? null };
  return { branch: 'not_registered', entry: null };
}

export function guidanceScreen(state, ctx) {
  // The programmes the kiosk explains are the daemon's list (schema.js); anything else shows the first.
  const programs = guidancePrograms();
  const program = programs.includes(state.guidance) ? state.guidance : programs[0];
  const view = programView(state.tap?.coverages ?? [], program);
  const category = isCategory(state.tap?.card?.category) ? state.tap.card.category : null;
  if (answers.tap !== tapKey(state)) answers = { tap: tapKey(state), byProgram: {} };

  const statusText = h('span', { class: 'g-status-text', text: ctx.t('guidance.loading') });
  const status = h('p', { class: 'g-status is-neutral', 'data-covered': String(Boolean(view.current)), 'data-speak': '' },
    icon('info'), statusText);
  const head = h('header', { class: 'g-head' },
    h('h1', { id: 'guidance-title', class: 'g-title', text: ctx.t(`action.${program}`), 'data-speak': '' }),
    status);
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
  const printStatus = h('p', { class: 'g-print-status', role: 'status', hidden: true });
  const screen = h('section', { class: 'screen guidance', 'aria-labelledby': 'guidance-title', 'data-program': program },
    head,
    printStatus,
    dataBanner(state, ctx),
    h('div', { class: 'g-body' }, main, side),
    h('nav', { class: 'g-actions' },
      more,
      listenButton(ctx, () => screen),
      printButton(ctx, program, () => screen, printStatus),
      h('button', { type: 'button', class: 'btn btn-back', 'data-action': 'back', onclick: () => ctx.send({ action: 'back' }) },
        icon('back'), h('span', { text: ctx.t('action.back') })),
      h('button', { type: 'button', class: 'btn btn-done', 'data-action': 'done', onclick: () => ctx.send({ action: 'done' }) },
        icon('done'), h('span', { text: ctx.t('action.done') }))),
    dataFooter(state, ctx));

  const show = (content) => {
    const choice = chooseBranch(view, content, answers.byProgram[program]);
    screen.dataset.branch = choice.branch;
    const ok = choice.branch === 'covered' || choice.branch === 'past';
    status.className = ['g-status', ok ? 'is-ok' : 'is-neutral'].join(' ');
    status.dataset.covered = String(choice.branch === 'covered');
    status.dataset.branch = choice.branch;
    status.firstChild.replaceWith(icon(ok ? 'check' : 'info'));
    statusText.textContent = headline(program, choice, view, content, ctx);
    main.replaceChildren(...body(program, choice, view, category, content, ctx, (answer) => {
      answers.byProgram[program] = answer;
      show(content);
      main.querySelector('.g-answer')?.scrollIntoView({ block: 'start' });
    }));
    main.append(sourcesBlock(content, ctx));
    ctx.refit?.();
    main.dataset.loaded = 'true';
    requestAnimationFrame(updateMore);
  };

  loadGuidance(ctx.lang, program).then((content) => {
    if (!screen.isConnected) return; // the person moved on before the content arrived
    head.querySelector('.g-title').textContent = content.title ?? ctx.t(`action.${program}`);
    show(content);
  }, () => {
    statusText.textContent = ctx.t('guidance.load_failed');
    main.replaceChildren(h('p', { class: 'g-failed', text: ctx.t('guidance.load_failed') }));
    main.dataset.loaded = 'failed';
  });
  return screen;
}

function paidBy(entry, ctx) {
  return entry?.funder ? ` ${funderLine(entry.funder, ctx)}.` : '';
}

function headline(program, choice, view, content, ctx) {
  const { entry } = choice;
  const vars = {
    program,
    date: ctx.date(entry?.valid_to ?? entry?.valid_from),
    from: ctx.date(entry?.valid_from),
    to: ctx.date(entry?.valid_to),
  };
  switch (choice.branch) {
    case 'covered': {
      const line = content.covered?.headline ? fill(content.covered.headline, vars) : ctx.t('guidance.you_covered', vars);
      return line + paidBy(entry, ctx);
    }
    case 'ask':
      return ctx.t('guidance.ended_ask', vars);
    case 'past':
      return fill(content.past?.headline ?? ctx.t('guidance.past'), vars) + paidBy(entry, ctx);
    case 'lapsed':
      return fill(content.past?.lapsed ?? ctx.t('guidance.lapsed'), vars);
    case 'future':
      return fill(content.future?.headline ?? ctx.t('tile.starts', vars), { ...vars, date: ctx.date(entry.valid_from) });
    case 'not_registered':
      return fill(content.not_covered?.headline_not_registered ?? ctx.t('guidance.not_registered', vars), vars);
    default:
      return fill(content.not_covered?.headline ?? ctx.t('guidance.you_not_covered', vars), vars);
  }
}

function body(program, choice, view, category, content, ctx, answer) {
  const out = [];
  if (content.question && view.ended.length > 0 && !view.current) out.push(question(view, content, choice, ctx, answer));
  const kind = memberKind(choice.entry);
  const wrap = (nodes) => h('div', { class: 'g-answer', 'data-branch': choice.branch }, nodes);
  switch (choice.branch) {
    case 'ask':
      break;
    case 'covered':
    case 'past': {
      const c = content.covered ?? {};
      const nodes = [];
      if (choice.branch === 'covered') {
        const { entry } = choice;
        if (entry.activity) {
          nodes.push(note('g-activity', ctx.t('guidance.activity_only', activityVars(entry, ctx))));
        } else if (view.activities.length > 0) {
          nodes.push(note('g-activity', ctx.t('guidance.also_activity', activityVars(view.activities[0], ctx))));
        }
      } else {
        if (choice.entry.activity) nodes.push(note('g-activity', ctx.t('guidance.past_activity', activityVars(choice.entry, ctx))));
        for (const n of content.past?.notes ?? []) nodes.push(note('g-past-note', itemNode(n, content, ctx), 'clock'));
      }
      nodes.push(section('now', ctx.t('guidance.now'), c.now, 'ol', null, kind, content, ctx));
      nodes.push(section('deadlines', ctx.t('guidance.deadlines'), c.deadlines, 'ul', 'clock', kind, content, ctx));
      nodes.push(section('documents', ctx.t('guidance.documents'), c.documents, 'ul', 'box', kind, content, ctx));
      nodes.push(section('where', ctx.t('guidance.where'), c.where, 'ul', 'pin', kind, content, ctx));
      nodes.push(section('pays', ctx.t('guidance.pays'), c.pays, 'ul', 'coins', kind, content, ctx));
      nodes.push(section('special', ctx.t('guidance.special'), c.special, 'ul', 'info', kind, content, ctx));
      const bpu = Array.isArray(content.notes_bpu) ? content.notes_bpu : content.notes_bpu ? [content.notes_bpu] : [];
      if (kind === 'bpu' && bpu.length) {
        nodes.push(h('div', { class: 'g-note g-bpu', 'data-section': 'notes_bpu', 'data-speak': '' },
          h('h2', { class: 'g-h2', text: ctx.t('guidance.bpu_note') }),
          bpu.map((n) => h('p', null, itemNode(n, content, ctx)))));
      }
      out.push(wrap(nodes));
      break;
    }
    case 'lapsed':
    case 'future':
    case 'not_covered':
    case 'not_registered': {
      const n = content.not_covered ?? {};
      const nodes = [];
      if (choice.branch === 'future') nodes.push(note('g-future', fill(content.future?.note ?? '', { date: ctx.date(choice.entry.valid_from) }), 'clock'));
      if (program === 'JKN' && view.entries.length > 0 && choice.branch !== 'future') {
        nodes.push(section('lapsed', ctx.t('guidance.jkn_lapsed'), content.lapsed, 'ul', 'info', null, content, ctx));
      }
      nodes.push(section('now', ctx.t('guidance.now'), n.now, 'ol', null, null, content, ctx));
      if (choice.branch !== 'future') {
        if (n.already_happened) nodes.push(note('g-already', n.already_happened, 'info'));
        const routes = routeItems(view, category, n.routes);
        if (routes.length) {
          const label = category && ctx.has(`category.${category}`) ? ctx.t(`category.${category}`) : ctx.t('category.warga');
          nodes.push(section('route', ctx.t('guidance.route', { category: label }), routes, 'ul', 'person', null, content, ctx));
        }
        nodes.push(section('steps', ctx.t('guidance.steps'), n.steps, 'ol', null, null, content, ctx));
        nodes.push(section('who_can_pay', ctx.t('guidance.who_can_pay'), n.who_can_pay, 'ul', 'coins', null, content, ctx));
      }
      out.push(wrap(nodes));
      break;
    }
    default:
      break;
  }
  out.push(section('contacts', ctx.t('guidance.contacts'), content.contacts, 'ul', 'phone', null, content, ctx));
  out.push(section('complaints', ctx.t('guidance.complaints'), content.complaints, 'ul', 'doc', null, content, ctx));
  return out.filter(Boolean);
}

/** Category route first; a city-paid cover that ended adds the renewal route before it. */
function routeItems(view, category, routes) {
  if (!routes) return [];
  const out = [];
  if (view.ended.some(cityPaid) && !view.ended.every((c) => c.activity)) out.push(...(routes.renewal ?? []));
  out.push(...(routes[category] ?? routes.warga ?? []));
  return out;
}

function question(view, content, choice, ctx, answer) {
  const chosen = choice.branch === 'ask' ? null : (choice.branch === 'not_covered' ? 'other' : `ended-${view.ended.indexOf(choice.entry)}`);
  const option = (value, label) => h('button', {
    type: 'button', class: 'btn btn-when', 'data-when': value, 'aria-pressed': String(chosen === value),
    onclick: () => answer(value),
  }, icon(chosen === value ? 'check' : 'clock'), h('span', { text: label }));
  return h('section', { class: 'g-section g-when', 'data-section': 'when', 'data-speak': '' },
    h('h2', { class: 'g-h2', text: content.question }),
    h('p', { class: 'g-when-hint', text: ctx.t('guidance.when_hint') }),
    h('div', { class: 'g-when-options' },
      view.ended.slice(0, 3).map((c, i) => option(`ended-${i}`, ctx.t('guidance.when_between', {
        from: ctx.date(c.valid_from), to: ctx.date(c.valid_to) }) + (c.activity ? ` (${ctx.t('guidance.when_activity')})` : ''))),
      option('other', ctx.t('guidance.when_other'))));
}

function activityVars(entry, ctx) {
  return { activity: entry.activity, sk: entry.sk_rt_no ?? '–', from: ctx.date(entry.valid_from), to: ctx.date(entry.valid_to) };
}

function note(cls, content, iconName = 'info') {
  return h('p', { class: `g-note ${cls}`, 'data-speak': '' }, icon(iconName), typeof content === 'string' ? h('span', { text: content }) : content);
}

// An item shows for everyone unless it says whom it is for ("only": pu, bpu or activity).
function applies(item, kind) {
  if (typeof item !== 'object' || !item?.only) return true;
  const only = Array.isArray(item.only) ? item.only : [item.only];
  return only.includes(kind);
}

function section(name, title, items, listTag, bullet, kind, content, ctx) {
  const shown = (Array.isArray(items) ? items : []).filter((item) => applies(item, kind));
  if (shown.length === 0) return null;
  return h('section', { class: `g-section g-${name}`, 'data-section': name, 'data-speak': '' },
    h('h2', { class: 'g-h2', text: title }),
    h(listTag, { class: ['g-list', bullet ? 'g-list-icons' : 'g-list-numbers'] },
      shown.map((item) => h('li', null, bullet ? icon(bullet) : null, itemNode(item, content, ctx)))));
}

// An item is either plain text or {text, source, as_of?, only?}: figures carry
// the number of their source, and figures from the press their date too.
function itemNode(item, content, ctx) {
  if (typeof item === 'string') return h('span', { text: item });
  const notes = [];
  if (item.as_of) notes.push(ctx.t('guidance.as_of', { date: item.as_of }));
  const refs = (Array.isArray(item.source) ? item.source : [item.source])
    .filter((s) => Number.isInteger(s) && content.sources?.[s]).map((s) => `[${s + 1}]`);
  if (refs.length) notes.push(refs.join(''));
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
