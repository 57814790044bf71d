// Some screens can be taller than the window: four tiles with a long Kampung
// Bahagia entry, large text in landscape, a long answer. Rather than let the
// screen scroll, fit() first tightens the spacing (class "dense" on the screen
// root; text sizes stay), then, in large-text mode only, steps the text size
// down a pixel at a time until everything fits, never below the normal size.

const NORMAL_SHARE = 0.024; // kiosk.css: html { font-size: min(1vw, 1vh) * 2.4 }, clamped 16..40 px

function overflows(root) {
  const html = document.documentElement;
  return root.scrollHeight > root.clientHeight + 1 || html.scrollHeight > window.innerHeight + 1
    || html.scrollWidth > html.clientWidth + 1;
}

export function fitLargeText(root, large) {
  const html = document.documentElement;
  html.style.removeProperty('font-size');
  root.classList.remove('dense');
  if (!overflows(root)) return;
  root.classList.add('dense');
  if (!large) return;
  const normal = Math.min(40, Math.max(16, Math.min(window.innerWidth, window.innerHeight) * NORMAL_SHARE));
  let size = parseFloat(getComputedStyle(html).fontSize);
  while (overflows(root) && size - 1 >= normal) {
    size -= 1;
    html.style.fontSize = `${size}px`;
  }
}
