// views/sessions.js - "My sessions": where the person is logged in, this
// device marked; revoke one, or log out everywhere else.

import { api, errorText } from '../api.js';
import { h, replace, timeEl, toast } from '../dom.js';
import { feature } from '../telemetry.js';

function sessionRow(sess, reload, fail) {
  const name = sess.device_name || 'Unnamed device';
  const revoke = sess.current ? null : h('button', {
    type: 'button',
    class: 'secondary small',
    'aria-label': `Revoke the session on ${name}`,
    onclick: async () => {
      try {
        await api('DELETE', `/api/sessions/${encodeURIComponent(sess.id)}`, undefined, { session: true });
        feature('sessions.revoke');
        toast(`The session on ${name} was ended`);
        reload();
      } catch (e) { fail(e); }
    },
  }, 'Revoke');
  return h('li', { class: `session${sess.current ? ' current' : ''}`, dataset: { id: sess.id } },
    h('div', { class: 'who' },
      h('strong', null, name),
      sess.current ? h('span', { class: 'badge role-owner' }, 'This device') : null),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, 'Started'), h('dd', null, timeEl(sess.created_at))),
      h('div', null, h('dt', null, 'Last used'), h('dd', null, timeEl(sess.last_used_at, { relativeFirst: true }))),
      h('div', null, h('dt', null, 'Ends'), h('dd', null, timeEl(sess.expires_at)))),
    h('div', { class: 'row-actions' }, revoke));
}

// sessionsView - the session list and its actions
export async function sessionsView(panel) {
  document.title = 'My sessions · sembark';
  const list = h('ul', { class: 'sessions', 'aria-live': 'polite' });
  const status = h('p', { class: 'alert alert-error', role: 'alert', hidden: true });
  const fail = (e) => { status.hidden = false; status.textContent = errorText(e); };
  const others = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try {
      await api('POST', '/api/sessions/revoke-others', {}, { session: true });
      feature('sessions.revoke_others');
      toast('Every other session was ended');
      load();
    } catch (e) { fail(e); }
  } }, 'Log out all other sessions');
  async function load() {
    status.hidden = true;
    const r = await api('GET', '/api/sessions', undefined, { session: true });
    const sessions = r.sessions.slice().sort((a, b) => (b.current - a.current) || b.created_at.localeCompare(a.created_at));
    replace(list, sessions.map((x) => sessionRow(x, () => load().catch(fail), fail)));
    others.disabled = sessions.length < 2;
  }
  panel.replaceChildren(
    h('h1', { tabindex: '-1' }, 'My sessions'),
    h('p', { class: 'muted' }, 'Every browser or app where you are logged in. A session ends one day after it began, whatever happens in between.'),
    status,
    h('section', { class: 'card' }, list, h('div', { class: 'actions' }, others)));
  await load().catch(fail);
}
