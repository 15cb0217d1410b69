/** How long something took, and how long ago it happened, in short human units. */

/** `850 ms`, `1.2 s`, `42 s`, `3 m 05 s`, `2 h 03 m`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1_000;
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const totalSeconds = Math.floor(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} m ${two(totalSeconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${two(minutes % 60)} m`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The time from `iso` to `now` in one unit, as `ps` shows ages: `12s`, `5m`, `3h`, `2d`. */
export function formatAge(iso: string | undefined, now: Date): string {
  const then = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const seconds = Math.max(0, Math.floor((now.getTime() - then) / 1_000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Milliseconds from `start` to `end` (or to `now` while unfinished); undefined without a start. */
export function elapsedMs(
  start: string | undefined,
  end: string | undefined,
  now: Date,
): number | undefined {
  if (start === undefined) return undefined;
  const from = Date.parse(start);
  const to = end === undefined ? now.getTime() : Date.parse(end);
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : Math.max(0, to - from);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
