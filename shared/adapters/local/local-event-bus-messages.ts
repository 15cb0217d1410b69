import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { PermanentError } from '../../errors.js';
import { topicExists } from './local-event-bus-topology.js';

/** A message to store on a topic. */
export interface StoredMessageInput {
  readonly data: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey: string | null;
}

/** Pub/Sub-style message id: a 16-digit decimal string, unique across db resets too. */
function newMessageId(): string {
  const n = randomBytes(8).readBigUInt64BE() % 9_000_000_000_000_000n;
  return String(n + 1_000_000_000_000_000n);
}

/**
 * Stores a message and one pending delivery, due now, per subscription of
 * the topic. Call inside a write transaction so the message and its
 * deliveries become durable together. Returns the message id.
 */
export function insertMessage(
  db: Database.Database,
  topic: string,
  message: StoredMessageInput,
): string {
  if (!topicExists(db, topic)) {
    throw new PermanentError('BUS.UNKNOWN_TOPIC', `topic ${topic} does not exist`, {
      metadata: { topic },
    });
  }
  const id = newMessageId();
  const subscriptions = db
    .prepare('SELECT name FROM bus_subscriptions WHERE topic = ?')
    .pluck()
    .all(topic) as string[];
  // Like Pub/Sub, a topic without subscriptions keeps nothing.
  if (subscriptions.length === 0) return id;
  const now = Date.now();
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO bus_messages (id, topic, data, attributes, ordering_key, publish_time)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      topic,
      message.data,
      JSON.stringify(message.attributes),
      message.orderingKey,
      new Date(now).toISOString(),
    );
  const insertDelivery = db.prepare(
    `INSERT INTO bus_deliveries (subscription, message_seq, ordering_key, state, next_attempt_at)
     VALUES (?, ?, ?, 'pending', ?)`,
  );
  for (const name of subscriptions)
    insertDelivery.run(name, lastInsertRowid, message.orderingKey, now);
  return id;
}

/** Drops a message once no delivery (pending or dead) refers to it any more. */
export function deleteMessageIfDone(db: Database.Database, seq: number): void {
  db.prepare(
    `DELETE FROM bus_messages WHERE seq = ?
       AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE message_seq = ?)`,
  ).run(seq, seq);
}
