/**
 * TF Serving's URL dispatch (http_rest_api_util.cc `ParseModelInfo`, and
 * `ProcessRequest` in http_rest_api_handler.cc), reproduced with the same
 * regular expressions: case-insensitive paths, a case-sensitive verb,
 * URL-decoded model names and labels, and "Malformed request" for anything
 * under /v1/ that does not parse. The path includes the query string, as
 * TF Serving's does, so `:predict?x=1` is malformed there too.
 */
import { invalidArgument } from './tf-status.js';

/** Which servable a request names: the latest, a version, or a label. */
export type VersionChoice =
  | { readonly kind: 'latest' }
  | { readonly kind: 'version'; readonly version: bigint }
  | { readonly kind: 'label'; readonly label: string };

export type RestRoute =
  | { readonly api: 'status' | 'metadata'; readonly model: string; readonly choice: VersionChoice }
  | {
      readonly api: 'predict' | 'classify' | 'regress';
      readonly model: string;
      readonly choice: VersionChoice;
    };

/** Paths the REST handler owns (`kHTTPRestApiHandlerPathRegex`); others are not TF Serving's. */
const REST_PATH = /^\/v1\/[^]*$/i;
const PREDICTION_PATH =
  /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const STATUS_PATH =
  /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;
const INT64_MAX = 2n ** 63n - 1n;

/** True for paths TF Serving's REST handler receives (`/v1/…`, any case). */
export function isRestPath(path: string): boolean {
  return REST_PATH.test(path);
}

/**
 * Resolves a request line to an API call, or throws the TfStatusError TF
 * Serving answers with (always INVALID_ARGUMENT, i.e. 400).
 */
export function parseRestRoute(method: string, path: string): RestRoute {
  // Built only on failure: an Error captures a stack trace (~14 µs), paid per request otherwise.
  const malformed = () => invalidArgument(`Malformed request: ${method} ${path}`);
  const match =
    method === 'POST'
      ? PREDICTION_PATH.exec(path)
      : method === 'GET'
        ? STATUS_PATH.exec(path)
        : null;
  if (!match) throw malformed();
  const [, rawName = '', rawVersion, rawLabel, verb] = match;
  const model = percentDecode(rawName);
  const choice = versionChoice(rawVersion, rawLabel);
  if (method === 'POST') {
    // The regex matches the verb in any case; the dispatch compares it exactly.
    if (verb !== 'predict' && verb !== 'classify' && verb !== 'regress') throw malformed();
    return { api: verb, model, choice };
  }
  if (model === '') throw invalidArgument('Missing model name in request.');
  // `/METADATA` matches the case-insensitive regex but is not "metadata": a status request.
  return { api: verb === 'metadata' ? 'metadata' : 'status', model, choice };
}

function versionChoice(
  rawVersion: string | undefined,
  rawLabel: string | undefined,
): VersionChoice {
  if (rawVersion !== undefined) {
    const version = BigInt(rawVersion);
    if (version > INT64_MAX) {
      throw invalidArgument(`Failed to convert version: ${rawVersion} to numeric.`);
    }
    return { kind: 'version', version };
  }
  if (rawLabel !== undefined) return { kind: 'label', label: percentDecode(rawLabel) };
  return { kind: 'latest' };
}

/**
 * `curl_easy_unescape`: every `%XX` with two hex digits becomes that byte;
 * anything else (a lone `%`, `+`) stays as written. Never throws, unlike
 * decodeURIComponent.
 */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  let i = 0;
  while (i < text.length) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    const char = String.fromCodePoint(text.codePointAt(i) ?? 0);
    bytes.push(...Buffer.from(char, 'utf8'));
    i += char.length;
  }
  return Buffer.from(bytes).toString('utf8');
}
