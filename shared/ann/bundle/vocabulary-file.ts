/**
 * TensorFlow Transform vocabulary files: UTF-8, one token per line, the line
 * number being the token's index (what `tft.vocabulary` writes and
 * `tf.lookup.TextFileInitializer` reads). A trailing newline ends the last
 * line; a trailing '\r' is dropped, as TensorFlow's line reader does.
 */

/** Parses a vocabulary file's text; returns the tokens or a problem. */
export function parseVocabulary(text: string): { tokens: string[] } | { problem: string } {
  if (text.length === 0) return { problem: 'is empty (a vocabulary needs at least one token)' };
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const tokens = body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const firstLine = new Map<string, number>();
  for (const [i, token] of tokens.entries()) {
    const seen = firstLine.get(token);
    // TensorFlow refuses a lookup table whose file repeats a key.
    if (seen !== undefined) {
      return {
        problem: `token ${JSON.stringify(token)} appears on lines ${seen + 1} and ${i + 1}`,
      };
    }
    firstLine.set(token, i);
  }
  return { tokens };
}

/** The text of a vocabulary file; throws if a token cannot be written on one line. */
export function formatVocabulary(tokens: readonly string[]): string {
  if (tokens.length === 0) throw new Error('a vocabulary needs at least one token');
  for (const token of tokens) {
    if (/[\r\n]/.test(token))
      throw new Error(`vocabulary token ${JSON.stringify(token)} has a line break`);
  }
  return `${tokens.join('\n')}\n`;
}
