/**
 * The connection, said honestly: a dot and a word in the header, and while not live a banner
 * (its own row of the page grid, covering nothing) saying what is going on and what still works.
 * The browser's own online/offline state is shown too: the socket may take a while to notice.
 */
import { h } from './dom.js';

const WORDS = { live: 'Live', connecting: 'Connecting…', retrying: 'Reconnecting…', offline: 'Offline', stopped: 'Not connected' };

export function createConnection() {
  const indicator = h('span', { id: 'connection', class: 'connection', 'data-state': 'stopped', role: 'status', 'aria-label': 'Connection: not connected' },
    h('span', { class: 'connection__word' }, WORDS.stopped));
  const text = h('span', { class: 'banner__text' });
  const banner = h('div', { id: 'connection-banner', class: 'banner', role: 'status', hidden: true }, text);
  let socketState = 'stopped';
  let retryAt = 0;
  let ticker;
  let active = false;

  function render() {
    const offline = navigator.onLine === false;
    const state = !active ? 'stopped' : offline ? 'offline' : socketState;
    indicator.dataset.state = state;
    indicator.firstChild.textContent = WORDS[state];
    indicator.setAttribute('aria-label', `Connection: ${WORDS[state].replace('…', '').toLowerCase()}`);
    clearInterval(ticker);
    let message = '';
    if (!active) message = '';
    else if (offline) message = 'You are offline. New notifications will appear when the connection is back; what you see may be out of date.';
    else if (state === 'retrying') {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      message = seconds > 0
        ? `Live updates are interrupted. Reconnecting in ${seconds} s; nothing sent meanwhile is lost.`
        : 'Live updates are interrupted. Reconnecting now; nothing sent meanwhile is lost.';
      if (seconds > 0) ticker = setInterval(render, 1000);
    } else if (state === 'stopped') message = 'Live updates have stopped. Reload the page to reconnect.';
    banner.hidden = message === '';
    banner.dataset.state = state;
    text.textContent = message;
  }

  addEventListener('online', render);
  addEventListener('offline', render);

  return {
    indicator,
    banner,
    /** The subscription's state (the client's onState). */
    set(state, info = {}) {
      active = state !== 'unauthorized';
      socketState = state === 'open' ? 'live' : state === 'reconnecting' ? 'retrying' : state === 'connecting' ? 'connecting' : 'stopped';
      retryAt = info.retryInMs ? Date.now() + info.retryInMs : 0;
      indicator.title = info.code ? `last close code ${info.code}` : '';
      render();
    },
    /** Signed out: nothing to say. */
    reset() {
      active = false;
      socketState = 'stopped';
      render();
    },
    get live() {
      return active && socketState === 'live';
    },
  };
}
