/**
 * The use cases publish through the EventBus port and return no message ids;
 * a command wraps its bus with this to tell the user exactly what went out
 * (topic, message id, and the run and outcome it carries).
 */
import type { EventBus } from '@recdeploy/shared';
import type { PublishedMessage } from '../output/published-message.js';

export type { PublishedMessage } from '../output/published-message.js';

/** `bus` with every publish recorded in `published`, in order. */
export function recordingBus(bus: EventBus): {
  readonly bus: EventBus;
  readonly published: PublishedMessage[];
} {
  const published: PublishedMessage[] = [];
  return {
    published,
    bus: {
      async publish(topic, message) {
        const messageId = await bus.publish(topic, message);
        const runId = message.attributes?.run_id;
        const outcome = outcomeOf(message.data);
        published.push({
          topic,
          messageId,
          ...(runId === undefined ? {} : { runId }),
          ...(outcome === undefined ? {} : { outcome }),
        });
        return messageId;
      },
      close: () => bus.close(),
    },
  };
}

function outcomeOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || !('outcome' in data)) return undefined;
  return typeof data.outcome === 'string' ? data.outcome : undefined;
}
