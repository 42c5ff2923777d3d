// views/recovery.js - a forgotten password, on the login page. "Forgot
// your password?" asks for the email (POST /api/password/forgot; the
// answer is the same whether an account has it). The mail's link opens
// /login#reset=<token>: the token is read from the fragment (never sent to
// the server in a URL), taken out of the address bar and history at once,
// and the page asks for the new password (POST /api/password/reset).

import { ApiError, api } from '../api.js';
import { field, h, replace } from '../dom.js';
import { form, onSubmit, success } from '../forms.js';
import { navigate } from '../state.js';

const PASSWORD_HINT = 'At least 12 characters. A few unrelated words make a good one.';

// takeResetToken - the token of a #reset=<40 hex> fragment, removed from the address; null if none
export function takeResetToken() {
  const m = /^#reset=([0-9a-f]{40})$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1];
}

// forgotCard - card content: the email, then the promise (whatever the answer)
export function forgotCard(card, back) {
  const email = field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username' });
  const f = form({ 'aria-labelledby': 'forgot-title', class: 'stack' }, email.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Send me a link'));
  onSubmit(f, 'Sending…', async (v) => {
    await api('POST', '/api/password/forgot', { email: v.email });
    f.reset();
    success(f, 'If an account uses this email, a link to choose a new password is on its way. ' +
      'It works once, for one hour.');
  });
  replace(card,
    h('h1', { id: 'forgot-title', tabindex: '-1' }, 'Forgot your password?'),
    h('p', null, 'Enter the email you log in with and we will mail you a link to choose a new password.'),
    f,
    h('p', { class: 'muted' }, h('a', { href: '/login', onclick: (ev) => { ev.preventDefault(); back(); } },
      'Back to log in')));
  email.input.focus();
}

// resetCard - card content: the new password for the link's token
export function resetCard(card, token, back) {
  const next = field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_HINT });
  const repeat = field({ name: 'repeat_password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password' });
  const f = form({ 'aria-labelledby': 'reset-title', class: 'stack' }, next.wrap, repeat.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Set new password'));
  onSubmit(f, 'Setting…', async (v) => {
    if (v.new_password !== v.repeat_password) {
      throw new ApiError(422, { error: 'validation_failed', message: 'the passwords differ', fields: { repeat_password: 'does not match the new password' } });
    }
    try {
      await api('POST', '/api/password/reset', { token, new_password: v.new_password });
    } catch (e) {
      if (e instanceof ApiError && e.fields && e.fields.token) {
        throw new ApiError(422, { error: 'reset_link_dead' });
      }
      throw e;
    }
    await navigate('/login', { replaceState: true, flash: { text: 'Your password was changed and every session of yours ended. Log in with the new password.', kind: 'success' } });
  });
  replace(card,
    h('h1', { id: 'reset-title', tabindex: '-1' }, 'Choose a new password'),
    f,
    h('p', { class: 'muted' }, h('a', { href: '/login', onclick: (ev) => { ev.preventDefault(); back(); } },
      'Back to log in')));
  next.input.focus();
}
