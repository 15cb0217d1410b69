import http from 'node:http';
import { BodyTap, inspectPredictAnswer, isPredictRequest } from './local-answer-inspection.js';
import type { RouterMetricsSink } from './local-router-metrics.js';
import type { RouteTarget } from './local-serving-records.js';

/** On every answer of a router: which service it routes (how another platform recognises it). */
export const ROUTER_HEADER = 'x-recdeploy-router';
/** On answers for a revision (its own, or the router's 502/504 for it): the revision chosen. */
export const REVISION_HEADER = 'x-recdeploy-revision';

/** Largest predict body (request or answer) kept for inspection; larger ones are not inspected. */
export const INSPECT_LIMIT_BYTES = 1024 * 1024;
/** Cloud Run's default request timeout, for a spec without one. */
const DEFAULT_TIMEOUT_S = 300;

/** Connection-level headers, meaningful for one hop only (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

export interface ForwardContext {
  readonly service: string;
  readonly host: string;
  readonly agent: http.Agent;
  readonly metrics: RouterMetricsSink;
}

/**
 * One request routed to one revision, recorded when its response closes:
 * its latency, whether it failed (a 5xx, the router's own 502/504, or an
 * answer cut off by the revision; a client that went away is not the
 * revision's failure), and, for a predict answer kept whole, the inspection
 * of its predictions. Inspection runs after the answer has been sent, so it
 * never delays or alters it.
 */
export class RoutedExchange {
  failed = false;
  requestTap: BodyTap | undefined;
  answerTap: BodyTap | undefined;

  constructor(
    private readonly context: ForwardContext,
    private readonly response: http.ServerResponse,
    readonly target: RouteTarget,
    private readonly started: number,
  ) {
    response.once('close', () => this.record());
  }

  /** The revision as messages name it: `live revision x`, or `revision x (10% of the traffic)`. */
  get who(): string {
    const { revision, percent } = this.target;
    return percent === 100
      ? `live revision ${revision}`
      : `revision ${revision} (${percent}% of the traffic)`;
  }

  private record(): void {
    const { metrics, service } = this.context;
    const { revision } = this.target;
    const at = Date.now();
    const status = this.response.headersSent ? this.response.statusCode : 0;
    metrics.recordRequest(service, revision, at, {
      latencyMs: performance.now() - this.started,
      error: this.failed || status >= 500,
    });
    const answerTap = this.answerTap;
    if (!answerTap || !this.response.writableFinished) return;
    setImmediate(() => {
      const answer = answerTap.text();
      if (answer === undefined) return;
      const inspected = inspectPredictAnswer(answer, this.requestTap?.text());
      // Counted per answer (one predict response), degenerate when any of its
      // predictions is: the unit Cloud Monitoring can count too (2xx requests,
      // and ann-serving's one log line per degenerate answer).
      if (inspected) {
        metrics.recordAnswers(service, revision, at, {
          inspected: 1,
          degenerate: inspected.degenerate > 0 ? 1 : 0,
        });
      }
    });
  }
}

/**
 * Forwards the request (method, path, headers, streamed body) to the
 * exchange's revision and streams its answer back, within the revision's
 * request timeout (resources.timeoutS): past it, 504 with a JSON error, as
 * Cloud Run answers, or a cut connection when the answer had begun.
 */
export function forwardRequest(
  context: ForwardContext,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  exchange: RoutedExchange,
): void {
  const { target } = exchange;
  const upstream = http.request({
    host: context.host,
    port: target.port,
    method: request.method,
    path: request.url,
    headers: withoutHopByHop(request.headers),
    agent: context.agent,
  });
  const timeoutS = target.timeoutS > 0 ? target.timeoutS : DEFAULT_TIMEOUT_S;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    exchange.failed = true;
    if (response.headersSent) response.destroy();
    else
      reply(
        response,
        504,
        `${exchange.who} of service ${context.service} did not answer within its request timeout of ${timeoutS} s`,
      );
    upstream.destroy();
  }, timeoutS * 1000);
  const inspect = isPredictRequest(request.method, request.url);
  if (inspect) {
    const tap = (exchange.requestTap = new BodyTap(INSPECT_LIMIT_BYTES));
    request.on('data', (chunk: Buffer) => tap.push(chunk));
  }
  upstream.on('response', (answer) => {
    if (timedOut || response.destroyed) return void answer.resume();
    if (inspect && answer.statusCode === 200 && answer.headers['content-encoding'] === undefined) {
      const tap = (exchange.answerTap = new BodyTap(INSPECT_LIMIT_BYTES));
      answer.on('data', (chunk: Buffer) => tap.push(chunk));
    }
    response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
    answer.pipe(response);
    answer.on('error', () => {
      exchange.failed = true;
      response.destroy();
    });
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    // After a time-out or a client that went away, the error is ours: already answered or no one to tell.
    if (timedOut || response.destroyed) return;
    exchange.failed = true;
    if (response.headersSent) return void response.destroy(error);
    reply(
      response,
      502,
      `${exchange.who} of service ${context.service} is not answering on port ${target.port}: ${error.code ?? error.message}`,
    );
  });
  response.once('close', () => {
    clearTimeout(timer);
    // A client that goes away must not leave the upstream request open.
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
}

/** `{"error": "…"}` with `status`, as TF Serving and Cloud Run's front end answer errors. */
export function reply(response: http.ServerResponse, status: number, error: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error }));
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}
