// telemetry.js - the client's own telemetry, exactly what the security page
// lists: feature use, network status, connectivity with the backend,
// errors and crashes, each with the app version, OS version and display
// size (sign-in and sign-out are recorded by the server itself).
//
// Nothing is lost when the network or sembark is away: every event is kept
// in localStorage, under the signed-in user, until a 202 says it is
// stored; a batch that did not get one is sent again later with the same
// event ids, which the server counts once. Events seen before anyone
// signed in (an error on the login page) go with the next user who does.
// Error texts are cut to their message, without URLs, emails or tokens.

import { api, ApiError, onConnectivity } from './api.js';
import { appVersion, displaySize, osVersion, osFromUserAgent } from './platform.js';

const PREFIX = 'sembark.telemetry.v1.';
const ANON = '_';
const BATCH_MAX = 100;         // events in one request (the API takes 500)
const QUEUE_MAX = 1000;        // events kept per user; the oldest go first
const MAX_AGE_MS = 7 * 86400e3 - 3600e3; // the API refuses events older than 7 days
const DEBOUNCE_MS = 2000;
const PERIOD_MS = 60e3;
const BACKOFF_MIN_MS = 2000;
const BACKOFF_MAX_MS = 300e3;
const ERRORS_PER_PAGE = 20;

let user = null;               // signed-in user id, null when none
let osName = null;
let timer = 0;
let backoff = 0;
let sending = null;
let batchMax = BATCH_MAX;
let errorsLeft = ERRORS_PER_PAGE;
let outage = false;            // API calls are failing
let reconnectingSaid = false;
const memory = new Map();      // when localStorage is not available

function storageKey(owner) {
  return PREFIX + (owner || ANON);
}

function load(owner) {
  const key = storageKey(owner);
  let list;
  try {
    list = JSON.parse(localStorage.getItem(key) || '[]');
  } catch {
    list = memory.get(key) || [];
  }
  if (!Array.isArray(list)) list = [];
  const oldest = Date.now() - MAX_AGE_MS;
  return list.filter((e) => e && e.id && Date.parse(e.occurred_at) > oldest);
}

function save(owner, list) {
  const key = storageKey(owner);
  const kept = list.slice(-QUEUE_MAX);
  try {
    if (kept.length) localStorage.setItem(key, JSON.stringify(kept));
    else localStorage.removeItem(key);
  } catch {
    memory.set(key, kept);
  }
}

// uuid - a random (v4) UUID; crypto.randomUUID needs a secure context
function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function client() {
  return {
    app_version: appVersion(),
    os_version: osName || osFromUserAgent(navigator.userAgent),
    display: displaySize(),
  };
}

// clean - an error text without URLs, emails, long hex or base64 runs; at most 256 characters
export function clean(text) {
  return String(text || 'unknown error')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/[^\s@]+@[^\s@]+\.[^\s@]+/g, '[email]')
    .replace(/\b[0-9a-f]{16,}\b/gi, '[hex]')
    .replace(/[A-Za-z0-9_-]{32,}/g, '[token]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 256);
}

// track - record one event; it is sent soon, and kept until it was
export function track(type, attrs = {}) {
  const event = { id: uuid(), type, occurred_at: new Date().toISOString(), attrs, client: client() };
  const list = load(user);
  list.push(event);
  save(user, list);
  schedule(DEBOUNCE_MS);
  return event.id;
}

// feature - a dashboard action: feature_interaction with attrs.feature
export function feature(name) {
  return track('feature_interaction', { feature: name });
}

function schedule(ms) {
  if (!user) return;
  clearTimeout(timer);
  timer = setTimeout(() => { flush().catch(() => {}); }, Math.max(ms, backoff));
}

// nextBatch - the oldest events that share one client description
function nextBatch(list) {
  if (!list.length) return null;
  const key = JSON.stringify(list[0].client);
  const events = list.filter((e) => JSON.stringify(e.client) === key).slice(0, batchMax);
  return { client: list[0].client, events };
}

function forget(ids) {
  const gone = new Set(ids);
  save(user, load(user).filter((e) => !gone.has(e.id)));
}

async function sendBatch(batch, keepalive) {
  const body = {
    client: batch.client,
    events: batch.events.map(({ id, type, occurred_at: at, attrs }) => ({ id, type, occurred_at: at, attrs })),
  };
  try {
    await api('POST', '/api/telemetry/events', body, { keepalive });
    return 'sent';
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 422 || e.status === 400) return 'sent'; // never acceptable: do not retry
    if (e.status === 413 && batchMax > 1) {
      batchMax = Math.max(1, Math.floor(batchMax / 2));
      return 'smaller';
    }
    if (e.status === 401) return 'signed-out';
    return 'later';
  }
}

async function flushNow(keepalive) {
  while (user) {
    const batch = nextBatch(load(user));
    if (!batch) break;
    if (outage && !reconnectingSaid) {
      reconnectingSaid = true;
      track('connectivity', { state: 'reconnecting' });
      continue;
    }
    const result = await sendBatch(batch, keepalive);
    if (result === 'sent') {
      forget(batch.events.map((e) => e.id));
      backoff = 0;
    } else if (result === 'signed-out') {
      return;
    } else if (result === 'later') {
      backoff = Math.min(BACKOFF_MAX_MS, backoff ? backoff * 2 : BACKOFF_MIN_MS);
      schedule(backoff);
      return;
    }
  }
}

// flush - send what is waiting now (one flush at a time)
export function flush({ keepalive = false } = {}) {
  if (!sending) sending = flushNow(keepalive).finally(() => { sending = null; });
  return sending;
}

// setUser - who is signed in (null: nobody); their events are sent, and
// those recorded before anyone signed in join them
export function setUser(id) {
  user = id || null;
  if (!user) {
    clearTimeout(timer);
    return;
  }
  const anon = load(null);
  if (anon.length) {
    save(user, load(user).concat(anon));
    save(null, []);
  }
  schedule(0);
}

// pending - how many events wait to be sent for the signed-in user
export function pending() {
  return load(user).length;
}

function onReachable(ok) {
  if (!ok && !outage) {
    outage = true;
    reconnectingSaid = false;
    track('connectivity', { state: 'disconnected' });
  } else if (ok && outage) {
    outage = false;
    track('connectivity', { state: 'connected' });
    backoff = 0;
    schedule(0);
  }
}

function reportError(kind, message) {
  if (errorsLeft <= 0) return;
  errorsLeft -= 1;
  track('error', { source: kind, message: clean(message) });
}

// crash - the page could not do its work at all (a view failed to render)
export function crash(where, e) {
  track('crash', { where, message: clean(e && e.message ? e.message : e) });
}

// start - listen for what is reported; call once when the page starts
export async function start() {
  window.addEventListener('error', (ev) => reportError('onerror', ev.message || (ev.error && ev.error.message)));
  window.addEventListener('unhandledrejection', (ev) => {
    const r = ev.reason;
    reportError('unhandledrejection', r && r.message ? r.message : r);
  });
  window.addEventListener('online', () => { track('network_status', { online: true }); backoff = 0; schedule(0); });
  window.addEventListener('offline', () => track('network_status', { online: false }));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush({ keepalive: true }).catch(() => {});
  });
  onConnectivity(onReachable);
  setInterval(() => { if (user && pending()) schedule(0); }, PERIOD_MS);
  osName = await osVersion();
}
