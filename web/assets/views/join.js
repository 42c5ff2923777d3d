// views/join.js - "/join/<code>", the page an invite link opens: the
// team's name, and name, email and password to set up an account in it.
// An unknown or rotated code gets a page that says so.

import { api, ApiError, errorText } from '../api.js';
import { field, h } from '../dom.js';
import { form, onSubmit } from '../forms.js';
import { device, loadMe, logout, navigate, signedIn, takeFlash } from '../state.js';

const PASSWORD_HINT = 'At least 12 characters. A few unrelated words make a good one.';

function joinForm(code, team) {
  const f = form({ 'aria-labelledby': 'join-title', class: 'stack' },
    field({ name: 'name', label: 'Your name', autocomplete: 'name' }).wrap,
    field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email' }).wrap,
    field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_HINT }).wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Join team'));
  onSubmit(f, 'Joining…', async (v) => {
    const r = await api('POST', `/api/invites/${encodeURIComponent(code)}/accept`, { ...v, device_name: device() });
    signedIn({ user: r.user, team: r.team });
    await navigate('/app', { flash: { text: `Welcome to ${team}.`, kind: 'success' } });
  });
  return f;
}

function deadLink(main) {
  document.title = 'Invite link not valid · sembark';
  main.replaceChildren(h('section', { class: 'card narrow' },
    h('h1', { tabindex: '-1' }, 'This invite link does not work'),
    h('p', null, 'It may have been replaced by a newer link, or copied only in part. Ask the person who shared it for the current invite link.'),
    h('p', null, h('a', { href: '/login', 'data-link': true }, 'Log in'), ' if you already have an account, or ',
      h('a', { href: '/', 'data-link': true }, 'create a team of your own'), '.')));
}

function signedInNotice(me, team) {
  return h('div', { class: 'alert alert-info' },
    h('p', null, `You are logged in as ${me.user.email} (${me.team.name}). An account belongs to one team, so to join ${team} with another email address, log out first.`),
    h('p', null, h('button', { type: 'button', class: 'secondary', onclick: () => logout({ to: location.pathname }) }, `Log out to join ${team}`), ' ',
      h('a', { href: '/app', 'data-link': true }, `Back to ${me.team.name}`)));
}

// join - the page of "/join/<code>"
export async function join(main, code) {
  takeFlash(); /* "You have logged out." needs no words here: the form shows it */
  let invite;
  try {
    invite = await api('GET', `/api/invites/${encodeURIComponent(code)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return deadLink(main);
    document.title = 'Invite · sembark';
    main.replaceChildren(h('section', { class: 'card narrow' },
      h('h1', { tabindex: '-1' }, 'The invite could not be opened'),
      h('p', { role: 'alert' }, errorText(e)),
      h('p', null, h('button', { type: 'button', class: 'secondary', onclick: () => navigate(location.pathname, { replaceState: true }) }, 'Try again'))));
    return undefined;
  }
  const team = invite.team.name;
  const me = await loadMe();
  document.title = `Join ${team} · sembark`;
  main.replaceChildren(h('section', { class: 'card narrow' },
    h('p', { class: 'eyebrow' }, 'You are invited'),
    h('h1', { id: 'join-title', tabindex: '-1' }, `Join ${team}`),
    h('p', null, `Set up your account to join ${team} on sembark. Your email identifies you; your password is stored only as a bcrypt hash.`),
    me ? signedInNotice(me, team) : joinForm(code, team),
    h('p', { class: 'muted' }, 'Already have an account? ', h('a', { href: '/login', 'data-link': true }, 'Log in'), '.')));
  return undefined;
}
