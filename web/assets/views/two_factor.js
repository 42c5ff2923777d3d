// views/two_factor.js - two-factor login in the browser. The account's
// "Two-factor login" card: turn it on (the password, then the QR code
// drawn from the path authd answers and the secret for typing, then the
// first code from the app, then the ten recovery codes shown once), or
// turn it off (the password). The owner's team card: require it of
// everyone. Whether this person must turn it on before anything else
// (twoFactorPending, asked once per page load). And the login's second
// step: the code, or a recovery code, sent with the ticket the password
// step answered.

import { api } from '../api.js';
import { field, fmtTime, h, replace, s, showAlert } from '../dom.js';
import { form, onSubmit, success } from '../forms.js';
import { feature } from '../telemetry.js';

const QUIET = 4; // modules of white around a QR code

let pending = null; // must this person turn it on first? (null: not asked yet)

// twoFactorPending - the team requires two-factor login and this person has not turned it on
export async function twoFactorPending() {
  if (pending === null) {
    const st = await api('GET', '/api/me/totp', undefined, { session: true });
    pending = st.required && !st.enabled;
  }
  return pending;
}

// qrCode - the enrolment QR code as SVG: the path of its dark modules on white
export function qrCode(qr) {
  const n = qr.size + 2 * QUIET;
  return s('svg', {
    viewBox: `${-QUIET} ${-QUIET} ${n} ${n}`, width: n * 5, height: n * 5, role: 'img',
    'aria-label': 'QR code for your authenticator app', class: 'qr', 'shape-rendering': 'crispEdges',
  },
  s('rect', { x: -QUIET, y: -QUIET, width: n, height: n, fill: '#fff' }),
  s('path', { d: qr.path, fill: '#000' }));
}

// grouped - a base32 secret in groups of four, easier to type
function grouped(secret) {
  return secret.match(/.{1,4}/g).join(' ');
}

function codeField(name = 'code', label = 'Code from your app') {
  return field({
    name, label, autocomplete: 'one-time-code',
    hint: 'The 6 digits your authenticator app shows now.',
    attrs: { inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: '6' },
  });
}

