// "Dengarkan" / "Listen": reads the screen aloud for those who cannot read it.
// The text is what the screen shows (never the name or the card number), sent
// one section at a time to the kiosk's own synthesiser (POST /api/speech,
// espeak-ng, offline); the next section is fetched while one plays.

import { h } from './dom.js';
import { icon } from './icons.js';

const MAX_CHUNK_BYTES = 1800; // the daemon takes at most 2000 bytes a request
const PHONES = /\b(112|119|165|175|137|1708)\b/g;

let session = null; // the reading in progress: { stop() }

function audioElement() {
  let el = document.getElementById('speech-audio');
  if (!el) {
    el = h('audio', { id: 'speech-audio', preload: 'auto' });
    document.body.append(el);
  }
  return el;
}

function setState(value) {
  document.body.dataset.speech = value;
}

/** Words as a listener should hear them: phone numbers digit by digit, amounts in rupiah. */
export function spoken(text, lang) {
  return text
    .replace(/\s*\((?:\[\d+\])+(?:, [^)]*)?\)|\s*\((?:per|as of) [^)]*\)/g, '')
    .replace(/(\d)\s?×\s?(\d)/g, lang === 'en' ? '$1 times $2' : '$1 kali $2')
    .replace(/Rp\s?([\d.,]+)(\s(?:juta|ribu|million|thousand))?/g, '$1$2 rupiah')
    .replace(/(\d{4})-(\d{4})-(\d{3})/g, (m) => m.replace(/-/g, '').split('').join(' '))
    .replace(PHONES, (m) => m.split('').join(' '))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The sections of `root` marked data-speak, as chunks small enough for one request. */
export function speechChunks(root, lang) {
  const enc = new TextEncoder();
  const chunks = [];
  let current = '';
  for (const el of root.querySelectorAll('[data-speak]')) {
    if (el.closest('[hidden]')) continue;
    const text = spoken(el.innerText ?? el.textContent ?? '', lang);
    if (!text) continue;
    for (const sentence of text.split(/(?<=[.!?:])\s+/)) {
      const next = current ? `${current} ${sentence}` : sentence;
      if (enc.encode(next).length > MAX_CHUNK_BYTES && current) {
        chunks.push(current);
        current = sentence;
      } else {
        current = next;
      }
    }
    if (enc.encode(current).length > MAX_CHUNK_BYTES / 2) {
      chunks.push(current);
      current = '';
    }
  }
  if (current) chunks.push(current);
  return chunks.map((c) => (enc.encode(c).length > MAX_CHUNK_BYTES ? c.slice(0, MAX_CHUNK_BYTES / 2) : c));
}

async function fetchSpeech(text, lang, signal) {
  const res = await fetch('/api/speech', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ lang, text }), signal,
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

/** Stops any reading (a new screen, "Selesai", another press). */
export function stopSpeech() {
  session?.stop();
  session = null;
}

function start(button, ctx, getRoot) {
  stopSpeech();
  const chunks = speechChunks(getRoot(), ctx.lang);
  if (!chunks.length) return;
  const abort = new AbortController();
  const audio = audioElement();
  const urls = [];
  let stopped = false;
  const label = button.querySelector('span');
  const finish = (state) => {
    stopped = true;
    abort.abort();
    audio.pause();
    audio.removeAttribute('src');
    urls.forEach((u) => URL.revokeObjectURL(u));
    setState(state);
    button.setAttribute('aria-pressed', 'false');
    if (button.isConnected) label.textContent = state === 'failed' ? ctx.t('speech.failed') : ctx.t('action.listen');
  };
  session = { stop: () => { if (!stopped) finish('idle'); } };
  button.setAttribute('aria-pressed', 'true');
  label.textContent = ctx.t('action.stop_listen');
  setState('loading');
  (async () => {
    try {
      let next = fetchSpeech(chunks[0], ctx.lang, abort.signal);
      for (let i = 0; i < chunks.length && !stopped; i++) {
        const url = await next;
        urls.push(url);
        if (i + 1 < chunks.length) next = fetchSpeech(chunks[i + 1], ctx.lang, abort.signal);
        if (stopped) return;
        audio.src = url;
        const ended = new Promise((resolve, reject) => {
          audio.onended = resolve;
          audio.onerror = () => reject(new Error('audio'));
        });
        await audio.play();
        setState('playing');
        await ended;
      }
      if (!stopped) finish('done');
    } catch {
      if (!stopped) finish('failed');
    }
  })();
}

/** The "Dengarkan" button; `getRoot` gives the screen whose data-speak sections it reads. */
export function listenButton(ctx, getRoot) {
  const button = h('button', {
    type: 'button', class: 'btn btn-listen', 'data-action': 'listen', 'aria-pressed': 'false',
    onclick: () => (button.getAttribute('aria-pressed') === 'true' ? stopSpeech() : start(button, ctx, getRoot)),
  }, icon('speaker'), h('span', { text: ctx.t('action.listen') }));
  return button;
}
