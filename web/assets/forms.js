// forms.js - what every form of the client does on submit: clear the old
// errors, disable itself while the request runs, then put the API's field
// errors next to their fields and every other error, in words, in the
// form's alert.

import { ApiError, errorText } from './api.js';
import { busy, clearErrors, h, showAlert, showFieldErrors, formAlert } from './dom.js';

// form - a <form> that never submits by itself (method=post: without
// JavaScript nothing lands in a URL), with an alert slot first
export function form(attrs, ...children) {
  return h('form', { method: 'post', novalidate: true, ...attrs }, formAlert(), ...children);
}

// values - the named fields of a form as an object of strings
export function values(f) {
  const out = {};
  for (const el of f.elements) if (el.name) out[el.name] = el.value;
  return out;
}

// showError - an ApiError shown on form f (field errors by their fields)
export function showError(f, e) {
  const alert = f.querySelector('.alert');
  if (e instanceof ApiError && e.code === 'email_taken') {
    showFieldErrors(f, { email: 'An account with this email already exists' });
    return;
  }
  if (e instanceof ApiError && e.fields) {
    const rest = showFieldErrors(f, e.fields);
    const others = Object.entries(rest).map(([k, v]) => `${k}: ${v}`);
    showAlert(alert, others.length ? `${errorText(e)} ${others.join('; ')}` : errorText(e));
    return;
  }
  showAlert(alert, errorText(e));
}

// onSubmit - run fn(values) when f is submitted; errors are shown on f
export function onSubmit(f, busyLabel, fn) {
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const done = busy(f, busyLabel);
    try {
      await fn(values(f));
    } catch (e) {
      done();
      showError(f, e);
      if (!(e instanceof ApiError)) throw e;
      return;
    }
    if (f.isConnected) done();
  });
}

// success - a form's alert used for good news
export function success(f, text) {
  showAlert(f.querySelector('.alert'), text, 'success');
}
