/**
 * Cloud Run services are private by default: the verify step calls a new
 * revision's tag URL with an ID token whose audience is the URL's origin,
 * minted for the function's own service account (google-auth-library, which
 * the Google clients already depend on). Clients are cached per audience; the
 * library refreshes tokens before they expire.
 */
import { TransientError } from '../../errors.js';

type HeaderSource = (url: string) => Promise<Record<string, string>>;

export function idTokenHeaders(): HeaderSource {
  const clients = new Map<string, Promise<{ getRequestHeaders(): Promise<unknown> }>>();
  return async (url) => {
    const audience = new URL(url).origin;
    try {
      let client = clients.get(audience);
      if (client === undefined) {
        client = import('google-auth-library').then(({ GoogleAuth }) =>
          new GoogleAuth().getIdTokenClient(audience),
        );
        clients.set(audience, client);
      }
      return headerRecord(await (await client).getRequestHeaders());
    } catch (error) {
      clients.delete(audience);
      throw new TransientError(
        'DEPENDENCY.UNAVAILABLE',
        `cannot mint an ID token for ${audience}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };
}

/** google-auth-library returns a Headers object in v10 and a plain record before. */
function headerRecord(headers: unknown): Record<string, string> {
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
