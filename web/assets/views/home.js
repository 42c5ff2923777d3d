// views/home.js - "/": what sembark is, and "Create a team" for a new
// customer; a signed-in visitor goes straight to the dashboard.

import { api } from '../api.js';
import { field, h } from '../dom.js';
import { form, onSubmit } from '../forms.js';
import { device, loadMe, navigate, signedIn } from '../state.js';

const PASSWORD_HINT = 'At least 12 characters. A few unrelated words make a good one.';

// signupForm - team name, your name, email, password -> POST /api/teams
function signupForm() {
  const f = form({ 'aria-labelledby': 'signup-title', class: 'stack' },
    field({ name: 'team_name', label: 'Team name', autocomplete: 'organization' }).wrap,
    field({ name: 'name', label: 'Your name', autocomplete: 'name' }).wrap,
    field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email' }).wrap,
    field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_HINT }).wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Create team'));
  onSubmit(f, 'Creating your team…', async (v) => {
    const r = await api('POST', '/api/teams', { ...v, device_name: device() });
    signedIn({ user: r.user, team: r.team });
    await navigate('/app', { flash: { text: `Welcome to sembark. ${r.team.name} is ready: share its invite link below.`, kind: 'success' } });
  });
  return f;
}

// home - the page of "/"
export async function home(main) {
  if (await loadMe()) return navigate('/app', { replaceState: true });
  document.title = 'sembark · team accounts on your own server';
  main.replaceChildren(
    h('section', { class: 'hero' },
      h('h1', { tabindex: '-1' }, 'Team accounts on your own server'),
      h('p', { class: 'lead' }, 'Create a team, share one invite link, and see how your app is used — with sessions that end after a day, passwords hashed with bcrypt and no IP address stored anywhere.')),
    h('div', { class: 'columns' },
      h('section', { class: 'card' },
        h('h2', { id: 'signup-title' }, 'Create a team'),
        h('p', { class: 'muted' }, 'You become its owner and get the invite link for your team.'),
        signupForm()),
      h('section', { class: 'card subtle' },
        h('h2', null, 'Already have an account?'),
        h('p', null, 'Log in with the email and password you joined with.'),
        h('p', null, h('a', { class: 'button secondary', href: '/login', 'data-link': true }, 'Log in')),
        h('h2', null, 'Joining a team?'),
        h('p', null, 'Open the invite link a teammate shared with you; it brings you to a page where you set up your account.'))));
}
