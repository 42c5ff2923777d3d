// views/privacy.js - a person's data rights in the browser. The account
// page's "Your data" card: download everything stored about you (GET
// /api/me/export, saved as a JSON file) and delete your account (DELETE
// /api/me, the password and a confirmation first). The owner's team card:
// delete the team with every member's account (DELETE /api/team). After an
// erasure this browser is signed out and lands on the login page.

import { api } from '../api.js';
import { confirmDialog, field, h } from '../dom.js';
import { form, onSubmit, success } from '../forms.js';
import { navigate, signedOut } from '../state.js';
import { feature } from '../telemetry.js';

function passwordField() {
  return field({ name: 'password', label: 'Your password, to confirm', type: 'password', autocomplete: 'current-password' });
}

// saveJson - offer doc as a file download named name
function saveJson(doc, name) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function exportForm() {
  const f = form({ 'aria-labelledby': 'data-title', class: 'stack' },
    h('button', { type: 'submit', class: 'secondary' }, 'Download my data'));
  onSubmit(f, 'Preparing…', async () => {
    const doc = await api('GET', '/api/me/export', undefined, { session: true });
    feature('data.export');
    saveJson(doc, `sembark-data-${doc.exported_at.slice(0, 10)}.json`);
    success(f, `Your data was saved as a file: your account, ${doc.sessions.length} session(s), ` +
      `${doc.telemetry_events.length} telemetry event(s) and ${doc.audit_events.length} audit event(s).`);
  });
  return f;
}

// erasureForm - the password, a last question, then the DELETE; signed out after it
function erasureForm({ id, label, question, body, path, flash }) {
  const password = passwordField();
  const f = form({ 'aria-labelledby': id, class: 'stack' }, password.wrap,
    h('button', { type: 'submit', class: 'danger' }, label));
  onSubmit(f, 'Deleting…', async (v) => {
    if (!(await confirmDialog({ title: question, body, confirm: label }))) return;
    await api('DELETE', path, { password: v.password }, { session: true });
    signedOut();
    await navigate('/login', { flash: { text: flash, kind: 'success' } });
  });
  return f;
}

// yourDataCard - the account page's card: export and erasure
export function yourDataCard(me) {
  const owner = me.user.role === 'owner';
  return h('section', { class: 'card', 'aria-labelledby': 'data-title' },
    h('h2', { id: 'data-title' }, 'Your data'),
    h('p', null, 'Download everything sembark stores about you as one JSON file: your account, your ' +
      'sessions, your telemetry events and the audit events that name you.'),
    exportForm(),
    h('h3', { id: 'erase-title' }, 'Delete your account'),
    h('p', null, owner
      ? 'As the owner you can delete your account only once you are the last member; to close the ' +
        'team with everyone in it, use "Delete team" on the Team page.'
      : 'Your account, its sessions and its telemetry are erased at once; the audit trail keeps its ' +
        'events with "[erased]" in place of your name. This cannot be undone.'),
    erasureForm({
      id: 'erase-title', label: 'Delete my account', path: '/api/me',
      question: 'Delete your account for good?',
      body: 'Your account, sessions and telemetry are erased now. This cannot be undone.',
      flash: 'Your account and its data were erased.',
    }));
}

// deleteTeamCard - the owner's team page card: the team and every account in it
export function deleteTeamCard(team) {
  return h('section', { class: 'card', 'aria-labelledby': 'team-erase-title' },
    h('h2', { id: 'team-erase-title' }, 'Delete team'),
    h('p', null, `Erases ${team.name}, its invite link and the account of every member, with their ` +
      'sessions and telemetry. This cannot be undone.'),
    erasureForm({
      id: 'team-erase-title', label: 'Delete team', path: '/api/team',
      question: `Delete ${team.name} and every account in it?`,
      body: 'Every member is signed out and erased now. This cannot be undone.',
      flash: `${team.name} and every account in it were erased.`,
    }));
}
