// views/account.js - "Account": who you are, a new password (the current
// one is needed; every other session ends), two-factor login
// (views/two_factor.js), and your data: export and erasure (views/privacy.js).

import { api, ApiError } from '../api.js';
import { field, h } from '../dom.js';
import { form, onSubmit, success } from '../forms.js';
import { feature } from '../telemetry.js';
import { yourDataCard } from './privacy.js';
import { twoFactorCard } from './two_factor.js';

const ROLE_WORDS = { owner: 'Owner', admin: 'Admin', member: 'Member' };

function passwordForm() {
  const current = field({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password' });
  const next = field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: 'At least 12 characters. A few unrelated words make a good one.' });
  const repeat = field({ name: 'repeat_password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password' });
  const f = form({ 'aria-labelledby': 'password-title', class: 'stack' },
    current.wrap, next.wrap, repeat.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Change password'));
  onSubmit(f, 'Changing…', async (v) => {
    if (v.new_password !== v.repeat_password) {
      throw new ApiError(422, { error: 'validation_failed', message: 'the passwords differ', fields: { repeat_password: 'does not match the new password' } });
    }
    await api('POST', '/api/password', { current_password: v.current_password, new_password: v.new_password }, { session: true });
    feature('password.change');
    f.reset();
    success(f, 'Your password was changed. Every other session of yours has been logged out.');
  });
  return f;
}

// accountView - the account's facts and the password form
export async function accountView(panel, me) {
  document.title = 'Account · sembark';
  panel.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Account'),
    h('section', { class: 'card' },
      h('h2', null, 'You'),
      h('dl', { class: 'facts wide' },
        h('div', null, h('dt', null, 'Name'), h('dd', null, me.user.name)),
        h('div', null, h('dt', null, 'Email'), h('dd', null, me.user.email)),
        h('div', null, h('dt', null, 'Team'), h('dd', null, me.team.name)),
        h('div', null, h('dt', null, 'Role'), h('dd', null, ROLE_WORDS[me.user.role] || me.user.role)))),
    h('section', { class: 'card', 'aria-labelledby': 'password-title' },
      h('h2', { id: 'password-title' }, 'Change password'),
      passwordForm()),
    twoFactorCard(),
    yourDataCard(me));
}
