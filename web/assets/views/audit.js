// views/audit.js - owners and admins: the team's audit trail, newest
// first, 25 at a time; "Show older events" follows the API's cursor.

import { api, errorText } from '../api.js';
import { h, timeEl } from '../dom.js';
import { feature } from '../telemetry.js';

const PAGE = 25;
const EVENT_WORDS = {
  team_created: 'Team created',
  login: 'Logged in',
  login_failed: 'Login failed',
  logout: 'Logged out',
  member_joined: 'Joined the team',
  invite_rotated: 'Invite link rotated',
  role_changed: 'Role changed',
  member_removed: 'Member removed',
  session_revoked: 'Session revoked',
  password_changed: 'Password changed',
  two_factor_enabled: 'Two-factor login turned on',
  two_factor_disabled: 'Two-factor login turned off',
  two_factor_required: 'Two-factor login required for the team',
  two_factor_optional: 'Two-factor login made optional',
  account_erased: 'Account erased',
  team_erased: 'Team erased',
};

function person(p) {
  return p ? p.email : h('span', { class: 'muted' }, '—');
}

function row(ev) {
  return h('tr', null,
    h('td', { 'data-label': 'When' }, timeEl(ev.at)),
    h('td', { 'data-label': 'Event' }, EVENT_WORDS[ev.event] || ev.event),
    h('td', { 'data-label': 'By' }, person(ev.actor)),
    h('td', { 'data-label': 'Subject' }, person(ev.subject)));
}

// auditView - the table and its pager
export async function auditView(panel) {
  document.title = 'Audit trail · sembark';
  const body = h('tbody');
  const status = h('p', { class: 'alert alert-error', role: 'alert', hidden: true });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older events');
  const empty = h('p', { class: 'muted', hidden: true }, 'No events yet.');
  let cursor = null;
  async function page() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) q.set('before', cursor);
    more.disabled = true;
    try {
      const r = await api('GET', `/api/audit?${q}`, undefined, { session: true });
      body.append(...r.events.map(row));
      cursor = r.next;
      more.hidden = !cursor;
      empty.hidden = body.children.length > 0;
      status.hidden = true;
    } catch (e) {
      status.hidden = false;
      status.textContent = errorText(e);
    }
    more.disabled = false;
  }
  more.addEventListener('click', () => { feature('audit.older'); page(); });
  panel.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Audit trail'),
    h('p', { class: 'muted' }, 'Who did what in your team, newest first. Events are deleted for good after the retention period (30 days unless your operator set another).'),
    status,
    h('section', { class: 'card' },
      h('table', { class: 'audit' },
        h('caption', { class: 'visually-hidden' }, 'Audit events, newest first'),
        h('thead', null, h('tr', null, ['When', 'Event', 'By', 'Subject'].map((c) => h('th', { scope: 'col' }, c)))),
        body),
      empty,
      h('div', { class: 'actions' }, more)));
  await page();
}
