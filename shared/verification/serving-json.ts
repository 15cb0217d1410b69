/**
 * Parses a TF Serving response body. TF Serving (and ann-serving, which
 * copies it) writes non-finite floats as bare `NaN`, `Infinity` and
 * `-Infinity` tokens, which `JSON.parse` rejects; a revision that returns NaN
 * scores must fail the score check with that fact, not with a parse error.
 * Such tokens outside strings become the strings "NaN", "Infinity" and
 * "-Infinity", which no check accepts as a score.
 */

const BARE_TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;

/** `JSON.parse` that also accepts TF Serving's bare non-finite tokens; throws SyntaxError otherwise. */
export function parseServingJson(text: string): unknown {
  return JSON.parse(quoteBareTokens(text)) as unknown;
}

function quoteBareTokens(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      out += char;
      continue;
    }
    const token = BARE_TOKENS.find((t) => text.startsWith(t, i));
    if (token) {
      out += `"${token}"`;
      i += token.length - 1;
      continue;
    }
    out += char;
  }
  return out;
}
