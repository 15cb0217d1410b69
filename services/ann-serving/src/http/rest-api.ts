/**
 * The request dispatcher: TF Serving's REST surface under /v1/ (status,
 * metadata, predict), `GET /health` for readiness and `GET /metrics` for
 * Prometheus; any other path gets the HTML 404 TF Serving's libevent server
 * sends. Every failure becomes an answer here, so no client input can crash
 * the process, and only the server's own faults are 5xx.
 */
import type { Logger } from '@recdeploy/shared';
import { RequestAbandonedError } from '../admission/abandoned.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import { metadataResponseBody, statusResponseBody } from '../protocol/model-responses.js';
import { isRestPath, parseRestRoute, type RestRoute } from '../protocol/rest-routes.js';
import { TfStatusError } from '../protocol/tf-status.js';
import { handlePredict, type PredictContext } from './predict-handler.js';
import { checkStatusTarget, servableFor } from './servable-lookup.js';
import { errorResponse, jsonResponse, type RestRequest, type RestResponse } from './rest-types.js';

export interface RestApiDependencies extends PredictContext {
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** True once SIGTERM arrived: readiness turns 503 so traffic drains away. */
  readonly isShuttingDown: () => boolean;
}

export type RestApi = (request: RestRequest) => Promise<RestResponse>;

const NOT_FOUND_HTML =
  '<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n';

export function createRestApi(deps: RestApiDependencies): RestApi {
  return async (request) => {
    const path = request.url.split('?', 1)[0] ?? '';
    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    if (path === '/health' && readOnly) return health(deps);
    if (path === '/metrics' && readOnly) {
      const { contentType, body } = await deps.metrics.render();
      return { status: 200, headers: { 'Content-Type': contentType }, body, route: 'metrics' };
    }
    if (!isRestPath(request.url)) {
      return {
        status: 404,
        headers: { 'Content-Type': 'text/html' },
        body: NOT_FOUND_HTML,
        route: 'not_found',
      };
    }
    if (request.method === 'OPTIONS') return preflight(request);
    let route: RestRoute | undefined;
    try {
      route = parseRestRoute(request.method, request.url);
      return jsonResponse(route.api, await answer(route, request, deps));
    } catch (error) {
      const label = route?.api ?? 'malformed';
      if (error instanceof TfStatusError) return errorResponse(label, error);
      if (error instanceof RequestAbandonedError) {
        // Never written: the transport sees the aborted signal and sends nothing.
        deps.metrics.observeAbandoned(error.stage);
        return { status: 499, headers: {}, body: '', route: 'abandoned' };
      }
      deps.logger.error('request failed', { err: error, route: label });
      return errorResponse(label, new TfStatusError('INTERNAL', 'Internal error'));
    }
  };
}

async function answer(
  route: RestRoute,
  request: RestRequest,
  deps: RestApiDependencies,
): Promise<string> {
  const { slot } = deps;
  switch (route.api) {
    case 'status': {
      checkStatusTarget(slot, route.model, route.choice);
      const failure = slot.loadError;
      return statusResponseBody([
        {
          version: slot.version,
          state: slot.state,
          ...(failure ? { errorCode: 'UNKNOWN', errorMessage: failure.message } : {}),
        },
      ]);
    }
    case 'metadata': {
      const model = servableFor(slot, route.model, route.choice);
      return metadataResponseBody(model.name, model.version, model.signature);
    }
    default:
      return handlePredict(route, request, deps);
  }
}

/**
 * Readiness: 200 only with the model and index loaded, and not while
 * shutting down, nor once the model has failed for good (a search worker
 * died: FAILED, logged when it happened), so the platform replaces it.
 */
function health({ slot, isShuttingDown }: RestApiDependencies): RestResponse {
  const state = isShuttingDown() ? 'SHUTTING_DOWN' : slot.model?.failure ? 'FAILED' : slot.state;
  const status = state === 'AVAILABLE' ? 200 : 503;
  return {
    status,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ state, model: slot.name, version: String(slot.version) }),
    route: 'health',
  };
}

/**
 * CORS preflight, as TF Serving answers it whether or not CORS is enabled:
 * 200 when an http(s) Origin is present, else 400; either way an empty body
 * and no Content-Type, because the REST handler is never called.
 */
function preflight(request: RestRequest): RestResponse {
  const origin = request.headers.origin;
  const ok = typeof origin === 'string' && /https?:\/\//.test(origin);
  return { status: ok ? 200 : 400, headers: {}, body: '', route: 'options' };
}
