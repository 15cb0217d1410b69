/**
 * Cloud Run services are private by default: the verify step calls a new
 * revision's tag URL, and the live revision's during replay, with an ID token
 * minted for the function's own service account (google-auth-library, which
 * the Google clients already depend on).
 *
 * The token's audience is the service's, never the URL being called: "Clients
 * that call an IAM-protected Cloud Run service must provide a valid ID token
 * that includes an audience (aud) claim matching the receiving service's
 * *.run.app URL. For clients that don't know this URL, you can use a custom
 * audience value" (https://cloud.google.com/run/docs/configuring/custom-audiences;
 * the service-to-service sample's audience is the service URL:
 * https://cloud.google.com/run/docs/authenticating/service-to-service). A tag
 * URL (`https://run-xxxx---svc-hash.a.run.app`) is not one of them, so the
 * caller passes the audience the platform reports for the service
 * (ServiceTraffic.idTokenAudience, else its serviceUrl).
 *
 * Clients are cached per audience; the library refreshes tokens before they
 * expire.
 */
import { TransientError } from '../../errors.js';

/** Headers for a request to `url` of a service that accepts tokens for `audience`. */
export type AuthHeaderSource = (url: string, audience: string) => Promise<Record<string, string>>;

/** The part of google-auth-library's GoogleAuth used here (a stub in tests). */
export interface IdTokenMinter {
  getIdTokenClient(audience: string): Promise<{ getRequestHeaders(): Promise<unknown> }>;
}

export interface IdTokenHeadersOptions {
  /** Makes the minter; default: google-auth-library's `new GoogleAuth()` (Application Default Credentials). */
  readonly minter?: () => IdTokenMinter | Promise<IdTokenMinter>;
}

export function idTokenHeaders(options: IdTokenHeadersOptions = {}): AuthHeaderSource {
  const makeMinter = options.minter ?? defaultMinter;
  const clients = new Map<string, Promise<{ getRequestHeaders(): Promise<unknown> }>>();
  return async (url, audience) => {
    try {
      let client = clients.get(audience);
      if (client === undefined) {
        client = Promise.resolve(makeMinter()).then((minter) => minter.getIdTokenClient(audience));
        clients.set(audience, client);
      }
      return headerRecord(await (await client).getRequestHeaders());
    } catch (error) {
      clients.delete(audience);
      throw new TransientError(
        'DEPENDENCY.UNAVAILABLE',
        `cannot mint an ID token for audience ${audience} (to call ${url}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };
}

async function defaultMinter(): Promise<IdTokenMinter> {
  const { GoogleAuth } = await import('google-auth-library');
  return new GoogleAuth();
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
