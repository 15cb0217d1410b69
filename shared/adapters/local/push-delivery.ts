import { truncateText } from '../../errors.js';

/** A stored message as it is pushed. */
export interface PushedMessage {
  readonly messageId: string;
  readonly topic: string;
  readonly data: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey: string | null;
  /** RFC 3339. */
  readonly publishTime: string;
}

/** An HTTP request in Eventarc's binary CloudEvent mode. */
export interface PushRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** How one push attempt ended. */
export type PushOutcome =
  | { readonly kind: 'acked'; readonly status: number }
  | { readonly kind: 'failed'; readonly status: number | null; readonly error: string }
  /** Our own shutdown cut the attempt short: it has no verdict. */
  | { readonly kind: 'interrupted' };

/** Pub/Sub push treats exactly these statuses as an acknowledgement. */
const ACK_STATUSES: ReadonlySet<number> = new Set([102, 200, 201, 202, 204]);
/** How much of a failing receiver's answer is kept with the delivery. */
const MAX_ERROR_BODY_CHARS = 500;

/**
 * Builds the request Eventarc sends for a Pub/Sub message: CloudEvents binary
 * mode (the four `ce-*` headers the Functions Framework needs, plus `ce-time`)
 * and a `MessagePublishedData` JSON body, including the snake_case duplicates
 * real deliveries carry.
 */
export function buildPushRequest(
  projectId: string,
  subscription: string,
  message: PushedMessage,
  deliveryAttempt: number,
): PushRequest {
  const body = {
    subscription: `projects/${projectId}/subscriptions/${subscription}`,
    message: {
      data: message.data.toString('base64'),
      attributes: message.attributes,
      messageId: message.messageId,
      message_id: message.messageId,
      publishTime: message.publishTime,
      publish_time: message.publishTime,
      ...(message.orderingKey !== null && { orderingKey: message.orderingKey }),
    },
    deliveryAttempt,
  };
  return {
    headers: {
      'content-type': 'application/json',
      'ce-id': message.messageId,
      'ce-source': `//pubsub.googleapis.com/projects/${projectId}/topics/${message.topic}`,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-time': message.publishTime,
    },
    body: JSON.stringify(body),
  };
}

/** Describes a fetch failure by its root cause (ECONNREFUSED, …), which fetch hides in `cause`. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause?.code ?? cause?.message;
  return typeof detail === 'string' ? `${error.message}: ${detail}` : error.message;
}

/**
 * POSTs one delivery. The ack deadline is the HTTP timeout, as for Pub/Sub
 * push: a receiver that does not answer in time counts as a failed attempt.
 */
export async function pushCloudEvent(
  endpoint: string,
  request: PushRequest,
  ackDeadlineMs: number,
  stop: AbortSignal,
): Promise<PushOutcome> {
  const deadline = AbortSignal.timeout(ackDeadlineMs);
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.any([deadline, stop]),
    });
    if (ACK_STATUSES.has(response.status)) {
      await response.body?.cancel();
      return { kind: 'acked', status: response.status };
    }
    // The status is the verdict; a body cut short by the deadline only loses detail.
    const text = await response.text().catch(() => '');
    const error = `HTTP ${response.status}${text ? `: ${truncateText(text, MAX_ERROR_BODY_CHARS)}` : ''}`;
    return { kind: 'failed', status: response.status, error };
  } catch (error) {
    if (stop.aborted) return { kind: 'interrupted' };
    if (deadline.aborted) {
      return {
        kind: 'failed',
        status: null,
        error: `no answer within the ack deadline of ${ackDeadlineMs} ms`,
      };
    }
    return { kind: 'failed', status: null, error: describeNetworkError(error) };
  }
}
