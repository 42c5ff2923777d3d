// views/verify.js - proving an email in the browser. The dashboard's
// banner while the email is not verified (GET /api/me/verification, asked
// once per page load), with "Send the link again" (POST, three an hour).
// And the mail's link, /login#verify=<token>: read from the fragment,
// taken out of the address bar at once, and sent (POST /api/email/verify).

import { ApiError, api, errorText } from '../api.js';
import { h, replace } from '../dom.js';
import { feature } from '../telemetry.js';

let status = null; // {email, email_verified}; null: not asked yet

// takeVerifyToken - the token of a #verify=<40 hex> fragment, removed from the address; null if none
export function takeVerifyToken() {
  const m = /^#verify=([0-9a-f]{40})$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1];
}

// verifyEmail - use the link's token: the flash for the next page
export async function verifyEmail(token) {
  try {
    await api('POST', '/api/email/verify', { token });
    status = null;
    return { kind: 'success', text: 'Your email is verified. Thank you.' };
  } catch (e) {
    if (e instanceof ApiError && e.fields && e.fields.token) {
      return { kind: 'error', text: 'This verification link does not work any more: it was used, or ' +
        'its 24 hours have passed. Log in and ask for a new one.' };
    }
    return { kind: 'error', text: errorText(e) };
  }
}

// verifyBanner - an element that becomes the "verify your email" notice when it is not verified
export function verifyBanner() {
  const box = h('div', { class: 'alert alert-info verify-banner', role: 'status', hidden: true });
  const draw = (st) => {
    if (st.email_verified) return;
    const send = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      send.disabled = true;
      try {
        await api('POST', '/api/me/verification', undefined, { session: true });
        feature('email.verify_resend');
        replace(box, `A new link is on its way to ${st.email}. It works for 24 hours.`);
      } catch (e) {
        send.disabled = false;
        replace(box, errorText(e));
      }
    } }, 'Send the link again');
    replace(box, `Verify your email: open the link we mailed to ${st.email}. `, send);
    box.hidden = false;
  };
  if (status) {
    draw(status);
  } else {
    api('GET', '/api/me/verification', undefined, { session: true }).then((st) => {
      status = st;
      draw(st);
    }, () => {});
  }
  return box;
}
