// views/login.js - "/login": email and password, and for an account with
// two-factor login on the code (views/two_factor.js). Wrong credentials,
// the throttle's wait and a stale CSRF token (api.js retries once) are
// handled in words; afterwards the dashboard, or the page that asked. A
// forgotten password and a reset link's #reset= are views/recovery.js's; a
// verification link's #verify= is sent here (views/verify.js), then the
// dashboard (signed in) or this page says how it went.

import { api } from '../api.js';
import { field, h, showAlert } from '../dom.js';
import { form, onSubmit } from '../forms.js';
import { device, loadMe, navigate, safeNext, signedIn, takeFlash } from '../state.js';
import { forgotCard, resetCard, takeResetToken } from './recovery.js';
import { takeVerifyToken, verifyEmail } from './verify.js';
import { secondStep } from './two_factor.js';

function loginForm(next) {
  const email = field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username' });
  const password = field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' });
  const f = form({ 'aria-labelledby': 'login-title', class: 'stack' },
    email.wrap, password.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'));
  const finish = async (r) => {
    signedIn({ user: r.user, team: r.team });
    await navigate(next, { replaceState: true });
  };
  onSubmit(f, 'Logging in…', async (v) => {
    let r;
    try {
      r = await api('POST', '/api/login', { ...v, device_name: device() });
    } catch (e) {
      password.input.value = '';
      password.input.focus();
      throw e;
    }
    if (r.two_factor_required) {
      const step = secondStep(r.ticket, finish);
      f.replaceWith(step.form);
      step.focus();
      return;
    }
    await finish(r);
  });
  return f;
}

// login - the page of "/login"
export async function login(main) {
  const next = safeNext(new URLSearchParams(location.search).get('next'));
  const reset = takeResetToken();
  const verify = takeVerifyToken();
  if (verify) {
    const result = await verifyEmail(verify);
    if (result.kind === 'success' && await loadMe()) return navigate('/app', { replaceState: true, flash: result });
    return navigate('/login', { replaceState: true, flash: result });
  }
  const flash = takeFlash();
  const back = () => navigate('/login', { replaceState: true });
  if (reset) {
    document.title = 'Choose a new password · sembark';
    const card = h('section', { class: 'card narrow' });
    main.replaceChildren(card);
    resetCard(card, reset, back);
    return undefined;
  }
  if (!flash && await loadMe()) return navigate(next, { replaceState: true });
  document.title = 'Log in · sembark';
  const f = loginForm(next);
  const card = h('section', { class: 'card narrow' },
    h('h1', { id: 'login-title', tabindex: '-1' }, 'Log in'),
    f,
    h('p', null, h('a', { href: '/login', onclick: (ev) => {
      ev.preventDefault();
      document.title = 'Forgot your password? · sembark';
      forgotCard(card, back);
    } }, 'Forgot your password?')),
    h('p', { class: 'muted' }, 'New here? ', h('a', { href: '/', 'data-link': true }, 'Create a team'),
      ', or open the invite link a teammate shared.'));
  main.replaceChildren(card);
  if (flash) showAlert(f.querySelector('.alert'), flash.text, flash.kind);
  f.querySelector('input').focus();
  return undefined;
}