function passwordField() {
  return field({ name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' });
}

// recoveryList - the codes shown once, and the button that says they are kept
function recoveryList(card, codes) {
  replace(card,
    h('h2', { id: 'tf-title' }, 'Two-factor login is on'),
    h('p', null, 'Keep these recovery codes somewhere safe, apart from your phone. Each one lets you ' +
      'log in once without the app. They are shown only now.'),
    h('ol', { class: 'recovery-codes' }, codes.map((c) => h('li', null, h('code', null, c)))),
    h('button', { type: 'button', class: 'primary', onclick: () => render(card) }, 'I have saved them'));
  card.querySelector('button').focus();
}

// confirmStep - the QR code, the secret, and the first code
function confirmStep(card, enrolment) {
  const code = codeField();
  const f = form({ 'aria-labelledby': 'tf-title', class: 'stack' }, code.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Turn on'));
  onSubmit(f, 'Checking…', async (v) => {
    const r = await api('POST', '/api/me/totp/confirm', { code: v.code.trim() }, { session: true });
    pending = false;
    feature('two_factor.enable');
    recoveryList(card, r.recovery_codes);
  });
  replace(card,
    h('h2', { id: 'tf-title' }, 'Scan this code with your authenticator app'),
    h('div', { class: 'qr-wrap' }, qrCode(enrolment.qr)),
    h('p', { class: 'muted' }, 'Cannot scan it? Enter this key in the app instead: ',
      h('code', { class: 'secret' }, grouped(enrolment.secret))),
    f);
  code.input.focus();
}

function offCard(card) {
  const password = passwordField();
  const f = form({ 'aria-labelledby': 'tf-title', class: 'stack' }, password.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Set up two-factor login'));
  onSubmit(f, 'Preparing…', async (v) => {
    const r = await api('POST', '/api/me/totp', { password: v.password }, { session: true });
    confirmStep(card, r);
  });
  replace(card,
    h('h2', { id: 'tf-title' }, 'Two-factor login'),
    h('p', null, 'Off. With it on, logging in also asks for a code from an authenticator app on your phone.'),
    f);
}

function onCard(card, state) {
  if (state.required) {
    replace(card,
      h('h2', { id: 'tf-title' }, 'Two-factor login'),
      h('p', null, `On since ${fmtTime(state.enabled_at)}, as your team requires. ` +
        `${state.recovery_codes_left} of 10 recovery codes left.`));
    return;
  }
  const password = passwordField();
  const f = form({ 'aria-labelledby': 'tf-title', class: 'stack' }, password.wrap,
    h('button', { type: 'submit', class: 'danger' }, 'Turn off two-factor login'));
  onSubmit(f, 'Turning off…', async (v) => {
    await api('DELETE', '/api/me/totp', { password: v.password }, { session: true });
    feature('two_factor.disable');
    await render(card);
    success(card.querySelector('form'), 'Two-factor login is off.');
  });
  replace(card,
    h('h2', { id: 'tf-title' }, 'Two-factor login'),
    h('p', null, `On since ${fmtTime(state.enabled_at)}. ${state.recovery_codes_left} of 10 recovery codes left.`),
    f);
}

// render - the card for the account's current state
async function render(card) {
  const state = await api('GET', '/api/me/totp', undefined, { session: true });
  if (!state.available && !state.enabled) {
    replace(card, h('h2', { id: 'tf-title' }, 'Two-factor login'),
      h('p', { class: 'muted' }, 'Not available on this server.'));
  } else if (state.enabled) {
    onCard(card, state);
  } else {
    offCard(card);
  }
}

// twoFactorCard - the account page's card
export function twoFactorCard() {
  const card = h('section', { class: 'card', 'aria-labelledby': 'tf-title' },
    h('h2', { id: 'tf-title' }, 'Two-factor login'), h('p', { class: 'muted' }, 'Loading…'));
  render(card).catch(() => replace(card, h('h2', { id: 'tf-title' }, 'Two-factor login'),
    h('p', { class: 'muted' }, 'Could not load. Reload the page to try again.')));
  return card;
}

// teamPolicyCard - the owner's switch: require two-factor login of everyone
export function teamPolicyCard() {
  const card = h('section', { class: 'card', 'aria-labelledby': 'policy-title' });
  const draw = (required) => {
    const f = form({ 'aria-labelledby': 'policy-title', class: 'stack' },
      h('button', { type: 'submit', class: required ? 'secondary' : 'primary' },
        required ? 'Make two-factor login optional' : 'Require two-factor login'));
    onSubmit(f, 'Saving…', async () => {
      const r = await api('PATCH', '/api/team', { require_two_factor: !required }, { session: true });
      feature(r.require_two_factor ? 'team.require_two_factor' : 'team.optional_two_factor');
      draw(r.require_two_factor);
      success(card.querySelector('form'), r.require_two_factor
        ? 'Everyone must now turn on two-factor login before anything else.'
        : 'Two-factor login is optional again.');
    });
    replace(card,
      h('h2', { id: 'policy-title' }, 'Security'),
      h('p', null, required
        ? 'Two-factor login is required: members without it can only turn it on.'
        : 'Two-factor login is optional. Require it, and members without it can do nothing until they turn it on. Turn it on for yourself first.'),
      f);
  };
  api('GET', '/api/me/totp', undefined, { session: true })
    .then((st) => draw(st.required))
    .catch(() => replace(card, h('h2', { id: 'policy-title' }, 'Security'),
      h('p', { class: 'muted' }, 'Could not load. Reload the page to try again.')));
  return card;
}

// secondStep - the login's code form; done(result) once it is right
export function secondStep(ticket, done) {
  const code = codeField();
  const recovery = field({ name: 'recovery_code', label: 'Recovery code', autocomplete: 'off' });
  recovery.wrap.hidden = true;
  const toggle = h('button', { type: 'button', class: 'link' }, 'Use a recovery code instead');
  const f = form({ 'aria-labelledby': 'login-title', class: 'stack' },
    h('p', null, 'Enter the code from your authenticator app.'), code.wrap, recovery.wrap,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'), toggle);
  toggle.addEventListener('click', () => {
    const useRecovery = recovery.wrap.hidden;
    recovery.wrap.hidden = !useRecovery;
    code.wrap.hidden = useRecovery;
    toggle.textContent = useRecovery ? 'Use the app’s code instead' : 'Use a recovery code instead';
    (useRecovery ? recovery : code).input.focus();
  });
  onSubmit(f, 'Checking…', async (v) => {
    const body = recovery.wrap.hidden ? { ticket, code: v.code.trim() } : { ticket, recovery_code: v.recovery_code };
    try {
      await done(await api('POST', '/api/login/totp', body));
    } catch (e) {
      code.input.value = '';
      recovery.input.value = '';
      if (e.code === 'invalid_credentials') {
        showAlert(f.querySelector('.alert'), 'That code is not right, or this sign-in has expired. ' +
          'Try the newest code; after 5 minutes, log in again.');
        return;
      }
      throw e;
    }
  });
  return { form: f, focus: () => code.input.focus() };
}
