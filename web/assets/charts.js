// charts.js - the charts of the insights page, drawn as SVG of our own
// (no library to vendor, nothing inline the CSP would refuse): a stacked
// bar chart of events per day by type and horizontal bar charts for the
// top values. Each chart is drawn at its container's width, again when
// that changes, carries a title for screen readers and comes with the
// same numbers as a table behind a "Show as table" toggle.

import { h, s, fmtDay, nextId } from './dom.js';

const SERIES = 8; // colours in app.css: .series-0 .. .series-7

// niceMax - a round upper bound for an axis (1, 2, 5 × 10^n)
export function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(n) {
  return new Intl.NumberFormat().format(n);
}

// responsive - draw(width) into box now and whenever its width changes
function responsive(box, draw) {
  let last = 0;
  const paint = () => {
    const w = Math.max(240, Math.floor(box.clientWidth));
    if (w === last) return;
    last = w;
    box.replaceChildren(draw(w));
  };
  new ResizeObserver(paint).observe(box);
  requestAnimationFrame(paint);
}

function table(caption, head, rows) {
  return h('details', { class: 'chart-table' },
    h('summary', null, 'Show as table'),
    h('table', null,
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 0
        ? h('th', { scope: 'row' }, c) : h('td', null, c))))))));
}

function legend(names) {
  return h('ul', { class: 'legend' }, names.map((n, i) =>
    h('li', null, h('span', { class: `swatch series-${i % SERIES}`, 'aria-hidden': 'true' }), n)));
}

function drawDays(days, types, title, width) {
  const height = 220;
  const totals = days.map((d) => types.reduce((a, t) => a + (d.counts[t] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const m = { top: 12, right: 8, bottom: 28, left: 14 + 7 * fmt(max).length };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const step = pw / Math.max(1, days.length);
  const bw = Math.max(2, Math.min(36, step * 0.7));
  const y = (v) => m.top + ph - (v / max) * ph;
  const labelEvery = Math.max(1, Math.ceil(days.length / Math.floor(pw / 56)));
  const titleId = nextId('chart');
  const ticks = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  const grid = ticks.map((v) => {
    return s('g', { class: 'tick' },
      s('line', { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
      s('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  });
  const bars = days.map((d, i) => {
    const x = m.left + i * step + (step - bw) / 2;
    let acc = 0;
    const parts = types.map((t, k) => {
      const n = d.counts[t] || 0;
      if (!n) return null;
      const rect = s('rect', { class: `series-${k % SERIES}`, x, width: bw, y: y(acc + n), height: Math.max(1, y(acc) - y(acc + n)) },
        s('title', null, `${fmtDay(d.date)}: ${fmt(n)} ${t}`));
      acc += n;
      return rect;
    });
    const label = i % labelEvery === 0
      ? s('text', { class: 'axis', x: x + bw / 2, y: height - 8, 'text-anchor': 'middle' }, fmtDay(d.date)) : null;
    return s('g', null, parts, label);
  });
  return s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'chart-svg' },
    s('title', { id: titleId }, title), grid, bars);
}

// dayChart - events per day, stacked by type
export function dayChart(days, title) {
  const types = [...new Set(days.flatMap((d) => Object.keys(d.counts)))].sort();
  const box = h('div', { class: 'chart-box' });
  const fig = h('figure', { class: 'chart' }, box,
    h('figcaption', null, types.length ? legend(types) : 'No events in this period.'),
    table(title, ['Day', ...types], days.map((d) => [fmtDay(d.date), ...types.map((t) => fmt(d.counts[t] || 0))])));
  responsive(box, (w) => drawDays(days, types, title, w));
  return fig;
}

function drawBars(rows, title, width) {
  const rowH = 38;
  const height = Math.max(1, rows.length) * rowH + 4;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const titleId = nextId('chart');
  const valueW = 64;
  const bars = rows.map((r, i) => {
    const top = i * rowH;
    const w = Math.max(2, ((width - valueW) * r.value) / max);
    return s('g', null,
      s('text', { class: 'bar-label', x: 0, y: top + 13 }, r.label.length > 48 ? `${r.label.slice(0, 47)}…` : r.label),
      s('rect', { class: `series-${i % SERIES}`, x: 0, y: top + 19, width: w, height: 12, rx: 3 },
        s('title', null, `${r.label}: ${r.detail}`)),
      s('text', { class: 'bar-value', x: width, y: top + 30, 'text-anchor': 'end' }, fmt(r.value)));
  });
  return s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'chart-svg' },
    s('title', { id: titleId }, title), bars);
}

// barChart - rows of {label, value, detail}, largest first, as horizontal bars
export function barChart(rows, title, head) {
  const box = h('div', { class: 'chart-box' });
  const fig = h('figure', { class: 'chart' }, box,
    rows.length ? null : h('figcaption', null, 'Nothing recorded in this period.'),
    table(title, head, rows.map((r) => [r.label, ...r.cells])));
  if (rows.length) responsive(box, (w) => drawBars(rows, title, w));
  return fig;
}
