/**
 * GET /api/events: admits a stream within the limits (live/stream-limits.ts)
 * and opens it. Refusals: 429 when this client already holds its share of
 * streams (another client still gets one), 503 when the process holds as many
 * as it allows, both with Retry-After. The page's EventSource gives up on a
 * refusal and public/assets/main.js opens a new one 5 s later.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@recdeploy/shared';
import { EventStream } from '../live/event-stream.js';
import type { RunBroadcaster } from '../live/run-broadcaster.js';
import type { StreamLimits } from '../live/stream-limits.js';
import { clientAddress } from './client-address.js';
import { send, sendError } from './responses.js';

export interface EventStreamDeps {
  readonly broadcaster: RunBroadcaster;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly streamLimits: StreamLimits;
  /** TRUST_PROXY: how the client's address is read (http/client-address.ts). */
  readonly trustedProxies: number;
  /** Open event streams register here, so a shutdown can end them. */
  readonly streams: Set<EventStream>;
  readonly isShuttingDown: () => boolean;
}

/** As long as the page waits before it tries again. */
const RETRY_AFTER_S = '5';

export function openEventStream(
  deps: EventStreamDeps,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (deps.isShuttingDown()) {
    return sendError(res, 503, 'the dashboard is shutting down', { 'Retry-After': '2' });
  }
  // Gone already: nothing to answer, and no `close` would come to free a slot.
  if (req.socket.destroyed) return;
  const client = clientAddress(req, deps.trustedProxies);
  const admission = deps.streamLimits.admit(client);
  if (!admission.admitted) {
    const { perClient, total } = deps.streamLimits.limits;
    if (admission.limit === 'client') {
      // Logged once per client at its limit: a wrong TRUST_PROXY shows here as
      // many users under one address, and a flood does not flood the log.
      if (admission.first) {
        deps.logger.warn('event stream refused', {
          client,
          open: admission.open,
          limit: perClient,
        });
      }
      return sendError(
        res,
        429,
        `too many open event streams from ${client}: ${admission.open} open, at most ` +
          `${perClient} per client (MAX_EVENT_STREAMS_PER_CLIENT); close another dashboard tab`,
        { 'Retry-After': RETRY_AFTER_S },
      );
    }
    return sendError(
      res,
      503,
      `too many open event streams: at most ${total} in all (MAX_EVENT_STREAMS)`,
      { 'Retry-After': RETRY_AFTER_S },
    );
  }
  if (req.method === 'HEAD') {
    admission.release();
    return send(res, 200, '', { 'Content-Type': 'text/event-stream; charset=utf-8' });
  }
  let unsubscribe = (): void => undefined;
  // The slot is released when the response closes, whoever ends it: the
  // client leaving (its socket closes), the server ending it, or a write
  // error. Tied to `close` rather than to our own end(), so a reconnecting
  // page's old stream no longer counts once its connection is gone.
  const stream = new EventStream(res, deps.heartbeatIntervalMs, () => {
    unsubscribe();
    deps.streams.delete(stream);
    admission.release();
  });
  deps.streams.add(stream);
  // Subscribed before `ready` goes out: a client that loads the state on
  // `ready` then misses no change.
  unsubscribe = deps.broadcaster.subscribe((event) => stream.send(event.type, event.data));
  stream.send('ready', { heartbeatIntervalMs: deps.heartbeatIntervalMs });
}
