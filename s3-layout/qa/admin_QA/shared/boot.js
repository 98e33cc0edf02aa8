/**
 * Entry point of every portal page: loads the portal's own config.js (next to its index.html)
 * and starts the shared portal. Kept out of index.html so that the pages hold no inline script
 * (a Content-Security-Policy of script-src 'self' fits them).
 */
import { startPortal } from './portal.js';

const app = document.getElementById('app');
try {
  // Relative to the page, not to this file: /admin/ gets /admin/config.js, /admin_QA/ its own.
  const { default: config } = await import(new URL('./config.js', document.baseURI).href);
  startPortal(app, config);
} catch (err) {
  const message = document.createElement('p');
  message.className = 'boot-error';
  message.textContent = 'This portal could not start: its configuration did not load.';
  app.replaceChildren(message);
  console.error(err);
}
