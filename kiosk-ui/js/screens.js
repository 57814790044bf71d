// One function per kiosk screen (docs/contracts.md §4). Each returns a fresh DOM subtree
// built only from the state it is given; the caller swaps it in whole, so a
// screen that is left takes its personal content with it.

import { h } from './dom.js';
import { icon, tapPicture } from './icons.js';
import { listenButton } from './speech.js';
import { ageText, syncErrorText } from './freshness.js';
import { programsToShow, coveragesFor, isCovered, validityLine, funderLine, programView } from './coverage.js';
import { guidancePrograms, isCategory } from './schema.js';

// Presentation per programme code; the list of programmes is the daemon's (schema.js).
// A programme without an icon here still gets its button, with a neutral icon.
const ACTION_ICONS = { JKK: 'accident', JKM: 'flower', JKN: 'health' };
const actionIcon = (program) => ACTION_ICONS[program] ?? 'info';

export const ERROR_CODES = ['READ_ERROR', 'NOT_KARTU_BAHAGIA', 'CANNOT_VERIFY_CARD', 'BLOCKED',
  'NOT_FOUND', 'DATA_TOO_OLD', 'READER_LOST', 'NO_DATA'];

// Errors where the citizen should be pointed at 112 on screen.
const CALL_112 = new Set(['DATA_TOO_OLD', 'NO_DATA']);
// Errors a tap on "back to start" cannot fix: they last until the hardware or data returns.
const NO_DONE_BUTTON = new Set(['READER_LOST']);

const ERROR_ICONS = {
  READ_ERROR: 'card', NOT_KARTU_BAHAGIA: 'card', CANNOT_VERIFY_CARD: 'person', BLOCKED: 'info',
  NOT_FOUND: 'info', DATA_TOO_OLD: 'clock', READER_LOST: 'person', NO_DATA: 'info',
};

export function idleScreen(state, ctx) {
  return h('section', { class: 'screen idle', 'aria-labelledby': 'idle-title' },
    h('div', { class: 'idle-text' },
      h('h1', { id: 'idle-title', class: 'idle-title', text: ctx.t('idle.title') }),
      h('p', { class: 'idle-hint', text: ctx.t('idle.hint') }),
      h('p', { class: 'idle-nologin' }, icon('check'), h('span', { text: ctx.t('idle.no_login') }))),
    h('div', { class: 'idle-picture' }, tapPicture(ctx.t('idle.picture_alt'))),
    dataFooter(state, ctx));
}

export function readingScreen(state, ctx) {
  return h('section', { class: 'screen reading', 'aria-labelledby': 'reading-title' },
    h('div', { class: 'spinner', 'aria-hidden': 'true' }),
    h('h1', { id: 'reading-title', class: 'reading-title', text: ctx.t('reading.title') }),
    h('p', { class: 'reading-body', text: ctx.t('reading.body') }));
}

export function offlineScreen(ctx) {
  return h('section', { class: 'screen offline', 'aria-labelledby': 'offline-title' },
    h('div', { class: 'spinner', 'aria-hidden': 'true' }),
    h('h1', { id: 'offline-title', class: 'reading-title', text: ctx.t('offline.title') }),
    h('p', { class: 'reading-body', text: ctx.t('offline.body') }));
}

export function statusScreen(state, ctx) {
  const tap = state.tap ?? {};
  const card = tap.card ?? {};
  const coverages = tap.coverages ?? [];
  const verdictOk = tap.verdict === 'ACTIVE';
  const main = guidancePrograms();
  const facts = [isCategory(card.category) && ctx.has(`category.${card.category}`) ? ctx.t(`category.${card.category}`) : null,
    card.kelurahan || null, card.rt ? ctx.t('status.rt', { rt: card.rt }) : null].filter(Boolean);

  return h('section', { class: 'screen status', 'aria-labelledby': 'status-holder' },
    h('div', { class: 'person' },
      h('div', { class: 'person-id' },
        h('p', { class: 'label', text: ctx.t('status.holder') }),
        h('h1', { id: 'status-holder', class: 'holder', text: card.holder ?? '' }),
        facts.length ? h('p', { class: 'person-facts', text: facts.join(' · ') }) : null),
      h('dl', { class: 'card-facts' },
        h('div', null, h('dt', { text: ctx.t('status.card_no') }), h('dd', { class: 'card-no', text: card.card_no ?? '' })),
        h('div', null, h('dt', { text: ctx.t('status.card_status') }),
          h('dd', { class: ['card-status', card.status === 'active' ? 'is-ok' : 'is-neutral'],
            text: ctx.has(`card_status.${card.status}`) ? ctx.t(`card_status.${card.status}`) : (card.status ?? '') })))),
    h('div', { class: 'summary-row' },
      h('p', { class: ['summary', verdictOk ? 'is-ok' : 'is-neutral'], 'data-speak': '' },
        icon(verdictOk ? 'check' : 'info'), h('span', { text: ctx.t(`status.summary.${verdictOk ? 'ACTIVE' : 'INACTIVE'}`) })),
      listenButton(ctx, () => document.getElementById('screen'))),
    dataBanner(state, ctx),
    h('div', { class: 'tiles' }, main.map((p) => programTile(p, coverages, ctx))),
    otherPrograms(programsToShow(coverages).filter((p) => !main.includes(p)), coverages, ctx),
    h('nav', { class: 'actions', 'aria-label': ctx.t('status.situation'), 'data-speak': '' },
      h('h2', { class: 'actions-title', text: ctx.t('status.situation') }),
      main.map((p) => h('button', {
        type: 'button', class: 'btn btn-situation', 'data-action': 'guidance', 'data-program': p,
        onclick: () => ctx.send({ action: 'guidance', program: p }),
      }, icon(actionIcon(p)), h('span', { text: ctx.t(`action.${p}`) }))),
      h('button', { type: 'button', class: 'btn btn-done', 'data-action': 'done', onclick: () => ctx.send({ action: 'done' }) },
        icon('done'), h('span', { text: ctx.t('action.done') }))),
    dataFooter(state, ctx));
}

