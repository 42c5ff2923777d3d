// format.test.mjs - words and numbers the pages show: the wait of a 429
// (web/assets/dom.js waitWords), an API field error as a sentence
// (sentence), and chart axes (web/assets/charts.js niceMax). Run by
// `node --test tests/web`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { sentence, waitWords } from '../../web/assets/dom.js';
import { niceMax } from '../../web/assets/charts.js';

test('a Retry-After in words', () => {
  const cases = [[0, '1 second'], [1, '1 second'], [45, '45 seconds'], [59, '59 seconds'], [60, 'about a minute'],
    [61, 'about 2 minutes'], [3599, 'about an hour'], [3600, 'about an hour'], [7200, 'about 2 hours'],
    ['30', '30 seconds'], [null, '1 second']];
  for (const [s, want] of cases) assert.equal(waitWords(s), want, String(s));
});

test('field errors as sentences', () => {
  const cases = [['Email', 'is required', 'Email is required.'], ['Password', 'must be at least 12 characters', 'Password must be at least 12 characters.'],
    ['Email', 'An account with this email already exists', 'An account with this email already exists.'],
    ['Current password', 'is incorrect.', 'Current password is incorrect.'], ['Name', '', '']];
  for (const [label, text, want] of cases) assert.equal(sentence(label, text), want);
});

test('round axis maxima', () => {
  const cases = [[0, 1], [1, 1], [2, 2], [3, 5], [7, 10], [10, 10], [11, 20], [480, 500], [501, 1000], [0.3, 0.5]];
  for (const [v, want] of cases) assert.equal(niceMax(v), want, String(v));
});
