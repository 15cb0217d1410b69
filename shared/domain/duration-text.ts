/**
 * Durations as an operator writes them in a setting ("7d", "36h", "90m",
 * "45s") and as a one-line detail shows them back.
 */

const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Milliseconds of "<whole number><d|h|m|s>", or a sentence saying what is wrong. */
export function parseDuration(text: string): number | string {
  const match = /^([0-9]{1,7})\s*([dhms])$/.exec(text.trim());
  const unit = match && UNITS.find(([name]) => name === match[2]);
  if (!match || !unit) {
    return `${JSON.stringify(text)} is not a duration (a whole number and d, h, m or s: "7d", "36h", "90m", "45s")`;
  }
  const ms = Number(match[1]) * unit[1];
  return ms > 0 ? ms : `${JSON.stringify(text)} is not a duration above zero`;
}

/** The largest unit and the next one when not zero: "7d", "8d 2h", "1d 12h", "1h 30m", "45s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000)) * 1000;
  const first = UNITS.findIndex(([, size]) => seconds >= size);
  if (first === -1) return '0s';
  const [name, size] = UNITS[first] as [string, number];
  const text = `${Math.floor(seconds / size)}${name}`;
  const next = UNITS[first + 1];
  const rest = next === undefined ? 0 : Math.floor((seconds % size) / next[1]);
  return next === undefined || rest === 0 ? text : `${text} ${rest}${next[0]}`;
}
