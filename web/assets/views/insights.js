// views/insights.js - owners and admins: what the team's apps reported
// (GET /api/telemetry/summary) as charts: events per day by type, app
// versions, operating systems, display sizes and features used.

import { api, errorText } from '../api.js';
import { h, nextId, replace } from '../dom.js';
import { barChart, dayChart } from '../charts.js';
import { feature } from '../telemetry.js';

const PERIODS = [7, 14, 30];

function section(title, chart) {
  const id = nextId('sec');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), chart);
}

function valueRows(list) {
  return (list || []).map((r) => ({
    label: r.value,
    value: r.events,
    detail: `${r.events} events from ${r.users} people`,
    cells: [String(r.events), String(r.users)],
  }));
}

function charts(sum) {
  const features = (sum.features || []).map((r) => ({ label: r.feature, value: r.count, detail: `${r.count} times`, cells: [String(r.count)] }));
  return [
    section('Events per day', dayChart(sum.days || [], 'Events per day, by type')),
    h('div', { class: 'grid2' },
      section('App versions', barChart(valueRows(sum.app_versions), 'Events by app version', ['Version', 'Events', 'People'])),
      section('Operating systems', barChart(valueRows(sum.os_versions), 'Events by operating system', ['Operating system', 'Events', 'People'])),
      section('Display sizes', barChart(valueRows(sum.displays), 'Events by display size', ['Display', 'Events', 'People'])),
      section('Features used', barChart(features, 'Feature interactions', ['Feature', 'Times']))),
  ];
}

// insightsView - the period picker and the charts
export async function insightsView(panel) {
  document.title = 'Insights · sembark';
  const out = h('div', { class: 'insights', 'aria-live': 'polite' });
  const id = nextId('period');
  const select = h('select', { id, name: 'days' }, PERIODS.map((d) => h('option', { value: d }, `Last ${d} days`)));
  async function load() {
    out.setAttribute('aria-busy', 'true');
    try {
      const sum = await api('GET', `/api/telemetry/summary?days=${select.value}`, undefined, { session: true });
      replace(out, charts(sum));
    } catch (e) {
      replace(out, h('p', { class: 'alert alert-error', role: 'alert' }, errorText(e)));
    }
    out.removeAttribute('aria-busy');
  }
  select.addEventListener('change', () => { feature('insights.period'); load(); });
  panel.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Insights'),
    h('p', { class: 'muted' }, 'What your team\'s apps reported: sign-ins, features used, errors, network changes — never an IP address.'),
    h('div', { class: 'field inline-field' }, h('label', { for: id }, 'Period'), select),
    out);
  await load();
}
