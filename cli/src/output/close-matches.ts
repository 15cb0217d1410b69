/** "Did you mean …?" suggestions for a mistyped id. */

/**
 * Up to `max` candidates close to `query`, closest first: those containing it
 * (or contained in it), then those within a small edit distance
 * (a quarter of the query's length, at least 2). Case-insensitive.
 */
export function closeMatches(query: string, candidates: readonly string[], max = 5): string[] {
  const q = query.toLowerCase();
  const limit = Math.max(2, Math.floor(q.length / 4));
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === query) continue;
    const c = candidate.toLowerCase();
    if (q.length > 0 && (c.includes(q) || q.includes(c))) {
      scored.push({ candidate, score: Math.abs(c.length - q.length) / 1_000 });
      continue;
    }
    const distance = editDistance(q, c, limit);
    if (distance <= limit) scored.push({ candidate, score: distance });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map((s) => s.candidate);
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? 0;
}
