// main.js - the browser client's entry: starts telemetry, shows the
// version, links the API's hooks to the page, and draws the page for the
// current path. Links marked data-link move inside the app without a
// reload; the back and forward buttons work. Paths served (see
// services/ingressd/web.c): /, /login, /join/<code>, /app and below.

import { ApiError, errorText, isReachable, onConnectivity, onSessionEnded } from './api.js';
import { h, replace } from './dom.js';
import { appVersion } from './platform.js';
import { renderAccount, sessionEnded, setRenderer } from './state.js';
import * as telemetry from './telemetry.js';
import { home } from './views/home.js';
import { login } from './views/login.js';
import { join } from './views/join.js';
import { app } from './views/app.js';

const ROUTES = [
  [/^\/$/, (main) => home(main)],
  [/^\/login$/, (main) => login(main)],
  [/^\/join\/([^/]+)$/, (main, m) => join(main, decodeURIComponent(m[1]))],
  [/^\/app(\/.*)?$/, (main) => app(main)],
];

let drawing = 0;

// unreachable - a page that needed the API could not get it: say so, offer to try again
function unreachable(main, e) {
  document.title = 'Cannot reach sembark · sembark';
  replace(main, h('section', { class: 'card narrow' },
    h('h1', { tabindex: '-1' }, 'This page could not be loaded'),
    h('p', { role: 'alert' }, errorText(e)),
    h('p', null, h('button', { type: 'button', class: 'primary', onclick: () => draw() }, 'Try again'))));
}

function crashed(main, e) {
  telemetry.crash('render', e);
  document.title = 'Something went wrong · sembark';
  replace(main, h('section', { class: 'card narrow' },
    h('h1', { tabindex: '-1' }, 'Something went wrong'),
    h('p', null, 'This page could not be shown. Reload it to try again; if it keeps happening, tell whoever runs sembark for your team.'),
    h('p', null, h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, 'Reload'))));
}

// draw - the page of the current location; focus goes to its heading
async function draw() {
  const main = document.getElementById('main');
  const mine = ++drawing;
  const route = ROUTES.map(([re, fn]) => [re.exec(location.pathname), fn]).find(([m]) => m);
  try {
    if (route) await route[1](main, route[0]);
    else replace(main, h('h1', { tabindex: '-1' }, 'Not found'));
  } catch (e) {
    if (mine === drawing && e instanceof ApiError) unreachable(main, e);
    else if (mine === drawing) crashed(main, e);
  }
  if (mine !== drawing) return;
  renderAccount();
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

function onLinkClick(ev) {
  const a = ev.target.closest && ev.target.closest('a[data-link]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search) return;
  history.pushState(null, '', url.pathname + url.search);
  draw();
}

function showReachability(ok) {
  const banner = document.getElementById('banner');
  banner.hidden = ok;
  banner.textContent = ok ? '' : 'sembark cannot be reached right now. Your changes are not lost: the page keeps trying.';
}

async function boot() {
  document.getElementById('version').textContent = appVersion();
  setRenderer(draw);
  onSessionEnded(sessionEnded);
  onConnectivity(showReachability);
  showReachability(isReachable());
  document.addEventListener('click', onLinkClick);
  window.addEventListener('popstate', draw);
  await telemetry.start();
  await draw();
}

boot();
