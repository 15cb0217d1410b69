/** Short renderings of measured values for check details, which end up in run documents. */

/** Longest detail a check stores; the run document must stay small (DESIGN.md §4). */
export const MAX_DETAIL_CHARS = 600;

/** `value` as compact JSON, cut at `maxChars`. */
export function preview(value: unknown, maxChars = 80): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** Milliseconds with one decimal (what latency details and the run document show). */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** A ratio with three decimals. */
export function roundRatio(value: number): number {
  return Math.round(value * 1000) / 1000;
}
