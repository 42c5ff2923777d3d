// views/team.js - the dashboard's first part: the team's name, its invite
// link (Copy for everyone who may see it, Rotate for owners and admins)
// and its members with their roles. The owner changes roles; owners and
// admins remove members, after a confirmation.

import { api, errorText } from '../api.js';
import { confirmDialog, h, nextId, replace, timeEl, toast } from '../dom.js';
import { feature } from '../telemetry.js';
import { isAdmin } from './app.js';
import { deleteTeamCard } from './privacy.js';
import { teamPolicyCard } from './two_factor.js';

const ROLE_WORDS = { owner: 'Owner', admin: 'Admin', member: 'Member' };

// copyText - text to the clipboard; falls back to selecting the field
async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand && document.execCommand('copy');
  }
}

function inviteCard(me, team) {
  const card = h('section', { class: 'card', 'aria-labelledby': 'invite-title' }, h('h2', { id: 'invite-title' }, 'Invite link'));
  if (!isAdmin(me)) {
    card.append(h('p', null, `Ask an owner or admin of ${team.name} for the invite link.`));
    return card;
  }
  const id = nextId('invite');
  const input = h('input', { id, type: 'text', readonly: true, class: 'mono', value: '' });
  const created = h('p', { class: 'muted' });
  const status = h('p', { class: 'alert alert-error', role: 'alert', hidden: true });
  const show = (inv) => {
    input.value = inv.invite_url;
    replace(created, 'Created ', timeEl(inv.created_at), '. Rotating it makes this link stop working at once.');
  };
  const copy = h('button', { type: 'button', class: 'primary', onclick: async () => {
    if (await copyText(input.value, input)) {
      feature('invite.copy');
      toast('Invite link copied');
    } else {
      toast('Copying failed: select the link and copy it yourself');
    }
  } }, 'Copy link');
  const rotate = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    const ok = await confirmDialog({ title: 'Rotate the invite link?', body: 'The current link stops working at once. People who already joined keep their accounts.', confirm: 'Rotate link' });
    if (!ok) return;
    try {
      show(await api('POST', '/api/team/invite/rotate', {}, { session: true }));
      feature('invite.rotate');
      toast('New invite link ready; the old one no longer works');
    } catch (e) {
      status.hidden = false;
      status.textContent = errorText(e);
    }
  } }, 'Rotate link');
  card.append(
    h('p', null, `Anyone with this link can set up an account in ${team.name}. Share it only with your team.`),
    h('div', { class: 'field' }, h('label', { for: id }, 'Invite link'),
      h('div', { class: 'inline' }, input, copy, rotate)),
    created, status);
  api('GET', '/api/team/invite', undefined, { session: true }).then(show, (e) => {
    status.hidden = false;
    status.textContent = errorText(e);
  });
  return card;
}

function canRemove(me, m) {
  if (m.id === me.user.id || m.role === 'owner') return false;
  return me.user.role === 'owner' || (me.user.role === 'admin' && m.role === 'member');
}

function memberRow(me, team, m, reload) {
  const actions = h('div', { class: 'row-actions' });
  const status = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const fail = (e) => { status.hidden = false; status.textContent = errorText(e); };
  if (me.user.role === 'owner' && m.role !== 'owner') {
    const to = m.role === 'admin' ? 'member' : 'admin';
    actions.append(h('button', { type: 'button', class: 'secondary small', 'aria-label': `Make ${m.name} ${to === 'admin' ? 'an admin' : 'a member'}`, onclick: async () => {
      try {
        await api('PATCH', `/api/team/members/${encodeURIComponent(m.id)}`, { role: to }, { session: true });
        feature('members.role');
        toast(`${m.name} is now ${to === 'admin' ? 'an admin' : 'a member'}`);
        reload();
      } catch (e) { fail(e); }
    } }, to === 'admin' ? 'Make admin' : 'Make member'));
  }
  if (canRemove(me, m)) {
    actions.append(h('button', { type: 'button', class: 'danger small', 'aria-label': `Remove ${m.name}`, onclick: async () => {
      const ok = await confirmDialog({ title: `Remove ${m.name}?`, body: `${m.name} (${m.email}) loses access to ${team.name} at once, and every session of theirs ends. Their account is deleted.`, confirm: 'Remove member' });
      if (!ok) return;
      try {
        await api('DELETE', `/api/team/members/${encodeURIComponent(m.id)}`, undefined, { session: true });
        feature('members.remove');
        toast(`${m.name} was removed from ${team.name}`);
        reload();
      } catch (e) { fail(e); }
    } }, 'Remove'));
  }
  return h('li', { class: 'member', dataset: { id: m.id } },
    h('div', { class: 'who' },
      h('strong', null, m.name, m.id === me.user.id ? ' (you)' : ''),
      h('span', { class: 'muted' }, m.email)),
    h('span', { class: `badge role-${m.role}` }, ROLE_WORDS[m.role] || m.role),
    h('span', { class: 'muted small' }, 'Joined ', timeEl(m.joined_at)),
    actions, status);
}

function membersCard(me) {
  const list = h('ul', { class: 'members', 'aria-live': 'polite' });
  const title = h('h2', { id: 'members-title' }, 'Members');
  const card = h('section', { class: 'card', 'aria-labelledby': 'members-title' }, title, list);
  const load = async () => {
    const r = await api('GET', '/api/team', undefined, { session: true });
    replace(title, `Members (${r.members.length})`);
    replace(list, r.members.map((m) => memberRow(me, r.team, m, () => load().catch(() => {}))));
    return r.team;
  };
  return { card, load };
}

// teamView - the team: invite link and members
export async function teamView(panel, me) {
  document.title = `${me.team.name} · sembark`;
  const members = membersCard(me);
  panel.replaceChildren(
    h('h1', { tabindex: '-1' }, me.team.name),
    h('p', { class: 'muted' }, `You are ${me.user.role === 'owner' ? 'the owner' : `${me.user.role === 'admin' ? 'an admin' : 'a member'}`} of this team.`),
    inviteCard(me, me.team), members.card, me.user.role === 'owner' ? teamPolicyCard() : null,
    me.user.role === 'owner' ? deleteTeamCard(me.team) : null);
  try {
    await members.load();
  } catch (e) {
    members.card.append(h('p', { class: 'alert alert-error', role: 'alert' }, errorText(e)));
  }
}
