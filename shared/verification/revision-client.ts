/**
 * The verifier's HTTP client for one revision's TF Serving REST API (status,
 * metadata, predict) at its tag URL, on Node's global fetch. Every request has
 * its own timeout and fresh headers from the caller's provider (Cloud Run
 * private services need an ID token, which the provider refreshes as needed).
 *
 * Where the line between "the model fails" and "the verifier cannot work"
 * runs: a revision that refuses connections, times out or answers any status
 * other than 401/403 is a result, returned for the checks to judge. Throwing
 * (`TransientError` DEPENDENCY.UNAVAILABLE, so the bus redelivers) is kept for
 * what says nothing about the model: the header provider fails, the platform
 * answers 401/403 (TF Serving and ann-serving never do; Cloud Run's front end
 * does when the verifier's identity may not invoke the service), or the
 * caller aborts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
// The module, not the ann entry point, which would load hnswlib's native addon.
import { FINGERPRINT_HEADER, RUN_ID_HEADER } from '../ann/bundle/bundle-fingerprint.js';
import { VERIFICATION_HEADER } from '../ann/bundle/replay-sample.js';
import { RecdeployError, TransientError, truncateText } from '../errors.js';
import { preview } from './format.js';

/** An HTTP answer of the revision, body as text (it may hold bare NaN tokens). */
export interface RevisionAnswer {
  readonly status: number;
  readonly body: string;
  /** Wall clock from sending the request to the end of the body. */
  readonly ms: number;
  /**
   * The response headers verification reads (ANSWER_HEADERS, lower-case
   * names), those present: ann-serving's run id and fingerprint.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/** Response headers kept in a RevisionAnswer: what the fingerprint check compares. */
export const ANSWER_HEADERS = [RUN_ID_HEADER, FINGERPRINT_HEADER] as const;

/**
 * Sent with every request: marks verification traffic, which ann-serving's
 * replay sampler leaves out of its sample of live queries. A plain marker,
 * no secret.
 */
export const VERIFICATION_MARKER: Readonly<Record<string, string>> = { [VERIFICATION_HEADER]: '1' };

/** An answer, or why there was none (connection refused, timeout…). */
export type RevisionResult = { readonly answer: RevisionAnswer } | { readonly failure: string };

export interface RevisionClientOptions {
  /** The revision's tag URL (scheme and host, optionally a path prefix). */
  readonly baseUrl: string;
  readonly modelName: string;
  readonly requestTimeoutMs: number;
  readonly headers?: () => Promise<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export class RevisionClient {
  /** `{baseUrl}/v1/models/{name}`. */
  readonly modelUrl: string;
  private readonly options: RevisionClientOptions;

  constructor(options: RevisionClientOptions) {
    this.options = options;
    const base = options.baseUrl.replace(/\/+$/, '');
    this.modelUrl = `${base}/v1/models/${encodeURIComponent(options.modelName)}`;
  }

  /** `GET /v1/models/{name}`. */
  status(): Promise<RevisionResult> {
    return this.request('GET', this.modelUrl);
  }

  /** `GET /v1/models/{name}/metadata`. */
  metadata(): Promise<RevisionResult> {
    return this.request('GET', `${this.modelUrl}/metadata`);
  }

  /** `POST /v1/models/{name}:predict` with `{"instances": [...]}`. */
  predict(instances: readonly unknown[]): Promise<RevisionResult> {
    return this.request('POST', `${this.modelUrl}:predict`, JSON.stringify({ instances }));
  }

  /** Throws the verifier's abort error if the caller aborted. */
  throwIfAborted(): void {
    const { signal } = this.options;
    if (signal?.aborted) throw abortedError(this.options.baseUrl, signal.reason);
  }

  /** Waits `ms`, or throws the verifier's abort error as soon as the caller aborts. */
  async pause(ms: number): Promise<void> {
    const { signal } = this.options;
    await sleep(ms, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
      this.throwIfAborted();
      throw error;
    });
  }

  private async request(
    method: 'GET' | 'POST',
    url: string,
    body?: string,
  ): Promise<RevisionResult> {
    const timeoutMs = this.options.requestTimeoutMs;
    this.throwIfAborted();
    const headers = await this.headers(url);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(Math.ceil(timeoutMs));
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
    const started = performance.now();
    try {
      const response = await fetch(url, { method, headers, body, signal });
      const text = await response.text();
      const answer: RevisionAnswer = {
        status: response.status,
        body: text,
        ms: performance.now() - started,
        headers: keptHeaders(response.headers),
      };
      if (answer.status === 401 || answer.status === 403)
        throw notAllowedError(method, url, answer);
      return { answer };
    } catch (error) {
      if (error instanceof RecdeployError) throw error;
      this.throwIfAborted();
      if (timeout.aborted) return { failure: `${method} ${url}: no answer within ${timeoutMs} ms` };
      return { failure: `${method} ${url}: ${networkErrorText(error)}` };
    }
  }

  private async headers(url: string): Promise<Record<string, string>> {
    if (!this.options.headers) return { ...VERIFICATION_MARKER };
    try {
      return { ...(await this.options.headers()), ...VERIFICATION_MARKER };
    } catch (error) {
      throw new TransientError(
        'DEPENDENCY.UNAVAILABLE',
        `cannot get request headers (e.g. an ID token) to call ${url}: ${errorText(error)}`,
        { cause: error, metadata: { url } },
      );
    }
  }
}

function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ANSWER_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept[name] = value;
  }
  return kept;
}

/** One line describing a result that is not a 200 answer, for a check's detail. */
export function describeFailure(result: RevisionResult): string {
  if ('failure' in result) return result.failure;
  const { status, body } = result.answer;
  return `HTTP ${status}: ${errorMessageOf(body)}`;
}

/** TF Serving's `{"error": "..."}` message, or the body's beginning. */
function errorMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const { error } = parsed;
      return typeof error === 'string' ? truncateText(error, 200) : preview(error, 200);
    }
  } catch {
    // Not JSON (an HTML error page of a proxy): show its beginning.
  }
  return body.length === 0 ? '(empty body)' : preview(body, 200);
}

function notAllowedError(method: string, url: string, answer: RevisionAnswer): TransientError {
  return new TransientError(
    'DEPENDENCY.UNAVAILABLE',
    `${method} ${url} answered HTTP ${answer.status}: the verifier is not allowed to call the ` +
      `revision (a private Cloud Run service needs an ID token whose identity has ` +
      `roles/run.invoker); ${errorMessageOf(answer.body)}`,
    { metadata: { url, status: answer.status } },
  );
}

function abortedError(baseUrl: string, reason: unknown): TransientError {
  return new TransientError(
    'DEPENDENCY.UNAVAILABLE',
    `verification of ${baseUrl} was aborted: ${errorText(reason)}`,
    { cause: reason, metadata: { url: baseUrl } },
  );
}

/** undici reports "fetch failed" and puts the useful part (ECONNREFUSED…) in `cause`. */
function networkErrorText(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message;
  }
  return errorText(error);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
