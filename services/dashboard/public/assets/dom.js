/**
 * Building the page's DOM from run fields, which are untrusted input: they
 * only ever become text nodes or attribute values, never markup, and only
 * http(s) URLs become links. Plus the small formatters every part uses.
 */
/* global document, Node, URL */

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
// An absolute http(s) URL as the browser itself parses it; anything else
// (javascript:, data:, relative) is shown as text, never linked.
export function isHttpUrl(text) {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
export function link(text, testid) {
  if (!text) return null;
  if (!isHttpUrl(text)) return h('span', { class: 'mono', 'data-testid': testid }, text);
  return h(
    'a',
    {
      href: text,
      class: 'mono',
      target: '_blank',
      rel: 'noopener noreferrer',
      'data-testid': testid,
    },
    text,
  );
}
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');
/**
 * A moment with its date, in the browser's time zone and the same words in
 * every locale: "today 16:42:10", "yesterday 09:05:00", "6 Dec 16:42:10",
 * "6 Dec 2025 16:42:10" (another year).
 */
export function dateTimeText(date, now = new Date()) {
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((dayStart(now) - dayStart(date)) / 86_400_000);
  if (days === 0) return `today ${clock}`;
  if (days === 1) return `yesterday ${clock}`;
  const year = date.getFullYear() === now.getFullYear() ? '' : ` ${date.getFullYear()}`;
  return `${date.getDate()} ${MONTHS[date.getMonth()]}${year} ${clock}`;
}
/** A <time> with its date (dateTimeText) and the full ISO time as its datetime and title. */
export function time(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  return h('time', { datetime: iso, title: iso }, dateTimeText(date));
}
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
export function between(from, to) {
  return Date.parse(to) - Date.parse(from);
}
export function num(value) {
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(Math.abs(value) < 1 ? 4 : 2)));
}
