// state.js - who is signed in, moving between pages without reloading,
// and the account area of the top bar (name, team, Log out).

import { api, ApiError } from './api.js';
import { h, replace, toast } from './dom.js';
import * as telemetry from './telemetry.js';
import { deviceName } from './platform.js';

export const state = {
  me: null,      // GET /api/me's answer while signed in
  flash: null,   // a message for the next page: {text, kind}
};

let render = () => {};

// setRenderer - what draws the page for the current location
export function setRenderer(fn) {
  render = fn;
}

// navigate - go to path inside the app; flash: a message the next page shows
export function navigate(path, { replaceState = false, flash = null } = {}) {
  if (flash) state.flash = flash;
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  return render();
}

// takeFlash - the message left for this page, once
export function takeFlash() {
  const f = state.flash;
  state.flash = null;
  return f;
}

// safeNext - a ?next= target inside the dashboard, else /app (no open redirect)
export function safeNext(raw) {
  return typeof raw === 'string' && /^\/app(\/[a-z-]*)?$/.test(raw) ? raw : '/app';
}

// device - the name this browser's sessions get in the session list
export function device() {
  return deviceName().slice(0, 100);
}

// signedIn - remember who is signed in (from /api/me or a sign-in answer)
export function signedIn(me) {
  state.me = me;
  telemetry.setUser(me.user.id);
  renderAccount();
}

// signedOut - forget the session on this page
export function signedOut() {
  state.me = null;
  telemetry.setUser(null);
  renderAccount();
}

// loadMe - who is signed in: /api/me, null when nobody
export async function loadMe() {
  try {
    signedIn(await api('GET', '/api/me'));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
    signedOut();
  }
  return state.me;
}

// logout - end this session everywhere, then the login page (or `to`)
export async function logout({ to = '/login' } = {}) {
  await telemetry.flush().catch(() => {});
  try {
    await api('POST', '/api/logout', {});
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      toast('Logging out failed. Try again.');
      return;
    }
  }
  signedOut();
  await navigate(to, { flash: { text: 'You have logged out.', kind: 'success' } });
}

// toLogin - the login page, coming back to this dashboard page afterwards
export function toLogin({ ended = false } = {}) {
  const next = location.pathname.startsWith('/app') ? `?next=${encodeURIComponent(location.pathname)}` : '';
  const flash = ended ? { text: 'Your session has ended. Log in again to continue.', kind: 'info' } : null;
  return navigate(`/login${next}`, { replaceState: true, flash });
}

// sessionEnded - a call answered 401: the session died (revoked, expired, removed)
export function sessionEnded() {
  if (!state.me) return;
  signedOut();
  toLogin({ ended: true });
}

// renderAccount - the top bar's right side
export function renderAccount() {
  const box = document.getElementById('account');
  if (!box) return;
  const me = state.me;
  if (!me) {
    const onLogin = location.pathname === '/login';
    replace(box, onLogin ? h('a', { href: '/', 'data-link': true }, 'Create a team')
      : h('a', { href: '/login', 'data-link': true }, 'Log in'));
    return;
  }
  replace(box,
    h('span', { class: 'who' }, h('strong', null, me.user.name), h('span', { class: 'muted' }, ` · ${me.team.name}`)),
    h('button', { type: 'button', class: 'secondary small', onclick: () => logout() }, 'Log out'));
}
