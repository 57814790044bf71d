// The page's only link to the daemon: one WebSocket on /api/ws. The daemon
// sends the whole state on connect and on every change, so after a drop we
// simply reconnect and render whatever arrives first.

const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

export class KioskSocket {
  constructor({ onState, onOpen, onClose }) {
    this.onState = onState;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.ws = null;
    this.delay = MIN_DELAY_MS;
    this.timer = null;
  }

  start() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/ws`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = MIN_DELAY_MS;
      this.onOpen?.();
    });
    ws.addEventListener('message', (event) => {
      let state;
      try {
        state = JSON.parse(event.data);
      } catch {
        return; // a broken frame is dropped; the next full state repairs the screen
      }
      if (state && typeof state === 'object' && typeof state.screen === 'string') this.onState(state);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClose?.();
      this.scheduleReconnect();
    });
    // 'error' is always followed by 'close'; reconnecting happens there.
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    // Jitter keeps a room full of kiosks from reconnecting in lock step after a daemon restart.
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => this.start(), wait);
  }

  get connected() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(action) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(action));
    return true;
  }
}