function programTile(program, coverages, ctx) {
  const view = programView(coverages, program);
  const { entries } = view;
  const covered = Boolean(view.current);
  // covered | future (cover starts later) | not_covered (ended or not in force) | not_registered
  const state = covered ? 'covered' : view.future.length ? 'future' : entries.length ? 'not_covered' : 'not_registered';
  const stateText = {
    covered: () => ctx.t('tile.covered'),
    future: () => ctx.t('tile.starts_short', { date: ctx.date(view.future[0].valid_from) }),
    not_covered: () => ctx.t('tile.not_covered'),
    not_registered: () => ctx.t('tile.not_registered'),
  }[state]();
  return h('article', { class: ['tile', covered ? 'is-covered' : 'is-not-covered', `is-${state}`], 'data-program': program,
    'data-covered': String(covered), 'data-state': state, 'data-speak': '' },
    h('div', { class: 'tile-id' },
      h('header', { class: 'tile-head' },
        h('span', { class: 'tile-code', text: program }),
        h('span', { class: 'tile-state' }, icon(covered ? 'check' : state === 'future' ? 'clock' : 'minus'), h('span', { text: stateText }))),
      h('h3', { class: 'tile-name', text: ctx.t(`program.${program}`) })),
    h('div', { class: 'tile-details' },
      entries.length === 0
        ? [h('p', { class: 'tile-line tile-agency', text: ctx.t('tile.not_registered_line', { agency: ctx.t(`program.agency.${program}`) }) }),
          ctx.has(`tile.other_route.${program}`) ? h('p', { class: 'tile-line tile-other-route', text: ctx.t(`tile.other_route.${program}`) }) : null]
        // The entry that applies in full; any further one (a Kampung Bahagia activity next to
        // the city-paid cover, an older period) in one short block, so four tiles still fit.
        : [...entries.slice(0, 2).map((c, i) => h('div', { class: ['tile-entry', i > 0 ? 'tile-entry-more' : null] },
          h('p', { class: 'tile-line tile-validity', text: validityLine(c, ctx) }),
          c.funder && (i === 0 || c.funder !== entries[0].funder) ? h('p', { class: 'tile-line tile-funder', text: funderLine(c.funder, ctx) }) : null,
          c.legal_basis && i === 0 ? h('p', { class: 'tile-line tile-basis', text: ctx.t('tile.legal_basis', { basis: c.legal_basis }) }) : null,
          c.activity ? h('div', { class: 'tile-kb' },
            h('p', { class: 'tile-line tile-activity', text: ctx.t('tile.activity', { activity: c.activity }) }),
            h('p', { class: 'tile-line tile-period' },
              h('span', { text: ctx.t('tile.period', { from: ctx.date(c.valid_from), to: ctx.date(c.valid_to) }) }),
              c.sk_rt_no ? h('span', { class: 'tile-sk', text: ` · ${ctx.t('tile.sk', { sk: c.sk_rt_no })}` }) : null)) : null)),
        entries.length > 2 ? h('p', { class: 'tile-line tile-more', text: ctx.t('tile.more_entries', { n: entries.length - 2 }) }) : null]));
}

