/**
 * A bare HTTP/1.1 client for protocol tests: sends the path exactly as given
 * (fetch would normalise it), any method, any headers or none, and returns
 * the body as text so non-JSON tokens (NaN) survive.
 */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  /** A list is sent in chunks (Transfer-Encoding: chunked, no Content-Length). */
  readonly body?: string | Uint8Array | readonly (string | Uint8Array)[];
  readonly headers?: Record<string, string>;
}

/** One request on its own connection (no keep-alive, no default Content-Type). */
export function rawRequest(port: number, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: request.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (!Array.isArray(request.body)) {
      req.end(request.body);
      return;
    }
    for (const chunk of request.body as readonly (string | Uint8Array)[]) req.write(chunk);
    req.end();
  });
}

/** POSTs JSON text to a model's :predict and returns the raw answer. */
export function predict(
  port: number,
  body: string,
  model = 'recommender',
  suffix = '',
): Promise<RawResponse> {
  return rawRequest(port, { method: 'POST', path: `/v1/models/${model}${suffix}:predict`, body });
}

/** Parses a predict body, mapping bare NaN/Infinity tokens to strings first. */
export function parseLenient<T>(text: string): T {
  return JSON.parse(text.replace(/(?<=[[,:])(-?Infinity|NaN)(?=[,\]}])/g, '"$1"')) as T;
}
