// platform.test.mjs - what the client says about where it runs (web/assets/platform.js):
// the OS and its version from a user agent, never more of it, and the
// device name of a session. Table-driven; run by `node --test tests/web`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { deviceName, osFromUserAgent } from '../../web/assets/platform.js';

const AGENTS = [
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Windows 10', 'Chrome on Windows'],
  ['Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0', 'Windows NT 6.1', 'Firefox on Windows NT'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Windows 10', 'Edge on Windows'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'macOS 10.15.7', 'Safari on macOS'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 'macOS 14.5', 'Firefox on macOS'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'iOS 17.5', 'Safari on iOS'],
  ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1', 'iOS 16.6', 'Chrome on iOS'],
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36', 'Android 14', 'Chrome on Android'],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 OPR/82.0.0.0', 'Android 10', 'Opera on Android'],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'ChromeOS', 'Chrome on ChromeOS'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'Linux', 'Chrome on Linux'],
  ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Linux', 'Firefox on Linux'],
  ['curl/8.0', 'unknown', 'Browser'],
  ['', 'unknown', 'Browser'],
];

test('the OS and its version, and nothing else of the user agent', () => {
  for (const [ua, os] of AGENTS) {
    assert.equal(osFromUserAgent(ua), os, ua);
    assert.ok(os.length <= 64);
    assert.ok(!/Mozilla|AppleWebKit|Gecko|x64|Pixel/.test(os), os);
  }
});

test('device names for the session list', () => {
  for (const [ua, , device] of AGENTS) assert.equal(deviceName(ua), device, ua);
});
