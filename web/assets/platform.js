// platform.js - what the client says about where it runs, and nothing
// more: the app's version (from the page), the operating system and its
// version (never the whole user agent), the display's size, and a short
// device name for the session list ("Chrome on Linux").

let osCache = null;

// appVersion - the build's version, written into the page by scripts/build-web.sh
export function appVersion() {
  const meta = document.querySelector('meta[name="sembark-version"]');
  const v = meta && meta.content;
  return v && !v.includes('@') ? v.slice(0, 64) : 'dev';
}

// displaySize - the screen in CSS pixels, within the API's 1..20000
export function displaySize() {
  const clamp = (n) => Math.min(20000, Math.max(1, Math.round(Number(n) || 1)));
  const sc = window.screen || {};
  return { width: clamp(sc.width || window.innerWidth), height: clamp(sc.height || window.innerHeight) };
}

const UA_OS = [
  [/Windows NT 10\.0/, () => 'Windows 10'],
  [/Windows NT (\d+\.\d+)/, (m) => `Windows NT ${m[1]}`],
  [/(?:iPhone|iPad|iPod).*? OS (\d+)[_.](\d+)/, (m) => `iOS ${m[1]}.${m[2]}`],
  [/Mac OS X (\d+)[_.](\d+)(?:[_.](\d+))?/, (m) => `macOS ${[m[1], m[2], m[3]].filter(Boolean).join('.')}`],
  [/Android (\d+(?:\.\d+)?)/, (m) => `Android ${m[1]}`],
  [/CrOS/, () => 'ChromeOS'],
  [/Linux/, () => 'Linux'],
];

// osFromUserAgent - "macOS 14.5" from a user agent string, "unknown" when none fits
export function osFromUserAgent(ua) {
  for (const [re, name] of UA_OS) {
    const m = re.exec(ua || '');
    if (m) return name(m);
  }
  return 'unknown';
}

function osFromHints(h) {
  const major = parseInt(h.platformVersion, 10);
  switch (h.platform) {
    case 'Windows':
      if (Number.isNaN(major)) return 'Windows';
      return major >= 13 ? 'Windows 11' : 'Windows 10';
    case 'macOS':
      return h.platformVersion ? `macOS ${h.platformVersion.replace(/\.0$/, '')}` : 'macOS';
    case 'Android':
      return h.platformVersion ? `Android ${h.platformVersion}` : 'Android';
    case 'Chrome OS':
    case 'ChromeOS':
      return 'ChromeOS';
    case 'Linux':
      return 'Linux';
    default:
      return null;
  }
}

// osVersion - the OS and its version: client hints when the browser has them, else the UA
export async function osVersion() {
  if (osCache) return osCache;
  let name = null;
  const uad = navigator.userAgentData;
  if (uad && uad.getHighEntropyValues) {
    try {
      name = osFromHints(await uad.getHighEntropyValues(['platformVersion']));
    } catch {
      name = null;
    }
  }
  osCache = (name || osFromUserAgent(navigator.userAgent)).slice(0, 64);
  return osCache;
}

const UA_BROWSER = [
  [/Edg(?:e|A|iOS)?\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

// deviceName - "Firefox on Windows" for the session list
export function deviceName(ua = navigator.userAgent) {
  const browser = (UA_BROWSER.find(([re]) => re.test(ua)) || [null, 'Browser'])[1];
  const os = osFromUserAgent(ua).replace(/ [\d.]+$/, '');
  return os === 'unknown' ? browser : `${browser} on ${os}`;
}
