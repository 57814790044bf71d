// Inline SVG icons (static markup owned by this file, parsed once each).
// Decorative unless a label is passed: screen readers get the text next to them.

const SVG_NS = 'http://www.w3.org/2000/svg';

const PATHS = {
  check: '<path d="M5 12.5l4.5 4.5L19 7.5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
  minus: '<path d="M6 12h12" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"/>',
  info: '<circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 10.5v6" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/><circle cx="12" cy="7.3" r="1.4" fill="currentColor"/>',
  clock: '<circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 7v5.2l3.4 2.2" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>',
  doc: '<path d="M7 3h7l4 4v14H7z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M14 3v4h4" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>',
  box: '<rect x="4" y="4" width="16" height="16" rx="3" fill="none" stroke="currentColor" stroke-width="2.2"/>',
  pin: '<path d="M12 21s-6.5-6.2-6.5-11A6.5 6.5 0 0 1 18.5 10c0 4.8-6.5 11-6.5 11z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><circle cx="12" cy="10" r="2.4" fill="currentColor"/>',
  coins: '<ellipse cx="12" cy="7" rx="7" ry="3" fill="none" stroke="currentColor" stroke-width="2"/><path d="M5 7v5c0 1.7 3.1 3 7 3s7-1.3 7-3V7M5 12v5c0 1.7 3.1 3 7 3s7-1.3 7-3v-5" fill="none" stroke="currentColor" stroke-width="2"/>',
  phone: '<path d="M6.6 3.5l3 .4 1.4 4.1-2 1.6a12 12 0 0 0 5.4 5.4l1.6-2 4.1 1.4.4 3A2 2 0 0 1 18.6 20 15.6 15.6 0 0 1 4 5.4a2 2 0 0 1 2.6-1.9z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>',
  warn: '<path d="M12 3.5l9.5 16.5h-19z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M12 10v4.5" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/><circle cx="12" cy="17.3" r="1.3" fill="currentColor"/>',
  person: '<circle cx="12" cy="8" r="4" fill="none" stroke="currentColor" stroke-width="2"/><path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  card: '<rect x="2.5" y="5.5" width="19" height="13" rx="2.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M2.5 10h19" stroke="currentColor" stroke-width="2"/>',
  down: '<path d="M5 9l7 7 7-7" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
  back: '<path d="M15 5l-7 7 7 7" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
  done: '<path d="M4 12.5l5 5L20 6.5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
  accident: '<path d="M12 3l9 16H3z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M9 15.5h6M12 9v4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  flower: '<circle cx="12" cy="9" r="2.4" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 4.2a2.6 2.6 0 0 1 0 2.4M7.5 9a2.6 2.6 0 0 1 2.4 0M16.5 9a2.6 2.6 0 0 0-2.4 0M12 11.4V21M12 17c-2-2.5-4.5-2.5-6-2M12 17c2-2.5 4.5-2.5 6-2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  health: '<rect x="3.5" y="3.5" width="17" height="17" rx="4" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 8v8M8 12h8" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"/>',
  globe: '<circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="2"/><path d="M3 12h18M12 3c2.6 2.6 3.8 5.6 3.8 9s-1.2 6.4-3.8 9c-2.6-2.6-3.8-5.6-3.8-9S9.4 5.6 12 3z" fill="none" stroke="currentColor" stroke-width="1.8"/>',
  textsize: '<path d="M3 19l5-13 5 13M4.8 14.5h6.4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/><path d="M14.5 19l3.2-8 3.3 8M15.6 16.3h4.2" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>',
  speaker: '<path d="M4 9.5h3.5L12 5.5v13l-4.5-4H4z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/><path d="M15.5 9a4 4 0 0 1 0 6M18 6.5a7.5 7.5 0 0 1 0 11" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  heart: '<path d="M12 20s-7.5-4.6-7.5-10A4.3 4.3 0 0 1 12 7.3 4.3 4.3 0 0 1 19.5 10c0 5.4-7.5 10-7.5 10z" fill="currentColor"/>',
};

export function icon(name, { label = null, className = 'icon' } = {}) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('focusable', 'false');
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  const doc = new DOMParser().parseFromString(`<svg xmlns="${SVG_NS}">${PATHS[name] ?? ''}</svg>`, 'image/svg+xml');
  for (const node of [...doc.documentElement.childNodes]) svg.append(document.importNode(node, true));
  return svg;
}

// The idle screen's picture: the kiosk screen, the reader pad under it, and a
// card coming down flat onto the pad.
export function tapPicture(label) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 400 360');
  svg.setAttribute('class', 'tap-picture');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const markup = `
    <rect x="70" y="10" width="260" height="150" rx="14" fill="#0E4D64"/>
    <rect x="84" y="24" width="232" height="122" rx="6" fill="#E8F1F3"/>
    <rect x="104" y="50" width="150" height="12" rx="6" fill="#0E4D64" opacity=".55"/>
    <rect x="104" y="74" width="190" height="12" rx="6" fill="#0E4D64" opacity=".3"/>
    <rect x="104" y="98" width="120" height="12" rx="6" fill="#0E4D64" opacity=".3"/>
    <rect x="185" y="160" width="30" height="40" fill="#0E4D64"/>
    <path d="M60 214 h280 l26 118 H34z" fill="#2C3E45"/>
    <ellipse cx="200" cy="278" rx="96" ry="34" fill="#F2C14E"/>
    <ellipse cx="200" cy="278" rx="96" ry="34" fill="none" stroke="#FFFFFF" stroke-width="4" stroke-dasharray="10 8"/>
    <g class="tap-waves" fill="none" stroke="#FFFFFF" stroke-width="5" stroke-linecap="round">
      <path d="M172 270 q28 -16 56 0"/>
      <path d="M160 258 q40 -24 80 0" opacity=".7"/>
    </g>
    <g class="tap-card">
      <rect x="130" y="186" width="140" height="60" rx="9" fill="#FFFFFF" stroke="#0E4D64" stroke-width="4" transform="skewX(-18) translate(78 0)"/>
      <rect x="152" y="198" width="60" height="9" rx="4" fill="#B8860B" transform="skewX(-18) translate(78 0)"/>
      <rect x="152" y="220" width="96" height="8" rx="4" fill="#0E4D64" opacity=".6" transform="skewX(-18) translate(78 0)"/>
    </g>
    <path class="tap-arrow" d="M332 200 v56 m-14 -16 l14 16 l14 -16" fill="none" stroke="#B8860B" stroke-width="8" stroke-linecap="round" stroke-linejoin="round"/>`;
  const doc = new DOMParser().parseFromString(`<svg xmlns="${SVG_NS}">${markup}</svg>`, 'image/svg+xml');
  for (const node of [...doc.documentElement.childNodes]) svg.append(document.importNode(node, true));
  return svg;
}