// JHT and JP are mostly for wage earners: shown when present, one line each, no walkthrough.
function otherPrograms(programs, coverages, ctx) {
  if (programs.length === 0) return null;
  return h('article', { class: 'tile tile-others', 'data-speak': '' },
    programs.map((p) => {
      const entry = coveragesFor(coverages, p)[0];
      const covered = isCovered(coverages, p);
      return h('div', { class: ['other', covered ? 'is-covered' : 'is-not-covered'], 'data-program': p, 'data-covered': String(covered) },
        h('p', { class: 'other-head' },
          h('span', { class: 'tile-code', text: p }),
          h('span', { class: 'tile-name', text: ctx.t(`program.${p}`) })),
        h('p', { class: 'tile-line' },
          icon(covered ? 'check' : 'minus'),
          h('span', { text: `${covered ? ctx.t('tile.covered') : ctx.t('tile.not_covered')} · ${validityLine(entry, ctx)}` })),
        entry?.funder ? h('p', { class: 'tile-line tile-funder', text: funderLine(entry.funder, ctx) }) : null);
    }));
}

export function errorScreen(state, ctx) {
  const code = ERROR_CODES.includes(state.error) ? state.error : 'READ_ERROR';
  return h('section', { class: ['screen', 'error', `error-${code}`], 'aria-labelledby': 'error-title', 'data-error': code },
    h('div', { class: 'error-icon' }, icon(ERROR_ICONS[code])),
    h('h1', { id: 'error-title', class: 'error-title', text: ctx.t(`error.${code}.title`) }),
    h('p', { class: 'error-body', text: ctx.t(`error.${code}.body`) }),
    CALL_112.has(code) ? callBox(ctx) : null,
    NO_DONE_BUTTON.has(code) ? null : h('button', {
      type: 'button', class: 'btn btn-done', 'data-action': 'done', onclick: () => ctx.send({ action: 'done' }),
    }, icon('back'), h('span', { text: ctx.t('error.ok') })),
    dataFooter(state, ctx));
}

export function callBox(ctx) {
  return h('div', { class: 'call-box', 'data-speak': '' },
    h('p', { class: 'call-lead', text: ctx.t('guidance.call') }),
    h('p', { class: 'call-line' }, icon('phone'), h('span', { text: ctx.t('guidance.call_line') })),
    h('p', { class: 'call-number', 'aria-label': '1 1 2', text: '112' }),
    h('p', { class: 'call-ambulance', text: ctx.t('guidance.call_ambulance') }));
}

/** Amber banner: data past its soft age, or the kiosk cannot reach its data source. */
export function dataBanner(state, ctx) {
  const data = state.data ?? {};
  const date = ctx.instant(data.signed_at) ?? ctx.t('footer.no_data');
  const stale = state.tap?.freshness === 'STALE' || data.freshness === 'STALE';
  const offline = Boolean(data.last_sync_error);
  if (!stale && !offline) return null;
  // A frozen mirror is not an outage: say what it is (the data is not being extended).
  const kind = data.last_sync_error === 'FREEZE' ? 'freeze' : offline ? 'offline' : 'stale';
  return h('p', { class: 'banner banner-amber', role: 'status', 'data-banner': kind, 'data-speak': '' },
    icon('warn'), h('span', { text: ctx.t(`banner.${kind}`, { date }) }));
}

/**
 * The data's date and age, and, when the kiosk syncs, how its last sync went in words:
 * a failing sync or a frozen mirror (an expired signed timestamp) is said, never hidden.
 */
export function dataFooter(state, ctx) {
  const data = state.data ?? {};
  const when = ctx.instant(data.signed_at);
  const age = when && Number.isFinite(data.age_seconds) ? ctx.t('footer.age', { age: ageText(ctx, data.age_seconds) }) : null;
  let sync = null;
  let syncState = 'none';
  // On a citizen's card screens the amber banner says it (dataBanner); the footer stays one line.
  const banner = Boolean(state.tap);
  if (banner && data.last_sync_error) {
    syncState = data.last_sync_error === 'FREEZE' ? 'freeze' : 'failing';
  } else if (data.last_sync_error) {
    syncState = data.last_sync_error === 'FREEZE' ? 'freeze' : 'failing';
    const last = ctx.instant(data.last_sync) ?? ctx.t('operator.never');
    sync = ctx.t('footer.sync_failed', { reason: syncErrorText(ctx, data.last_sync_error), last });
  } else if (data.last_sync && !banner) {
    syncState = 'ok';
    sync = ctx.t('footer.sync_ok', { when: ctx.instant(data.last_sync) });
  }
  return h('footer', { class: ['data-footer', syncState !== 'ok' && syncState !== 'none' && 'data-footer-warn'], 'data-sync': syncState },
    h('span', { class: 'data-as-of', text: when ? ctx.t('footer.data_as_of', { date: when }) : ctx.t('footer.no_data') }),
    age ? h('span', { class: 'data-age', text: age }) : null,
    sync ? h('span', { class: 'data-sync', text: sync }) : null);
}
