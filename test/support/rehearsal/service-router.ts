/**
 * The front end of the Cloud Run simulator: per service, one loopback HTTP
 * server for the service URL and one per traffic tag, each URL
 * `http://127.0.0.1:PORT` (what the fake puts in `uri`, `urls` and
 * `trafficStatuses[].uri`). The service URL draws each request's revision by
 * the trafficStatuses percents (Cloud Run assigns requests at random in
 * proportion: chooseShare, shared with the local platform); a tag URL goes to
 * its tag's revision. Requests and answers are streamed through the local
 * platform's forwarder (forwardRequest).
 *
 * A private service (invokerIamDisabled false) wants an ID token in
 * `Authorization: Bearer …` or `X-Serverless-Authorization: Bearer …`
 * (https://cloud.google.com/run/docs/authenticating/service-to-service) whose
 * `aud` is the service's URL or one of its custom audiences
 * (https://cloud.google.com/run/docs/configuring/custom-audiences: "a valid
 * ID token that includes an audience claim matching the receiving service's
 * *.run.app URL", "The default Google-generated URL always remains an
 * accepted audience"; a tag URL is not named there, so it is not accepted).
 * No token: 403 "Error: Forbidden" (the page quoted in
 * GoogleCloudPlatform/cloud-code-intellij#3133, datacommonsorg/docsite#463);
 * a token that does not verify or is for another audience: 401 "Error:
 * Unauthorized" (the page quoted in google/adk-python#3814; an ID token for
 * the wrong audience answered 401 in GoogleCloudPlatform/cloud-run-proxy#10).
 * Whether the caller holds run.invoker is not checked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  forwardRequest,
  RoutedExchange,
  type ForwardContext,
} from '../../../shared/adapters/local/local-router-forward.js';
import { chooseShare } from '../../../shared/adapters/local/local-traffic-split.js';
import type { ServiceUrls, ServingState } from '../fakes/cloud-run-fake-wire.js';
import type { TokenCheck } from './id-token.js';

export interface RevisionPorts {
  /** The loopback port of a ready revision; undefined when it is not serving. */
  port(revision: string): number | undefined;
}

export interface TokenChecker {
  check(token: string, audiences: readonly string[]): TokenCheck;
}

interface Listener {
  readonly server: http.Server;
  url?: string;
}

interface ServiceRoute {
  readonly service: Listener;
  readonly tags: Map<string, Listener>;
  serving?: ServingState;
}

const NO_METRICS = { recordRequest: () => undefined, recordAnswers: () => undefined };

export class ServiceRouters {
  private readonly routes = new Map<string, ServiceRoute>();
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(
    private readonly revisions: RevisionPorts,
    private readonly tokens: TokenChecker,
  ) {}

  /** The URLs, once every server is listening; starts the servers it lacks. */
  urls(serviceId: string, tags: readonly string[]): ServiceUrls | undefined {
    let route = this.routes.get(serviceId);
    if (!route) {
      route = { service: this.listen(serviceId, undefined), tags: new Map() };
      this.routes.set(serviceId, route);
    }
    for (const tag of tags) {
      if (!route.tags.has(tag)) route.tags.set(tag, this.listen(serviceId, tag));
    }
    const tagUrls: Record<string, string> = {};
    for (const tag of tags) {
      const url = route.tags.get(tag)?.url;
      if (url === undefined) return undefined;
      tagUrls[tag] = url;
    }
    return route.service.url === undefined
      ? undefined
      : { service: route.service.url, tags: tagUrls };
  }

  route(serviceId: string, serving: ServingState): void {
    const route = this.routes.get(serviceId);
    if (route) route.serving = serving;
  }

  async close(): Promise<void> {
    const servers = [...this.routes.values()].flatMap((r) => [r.service, ...r.tags.values()]);
    await Promise.all(
      servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
    this.agent.destroy();
  }

  private listen(serviceId: string, tag: string | undefined): Listener {
    const server = http.createServer((request, response) =>
      this.handle(serviceId, tag, request, response),
    );
    const listener: Listener = { server };
    server.listen(0, '127.0.0.1', () => {
      listener.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    return listener;
  }

  private handle(
    serviceId: string,
    tag: string | undefined,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): void {
    const route = this.routes.get(serviceId);
    const serving = route?.serving;
    const path = request.url ?? '/';
    if (!route || !serving) return void page(response, 404, notFound(path));
    if (!serving.invokerIamDisabled) {
      const refusal = this.refusal(request, [route.service.url ?? '', ...serving.customAudiences]);
      if (refusal) return void page(response, refusal, refusalPage(refusal, path));
    }
    const revision = revisionFor(serving, tag);
    if (!revision) return void page(response, 404, notFound(path));
    const port = this.revisions.port(revision);
    if (port === undefined) {
      // Inferred: Cloud Run answers 503 when no instance of the revision can serve.
      return void page(response, 503, `revision ${revision} has no running instance`);
    }
    const context: ForwardContext = {
      service: serviceId,
      host: '127.0.0.1',
      agent: this.agent,
      metrics: NO_METRICS,
    };
    const target = { revision, port, state: 'ready', percent: 100, timeoutS: 0 } as const;
    forwardRequest(context, request, response, new RoutedExchange(context, response, target, 0));
  }

  /** 403 without a token, 401 with one that is not valid for this service; undefined when admitted. */
  private refusal(
    request: http.IncomingMessage,
    audiences: readonly string[],
  ): 401 | 403 | undefined {
    const header =
      request.headers['x-serverless-authorization'] ?? request.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(String(header))?.[1];
    if (token === undefined) return 403;
    return this.tokens.check(token, audiences).valid ? undefined : 401;
  }
}

/** The revision a request goes to: its tag's, or one drawn by percent; LATEST means the latest ready. */
function revisionFor(serving: ServingState, tag: string | undefined): string | undefined {
  const statuses = serving.trafficStatuses;
  const status =
    tag === undefined
      ? chooseShare(
          statuses
            .filter((s) => (s.percent ?? 0) > 0)
            .map((s) => ({ ...s, percent: s.percent ?? 0 })),
          Math.random(),
        )
      : statuses.find((s) => s.tag === tag);
  if (!status) return undefined;
  return status.revision || serving.latestReadyRevision || undefined;
}

function page(response: http.ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
  response.end(body);
}

/** Google's front-end error page (the layout quoted in google/adk-python#3814). */
function errorPage(status: string, title: string, text: string): string {
  return `<html><head>\n<meta http-equiv="content-type" content="text/html;charset=utf-8">\n<title>${status}</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n<h1>Error: ${title}</h1>\n<h2>${text}</h2>\n<h2></h2>\n</body></html>\n`;
}

function refusalPage(status: 401 | 403, path: string): string {
  const code = `<code>${escapeHtml(path)}</code>`;
  return status === 403
    ? errorPage(
        '403 Forbidden',
        'Forbidden',
        `Your client does not have permission to get URL ${code} from this server.`,
      )
    : errorPage(
        '401 Unauthorized',
        'Unauthorized',
        `Your client does not have permission to the requested URL ${code}.`,
      );
}

/** Inferred wording: Google's front end's 404 page. */
function notFound(path: string): string {
  return errorPage(
    '404 Not Found',
    'Not Found',
    `The requested URL <code>${escapeHtml(path)}</code> was not found on this server.`,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
