// telemetry.test.mjs - error texts the client reports are cut to their
// message (web/assets/telemetry.js clean()): no URL, email, token or long
// hex ever leaves the browser, and at most 256 characters. Run by
// `node --test tests/web`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clean } from '../../web/assets/telemetry.js';

const CASES = [
  ['TypeError: x is undefined', 'TypeError: x is undefined'],
  ['failed at https://app.example.com/join/0123456789abcdef0123456789abcdef?x=1', 'failed at [url]'],
  ['see http://10.0.0.1:8080/a and ws://h/b', 'see [url] and [url]'],
  ['no account ada@example.com here', 'no account [email] here'],
  ['token 0123456789abcdef0123456789abcdef01234567 leaked', 'token [hex] leaked'],
  ['jwt eyJhbGciOiJIUzI1NiJ9abcdefghijklmnopqrstuvwxyz0123 end', 'jwt [token] end'],
  ['  spaced\n\tout  ', 'spaced out'],
  ['', 'unknown error'],
  [undefined, 'unknown error'],
  [42, '42'],
];

test('what an error report keeps', () => {
  for (const [input, want] of CASES) assert.equal(clean(input), want, String(input));
});

test('at most 256 characters', () => {
  assert.equal(clean('x '.repeat(1000)).length, 256);
});
