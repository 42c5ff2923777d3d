// views/login.js - "/login": email and password. Wrong credentials, the
// throttle's wait and a stale CSRF token (api.js retries once) are
// handled in words; afterwards the dashboard, or the page that asked.

import { api } from '../api.js';
import { field, h, showAlert } from '../dom.js';
import { form, onSubmit } from '../forms.js';
import { device, loadMe, navigate, safeNext, signedIn, takeFlash } from '../state.js';

function loginForm(next) {
  const email = field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username' });
  const password = field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' });
  const f = form({ 'aria-labelledby': 'login-title', class: 'stack' },
    email.wrap, password.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'));
  onSubmit(f, 'Logging in…', async (v) => {
    try {
      const r = await api('POST', '/api/login', { ...v, device_name: device() });
      signedIn({ user: r.user, team: r.team });
    } catch (e) {
      password.input.value = '';
      password.input.focus();
      throw e;
    }
    await navigate(next, { replaceState: true });
  });
  return f;
}

// login - the page of "/login"
export async function login(main) {
  const next = safeNext(new URLSearchParams(location.search).get('next'));
  const flash = takeFlash();
  if (!flash && await loadMe()) return navigate(next, { replaceState: true });
  document.title = 'Log in · sembark';
  const f = loginForm(next);
  main.replaceChildren(
    h('section', { class: 'card narrow' },
      h('h1', { id: 'login-title', tabindex: '-1' }, 'Log in'),
      f,
      h('p', { class: 'muted' }, 'New here? ', h('a', { href: '/', 'data-link': true }, 'Create a team'),
        ', or open the invite link a teammate shared.')));
  if (flash) showAlert(f.querySelector('.alert'), flash.text, flash.kind);
  f.querySelector('input').focus();
}
