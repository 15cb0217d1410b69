/**
 * A use case as a functions-framework HTTP handler that decodes the
 * CloudEvent itself (events/envelope/http-delivery.ts: binary and structured
 * content mode, chosen as the framework chooses).
 *
 * Why not `functions.cloudEvent`: registered that way, the framework answers
 * a GET (someone opening the function's URL in a browser) or a body that is
 * not JSON with a 500 HTML page holding a stack trace and absolute file
 * paths, from its own middleware, before any of our code runs (its Pub/Sub
 * and background-event converters use `in` on `req.body`, which throws on a
 * string or on nothing), and nothing is recorded. Registered as `http`,
 * those converters are not installed and every request reaches this handler:
 * - not a POST: 405 with `Allow: POST` and one line of text; recorded
 *   (kind "HTTP GET", …);
 * - a body that is not JSON: 415 and one line; recorded (kind "non-JSON body");
 * - JSON that is not a CloudEvent: recorded and acknowledged (204), as any
 *   delivery that can never succeed;
 * - a CloudEvent: the use case; 204, or 500 for a passing failure, which the
 *   bus redelivers (chain-runtime.ts), exactly as before.
 * The framework still answers before us for JSON that does not parse under
 * a JSON content type (its body parser's 400) and for the paths it reserves
 * (/favicon.ico, /robots.txt: 404).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  decodeHttpDelivery,
  excerptOf,
  explainHttpRejection,
  PAYLOAD_KINDS,
  type EventRejection,
} from '@recdeploy/events';
import { truncateText } from '../errors.js';
import type { ChainDeps } from '../usecases/chain-deps.js';
import { digestOf, recordRejection, type RejectionSource } from '../usecases/rejected-events.js';
import { chainRuntime, type ChainRuntime, type ChainStep } from './chain-runtime.js';

/** The request as the functions-framework hands it over: it keeps the raw body. */
export interface DeliveryRequest extends IncomingMessage {
  readonly rawBody?: Buffer;
}

/** The message each step's topic carries, as rejections name it. */
const EXPECTED: Readonly<Record<ChainStep, string>> = {
  register: 'training-completed',
  deploy: 'model-registered',
  verify: 'model-deployed',
  reconcile: 'reconcile-tick',
};

/** A request refused before decoding: what to answer and what to record. */
interface Refusal {
  readonly status: 405 | 415;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly rejection: Pick<EventRejection, 'code' | 'kind' | 'reason' | 'excerpt'>;
}

/** The HTTP handler of `step` (see the file comment); configuration is read now. */
export function chainHttpHandler(
  step: ChainStep,
  useCase: (deps: ChainDeps, cloudEvent: unknown) => Promise<void>,
  env: NodeJS.ProcessEnv = process.env,
): (req: DeliveryRequest, res: ServerResponse) => Promise<void> {
  const runtime = chainRuntime(step, env);
  return async (req, res) => {
    const body = req.rawBody ?? Buffer.alloc(0);
    const where = sourceOfRequest(req, body);
    const refusal = refuse(req, body, runtime);
    if (refusal !== undefined) {
      await recordRefusal(runtime, refusal, where);
      return answer(res, refusal.status, refusal.text, refusal.headers);
    }
    try {
      const decoded = decodeHttpDelivery(req.headers, body);
      await runtime.run(async (deps) => {
        if (decoded.ok) return useCase(deps, decoded.value);
        const text = body.toString('utf8');
        const explained = explainHttpRejection(decoded, text, EXPECTED[step]);
        return recordRejection(deps, explained.rejection, where);
      });
      answer(res, 204);
    } catch (error) {
      // Already logged by the runtime: one line for the bus, never a stack.
      const message = error instanceof Error ? error.message : String(error);
      answer(res, 500, truncateText(message.replace(/\s+/g, ' '), 500), {
        'X-Google-Status': 'error',
      });
    }
  };
}

/** A GET or a non-JSON body, or undefined for a request to decode. */
function refuse(req: DeliveryRequest, body: Buffer, runtime: ChainRuntime): Refusal | undefined {
  const name = `recdeploy-${runtime.step}`;
  const method = req.method ?? 'GET';
  const path = pathOf(req);
  if (method !== 'POST') {
    return {
      status: 405,
      headers: { Allow: 'POST' },
      text: `${name} takes CloudEvents by POST (Eventarc push deliveries); a ${method} does nothing and is recorded as a rejected delivery.`,
      rejection: {
        code: 'EVENT.INVALID',
        kind: PAYLOAD_KINDS.httpMethod(method),
        reason: `HTTP ${method} ${path} is not a delivery: the ${runtime.step} function takes ${EXPECTED[runtime.step]} CloudEvents by POST (Eventarc push); answered 405`,
      },
    };
  }
  const type = mediaTypeOf(req);
  if (type !== undefined && isJson(type)) return undefined;
  const got = type ?? 'no content type';
  return {
    status: 415,
    headers: {},
    text: `${name} takes a CloudEvent as JSON (application/json or application/cloudevents+json); got ${got}.`,
    rejection: {
      code: 'EVENT.INVALID',
      kind: PAYLOAD_KINDS.nonJsonBody,
      reason: `HTTP POST ${path} with ${got} (${body.length} bytes) is not a CloudEvent: the ${runtime.step} function takes JSON; answered 415`,
      ...(body.length > 0 ? { excerpt: excerptOf(body.toString('utf8')) } : {}),
    },
  };
}

/** Records a refused request; a store that cannot take it does not change the answer. */
async function recordRefusal(
  runtime: ChainRuntime,
  refusal: Refusal,
  where: RejectionSource,
): Promise<void> {
  try {
    await runtime.run((deps) => recordRejection(deps, refusal.rejection, where));
  } catch {
    // Logged by the runtime; a stray GET is not worth a 500.
  }
}

/** Where a request came from, and the digest that keys it (it has no event id). */
function sourceOfRequest(req: DeliveryRequest, body: Buffer): RejectionSource {
  const method = req.method ?? 'GET';
  const head = `${method} ${pathOf(req)}\n${mediaTypeOf(req) ?? ''}\n`;
  return {
    source: truncateText(`HTTP ${method} ${pathOf(req)}`, 500),
    digest: digestOf(Buffer.concat([Buffer.from(head, 'utf8'), body])),
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const path = url.split('?')[0] ?? '/';
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function mediaTypeOf(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  if (header === undefined) return undefined;
  const type = header.split(';')[0]?.trim().toLowerCase();
  return type === undefined || type === '' ? undefined : type.slice(0, 100);
}

function isJson(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

function answer(
  res: ServerResponse,
  status: number,
  text?: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) return;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (text === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}
