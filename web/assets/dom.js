// dom.js - small helpers to build the page without innerHTML: elements,
// SVG, form fields with their labels and error slots, a confirmation
// dialog, toasts and dates in words. Every text goes in as a text node, so
// nothing the server or a user typed can become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// h - an HTML element: h('button', {class: 'primary', onclick: fn}, 'Save')
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s - an SVG element, the same way
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// replace - el's children become these
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
// nextId - a fresh element id with this prefix
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// field - a labelled input with a hint and an error slot:
// {wrap, input, error}; name is the API's field name
export function field({ name, label, type = 'text', autocomplete, hint, value, attrs }) {
  const id = nextId(`f-${name}`);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id, name, type, autocomplete, value,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  });
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input, error);
  return { wrap, input, error };
}

// formAlert - the slot for a form's errors that belong to no field
export function formAlert() {
  return h('div', { class: 'alert', role: 'alert', hidden: true });
}

// showAlert - text in an alert slot (null: hide it)
export function showAlert(alertEl, text, kind = 'error') {
  alertEl.hidden = !text;
  alertEl.className = `alert alert-${kind}`;
  alertEl.textContent = text || '';
}

// clearErrors - hide every field error and the alert of a form
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const alert = form.querySelector('.alert');
  if (alert) showAlert(alert, null);
}

// showFieldErrors - the API's {field: text} next to the fields; returns
// those that have no field in the form
export function showFieldErrors(form, fields) {
  const rest = {};
  let first = null;
  for (const [name, text] of Object.entries(fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const error = input && document.getElementById(`${input.id}-error`);
    if (!error) {
      rest[name] = text;
      continue;
    }
    input.setAttribute('aria-invalid', 'true');
    error.hidden = false;
    error.textContent = sentence(labelOf(input), text);
    first = first || input;
  }
  if (first) first.focus();
  return rest;
}

function labelOf(input) {
  const label = input.labels && input.labels[0];
  return label ? label.textContent : input.name;
}

// sentence - "Email is required." from the label and the API's "is required"
export function sentence(label, text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const starts = /^(is|must|should|has|have|was|are|cannot|can't|does|do|already)\b/i.test(t);
  const body = starts ? `${label} ${t}` : t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(body) ? body : `${body}.`;
}

// busy - disable a form's controls while a request runs; returns the undo
export function busy(form, label) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')];
  const states = controls.map((c) => c.disabled);
  const submit = form.querySelector('button[type="submit"]');
  const text = submit ? submit.textContent : null;
  controls.forEach((c) => { c.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  if (submit && label) submit.textContent = label;
  return () => {
    controls.forEach((c, i) => { c.disabled = states[i]; });
    form.removeAttribute('aria-busy');
    if (submit && label) submit.textContent = text;
  };
}

let toastTimer = 0;
// toast - a short message at the bottom of the screen, read out by screen readers
export function toast(text) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

// confirmDialog - a modal question; resolves true when confirmed
export function confirmDialog({ title, body, confirm, danger = true }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const ok = h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm);
    const cancel = h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('p', null, body),
        h('div', { class: 'actions' }, cancel, ok)));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// fmtTime - an RFC 3339 time in the reader's zone and language
export function fmtTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

// fmtDay - "Nov 29" for a YYYY-MM-DD day (UTC)
export function fmtDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : dayOnly.format(d);
}

// fmtRelative - "5 minutes ago", "in 23 hours"
export function fmtRelative(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const sec = Math.round((t - now) / 1000);
  const abs = Math.abs(sec);
  if (abs < 45) return relative.format(0, 'second');
  if (abs < 2700) return relative.format(Math.round(sec / 60), 'minute');
  if (abs < 79200) return relative.format(Math.round(sec / 3600), 'hour');
  return relative.format(Math.round(sec / 86400), 'day');
}

// timeEl - a <time> with the date in words and the exact moment as its title
export function timeEl(iso, { relativeFirst = false } = {}) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const text = relativeFirst ? fmtRelative(iso) : fmtTime(iso);
  return h('time', { datetime: iso, title: fmtTime(iso) }, text);
}

// waitWords - "45 seconds", "about 3 minutes" for a Retry-After in seconds
export function waitWords(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
  const m = Math.ceil(s / 60);
  if (m < 60) return m === 1 ? 'about a minute' : `about ${m} minutes`;
  const hrs = Math.ceil(m / 60);
  return hrs === 1 ? 'about an hour' : `about ${hrs} hours`;
}
