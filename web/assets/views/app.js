// views/app.js - "/app" and below, the dashboard: a navigation of its
// parts and the part the path names. Owners and admins also get Insights
// (telemetry charts) and the Audit trail. Every call here needs the
// session: a 401 (revoked, expired, removed from the team) leads to the
// login page at once (state.sessionEnded).

import { ApiError } from '../api.js';
import { h, showAlert, formAlert } from '../dom.js';
import { loadMe, navigate, state, takeFlash, toLogin } from '../state.js';
import { verifyBanner } from './verify.js';
import { teamView } from './team.js';
import { sessionsView } from './sessions.js';
import { accountView } from './account.js';
import { insightsView } from './insights.js';
import { auditView } from './audit.js';
import { twoFactorPending } from './two_factor.js';

const PARTS = [
  { path: '/app', label: 'Team', view: teamView },
  { path: '/app/sessions', label: 'My sessions', view: sessionsView },
  { path: '/app/account', label: 'Account', view: accountView },
  { path: '/app/insights', label: 'Insights', view: insightsView, admin: true },
  { path: '/app/audit', label: 'Audit trail', view: auditView, admin: true },
];

// isAdmin - may this member see owner/admin parts?
export function isAdmin(me) {
  return me && (me.user.role === 'owner' || me.user.role === 'admin');
}

function nav(me, current) {
  return h('nav', { class: 'tabs', 'aria-label': 'Dashboard' },
    h('ul', null, PARTS.filter((p) => !p.admin || isAdmin(me)).map((p) =>
      h('li', null, h('a', { href: p.path, 'data-link': true, 'aria-current': p === current ? 'page' : null }, p.label)))));
}

function notFound(panel) {
  document.title = 'Not found · sembark';
  panel.replaceChildren(h('h1', { tabindex: '-1' }, 'There is nothing here'),
    h('p', null, h('a', { href: '/app', 'data-link': true }, 'Back to your team')));
}

// app - the page of "/app" and its parts
export async function app(main) {
  const path = location.pathname.replace(/\/$/, '') || '/app';
  const known = state.me;
  let me;
  try {
    me = await loadMe(); /* every step checks the session, and sees a new role */
  } catch (e) {
    if (!known || !(e instanceof ApiError) || !(e.status === 0 || e.status === 503)) throw e;
    me = known; /* sembark is away: show what we know, the parts say what failed */
  }
  if (!me) return toLogin({ ended: Boolean(known) });
  const part = PARTS.find((p) => p.path === path && (!p.admin || isAdmin(me)));
  const flash = formAlert();
  const panel = h('div', { class: 'panel' });
  main.replaceChildren(h('div', { class: 'dashboard' }, nav(me, part), h('div', { class: 'content' }, flash, verifyBanner(), panel)));
  const f = takeFlash();
  if (f) showAlert(flash, f.text, f.kind);
  if (!part) return notFound(panel);
  if (part.path !== '/app/account' && part.path !== '/app/sessions' && await twoFactorPending()) {
    return navigate('/app/account', { replaceState: true, flash: { kind: 'info',
      text: 'Your team requires two-factor login. Turn it on below to continue.' } });
  }
  return part.view(panel, me);
}
