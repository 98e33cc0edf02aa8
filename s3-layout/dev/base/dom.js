/**
 * Building the page without markup strings: every piece of data reaches the DOM as text
 * (text nodes, setAttribute), never through innerHTML, so a notification titled
 * "<img onerror=…>" shows as text (test/s3-layout.test.ts rejects any markup write).
 */

/**
 * Creates an element. Attribute values go through setAttribute and children through append(),
 * which makes text nodes of strings: data can never become markup. `on` attributes are not
 * accepted as strings: listeners are added with `el.addEventListener` by the caller.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let nextId = 0;
/** A page-unique id, for aria-labelledby, aria-describedby and label/for pairs. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled field: the label names the control (getByLabel), the hint describes it. */
export function field(label, input, hint) {
  const id = input.id || uid('field');
  input.id = id;
  const hintEl = hint ? h('span', { class: 'field__hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { class: 'field__label', for: id }, label), input, hintEl);
}

/**
 * Text someone else chose (a name, a title, an email) inside a line of the portal's own words:
 * a <bdi>, so that its direction (an Arabic name, or a U+202E RIGHT-TO-LEFT OVERRIDE meant to
 * reverse what follows) stays inside it and the rest of the line reads as written.
 */
export function bdi(text) {
  return h('bdi', {}, text);
}

/** Text read by screen readers only. */
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}

export function capitalise(s) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

/** A status line (role=status, or role=alert for errors) that a form fills in: text, or text and elements (bdi). */
export function statusLine(id) {
  const el = h('p', { id, class: 'form-status', hidden: true });
  return {
    el,
    show(text, kind = 'ok') {
      el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      el.dataset.kind = kind;
      el.replaceChildren(...[text].flat());
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
    },
  };
}

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  bell: ['M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0'],
  close: ['M18 6 6 18', 'm6 6 12 12'],
};

/** An icon drawn as SVG: no icon font or emoji font is needed on the user's machine. */
export function icon(name, size = 20) {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ class: `icon icon--${name}`, viewBox: '0 0 24 24', width: String(size), height: String(size), 'aria-hidden': 'true', focusable: 'false' })) {
    svg.setAttribute(k, v);
  }
  for (const d of ICONS[name] ?? []) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
