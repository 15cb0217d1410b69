/**
 * The dashboard's HTTP surface, read-only:
 *   GET /                 the page
 *   GET /assets/{name}    its stylesheets and script modules
 *   GET /api/runs         recent runs, the serving record per service, rejected events,
 *                         open freshness alerts
 *   GET /api/freshness    the open freshness alerts alone (the page re-reads them)
 *   GET /api/runs/{runId} one run document
 *   GET /api/events       server-sent events (see live/event-stream.ts)
 *   GET /healthz          liveness (503 while shutting down)
 * HEAD is answered like GET; every other method gets 405, a request without
 * an HTTP version (HTTP/0.9) 400 (http-version-guard.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toRecdeployError, type RunStore } from '@recdeploy/shared';
import { loadOverview } from '../overview/runs-overview.js';
import type { DashboardPage } from '../page/dashboard-page.js';
import { openEventStream, type EventStreamDeps } from './event-stream-route.js';
import { refuseUnsupportedVersion } from './http-version-guard.js';
import { send, sendError, sendJson } from './responses.js';

export interface RouteDeps extends EventStreamDeps {
  readonly store: RunStore;
  readonly page: DashboardPage;
}

/** Runs listed by default and at most (the store's own maximum page). */
const RUNS_LIMIT = { default: 200, max: 500 } as const;
/** The page groups them by kind, so it can take more than it could list. */
const REJECTED_EVENTS_SHOWN = 200;
const ALLOW = 'GET, HEAD';
const RUN_PATH = /^\/api\/runs\/([^/]+)$/;
const ASSET_PATH = /^\/assets\/([^/]+)$/;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createRoutes(deps: RouteDeps): RequestHandler {
  return async (req, res) => {
    if (refuseUnsupportedVersion(req, res)) return;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(res, 405, `${method} is not allowed: the dashboard is read-only`, {
        Allow: ALLOW,
      });
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    try {
      if (path === '/' || path === '/index.html') return sendPage(deps, res);
      if (path === '/healthz') return sendHealth(deps, res);
      const assetPath = ASSET_PATH.exec(path);
      if (assetPath?.[1] !== undefined) return sendAsset(deps, res, assetPath[1]);
      if (path === '/api/runs') return await sendOverview(deps, res, url.searchParams);
      if (path === '/api/freshness') return await sendFreshness(deps, res);
      if (path === '/api/events') return openEventStream(deps, req, res);
      const runPath = RUN_PATH.exec(path);
      if (runPath?.[1] !== undefined) return await sendRun(deps, res, runPath[1]);
      return sendError(res, 404, `no such page: ${path}`);
    } catch (error) {
      const failure = toRecdeployError(error);
      deps.logger.error('request failed', { path, code: failure.code, error: failure.message });
      // A store that is briefly unreachable is worth a retry; anything else is a fault here.
      if (failure.code === 'STORE.UNAVAILABLE') {
        return sendError(res, 503, `the run store is unavailable: ${failure.message}`, {
          'Retry-After': '2',
        });
      }
      return sendError(res, 500, `internal error: ${failure.message}`);
    }
  };
}

function sendPage(deps: RouteDeps, res: ServerResponse): void {
  const page = deps.page.render();
  send(res, 200, page.html, page.headers);
}

function sendAsset(deps: RouteDeps, res: ServerResponse, name: string): void {
  const asset = deps.page.asset(name);
  if (asset === undefined) return sendError(res, 404, `no such asset: ${name}`);
  send(res, 200, asset.body, { 'Content-Type': asset.contentType });
}

function sendHealth(deps: RouteDeps, res: ServerResponse): void {
  if (deps.isShuttingDown()) return sendJson(res, 503, { status: 'shutting down' });
  sendJson(res, 200, { status: 'ok' });
}

async function sendOverview(
  deps: RouteDeps,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const raw = query.get('limit');
  const limit = raw === null ? RUNS_LIMIT.default : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > RUNS_LIMIT.max) {
    return sendError(
      res,
      400,
      `limit must be a whole number from 1 to ${RUNS_LIMIT.max}, got ${JSON.stringify(raw)}`,
    );
  }
  const overview = await loadOverview(deps.store, {
    runs: limit,
    rejectedEvents: REJECTED_EVENTS_SHOWN,
  });
  sendJson(res, 200, overview);
}

async function sendFreshness(deps: RouteDeps, res: ServerResponse): Promise<void> {
  const freshnessAlerts = await deps.store.listFreshnessAlerts();
  sendJson(res, 200, { freshnessAlerts, generatedAt: new Date().toISOString() });
}

async function sendRun(deps: RouteDeps, res: ServerResponse, encodedId: string): Promise<void> {
  let runId: string;
  try {
    runId = decodeURIComponent(encodedId);
  } catch {
    return sendError(res, 400, `the run id ${JSON.stringify(encodedId)} is not valid URL encoding`);
  }
  const run = await deps.store.getRun(runId);
  if (run === undefined) return sendError(res, 404, `no run with id ${JSON.stringify(runId)}`);
  sendJson(res, 200, run);
}
