// api.js - every call to sembark's JSON API goes through here.
//
// CSRF the way Laravel Sanctum's clients do it: the XSRF-TOKEN cookie
// (fetched from GET /api/csrf when missing) goes back as X-XSRF-TOKEN on
// every state-changing request; a 419 means the token went stale (another
// tab logged in or out), so a new one is fetched and the request is sent
// once more, silently. Failures become ApiError with the API's code, its
// field errors and the Retry-After wait; errorText() puts them in words.
// Whether the API can be reached at all is reported to onConnectivity()
// listeners, and a 401 on a signed-in page to the onSessionEnded() hook.

import { waitWords } from './dom.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || (status === 0 ? 'network' : 'unknown');
    this.fields = (body && body.fields) || null;
    this.retryAfter = retryAfter;
  }
}

const listeners = new Set();
let reachable = true;
let sessionEnded = null;

// onConnectivity - fn(true|false) whenever the API starts or stops answering
export function onConnectivity(fn) {
  listeners.add(fn);
}

// isReachable - did the last call reach the API?
export function isReachable() {
  return reachable;
}

function noteReachable(ok) {
  if (ok === reachable) return;
  reachable = ok;
  for (const fn of listeners) {
    try { fn(ok); } catch (e) { setTimeout(() => { throw e; }); }
  }
}

// onSessionEnded - fn() when a call that needed a session answers 401
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

// readCookie - a cookie's value as the browser holds it, decoded; null when absent
export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

// refreshCsrf - a fresh XSRF-TOKEN cookie from the server
export async function refreshCsrf() {
  await send('GET', '/api/csrf', undefined, {});
}

async function csrfHeader() {
  let token = readCookie('XSRF-TOKEN');
  if (!token) {
    await refreshCsrf();
    token = readCookie('XSRF-TOKEN');
  }
  return token ? { 'X-XSRF-TOKEN': token } : {};
}

async function send(method, path, body, opts) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method)) Object.assign(headers, await csrfHeader());
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive: Boolean(opts.keepalive),
    });
  } catch {
    noteReachable(false);
    throw new ApiError(0, null, null);
  }
  noteReachable(res.status !== 503);
  let data = null;
  if (res.status !== 204 && (res.headers.get('Content-Type') || '').includes('json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(res.status, data, Number(res.headers.get('Retry-After')) || null);
  return data;
}

// api - one call: resolves to the JSON body (null for 204), or throws ApiError.
// opts.session: the call needs a session (a 401 ends it on this page);
// opts.keepalive: may outlive the page (fetch keepalive).
export async function api(method, path, body, opts = {}) {
  try {
    return await send(method, path, body, opts);
  } catch (e) {
    if (e instanceof ApiError && e.status === 419 && !opts.retried) {
      await refreshCsrf();
      return api(method, path, body, { ...opts, retried: true });
    }
    if (e instanceof ApiError && e.status === 401 && e.code === 'unauthenticated' &&
        opts.session && sessionEnded) {
      sessionEnded();
    }
    throw e;
  }
}

const WORDS = {
  network: 'sembark cannot be reached. Check your connection and try again.',
  bad_request: 'The request was not understood. Reload the page and try again.',
  invalid_credentials: 'That email and password do not match an account.',
  unauthenticated: 'Your session has ended. Log in again.',
  forbidden: 'You do not have permission to do that.',
  origin_mismatch: 'This page is not allowed to send that request. Open sembark at its own address and try again.',
  not_found: 'That no longer exists. Reload the page to see what is there now.',
  email_taken: 'An account with this email already exists.',
  payload_too_large: 'That is too large to send.',
  csrf_mismatch: 'This page was open too long. Reload it and try again.',
  validation_failed: 'Check the fields marked below.',
  service_unavailable: 'sembark is busy or restarting. Try again in a moment.',
  two_factor_enrolment_required: 'Your team requires two-factor login. Turn it on under Account first.',
  two_factor_off: 'Turn on two-factor login for yourself (under Account) before requiring it of the team.',
  team_has_members: 'As the owner you cannot leave a team with members. Delete the team on the Team page instead.',
  email_not_verified: 'Confirm your email first: we just mailed a new link to it. Open it, then log in.',
  reset_link_dead: 'This link does not work any more: it was used, or its hour has passed. Ask for a new one on the login page.',
  export_too_large: 'Your data is too large for one download. Ask the operator of this server for it.',
};

// errorText - an ApiError (or anything thrown) in words for a person
export function errorText(e) {
  if (!(e instanceof ApiError)) return 'Something went wrong on this page. Reload it and try again.';
  if (e.status === 429) {
    return e.retryAfter
      ? `Too many attempts. Wait ${waitWords(e.retryAfter)} before trying again.`
      : 'Too many attempts. Wait a little before trying again.';
  }
  if (e.status === 503) return WORDS.service_unavailable;
  return WORDS[e.code] || e.message || 'Something went wrong. Try again.';
}
