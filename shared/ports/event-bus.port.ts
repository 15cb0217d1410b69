/** A message to publish on a topic, as Pub/Sub carries it. */
export interface OutgoingMessage {
  /** JSON-serialisable payload; it travels base64-encoded as `message.data`. */
  readonly data: unknown;
  /** String attributes (Pub/Sub's map<string,string>). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Messages with the same key are delivered in order where the subscription enables it. */
  readonly orderingKey?: string;
}

/**
 * Publishes events (Pub/Sub in the cloud, the local durable bus on one
 * machine). Delivery to subscribers is push, at least once.
 */
export interface EventBus {
  /** Resolves with the message id once the message is durably accepted. */
  publish(topic: string, message: OutgoingMessage): Promise<string>;
  close(): Promise<void>;
}
