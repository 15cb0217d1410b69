import type Database from 'better-sqlite3';

/** A push subscription as stored (every default already applied). */
export interface SubscriptionSettings {
  readonly name: string;
  readonly topic: string;
  readonly pushEndpoint: string;
  readonly maxDeliveryAttempts: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly ackDeadlineMs: number;
  readonly deadLetterTopic: string | null;
  readonly enableMessageOrdering: boolean;
}

/** A bus_subscriptions row, as `SUBSCRIPTION_COLUMNS` selects it. */
export interface SubscriptionRow {
  name: string;
  topic: string;
  push_endpoint: string;
  max_delivery_attempts: number;
  min_backoff_ms: number;
  max_backoff_ms: number;
  ack_deadline_ms: number;
  dead_letter_topic: string | null;
  enable_message_ordering: number;
}

/** The columns of `SubscriptionRow`, from a bus_subscriptions table aliased `s`. */
export const SUBSCRIPTION_COLUMNS = `s.name, s.topic, s.push_endpoint, s.max_delivery_attempts,
  s.min_backoff_ms, s.max_backoff_ms, s.ack_deadline_ms, s.dead_letter_topic,
  s.enable_message_ordering`;

export function toSubscriptionSettings(row: SubscriptionRow): SubscriptionSettings {
  return {
    name: row.name,
    topic: row.topic,
    pushEndpoint: row.push_endpoint,
    maxDeliveryAttempts: row.max_delivery_attempts,
    minBackoffMs: row.min_backoff_ms,
    maxBackoffMs: row.max_backoff_ms,
    ackDeadlineMs: row.ack_deadline_ms,
    deadLetterTopic: row.dead_letter_topic,
    enableMessageOrdering: row.enable_message_ordering === 1,
  };
}

/** Creates a topic; a no-op if it exists (the local stack declares its topics on every start). */
export function insertTopic(db: Database.Database, name: string): void {
  db.prepare('INSERT OR IGNORE INTO bus_topics (name, created_at) VALUES (?, ?)').run(
    name,
    new Date().toISOString(),
  );
}

export function topicExists(db: Database.Database, name: string): boolean {
  return db.prepare('SELECT 1 FROM bus_topics WHERE name = ?').get(name) !== undefined;
}

export function findSubscription(
  db: Database.Database,
  name: string,
): SubscriptionSettings | undefined {
  const row = db
    .prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM bus_subscriptions s WHERE s.name = ?`)
    .get(name) as SubscriptionRow | undefined;
  return row && toSubscriptionSettings(row);
}

/**
 * Creates or updates a subscription. Pending deliveries pick up the new
 * settings (endpoint, retry policy) on their next attempt; the topic is
 * fixed at creation, which the caller checks.
 */
export function upsertSubscription(db: Database.Database, s: SubscriptionSettings): void {
  db.prepare(
    `INSERT INTO bus_subscriptions (name, topic, push_endpoint, max_delivery_attempts,
       min_backoff_ms, max_backoff_ms, ack_deadline_ms, dead_letter_topic,
       enable_message_ordering, created_at)
     VALUES (@name, @topic, @pushEndpoint, @maxDeliveryAttempts, @minBackoffMs, @maxBackoffMs,
       @ackDeadlineMs, @deadLetterTopic, @ordering, @createdAt)
     ON CONFLICT (name) DO UPDATE SET push_endpoint = excluded.push_endpoint,
       max_delivery_attempts = excluded.max_delivery_attempts,
       min_backoff_ms = excluded.min_backoff_ms, max_backoff_ms = excluded.max_backoff_ms,
       ack_deadline_ms = excluded.ack_deadline_ms, dead_letter_topic = excluded.dead_letter_topic,
       enable_message_ordering = excluded.enable_message_ordering`,
  ).run({ ...s, ordering: s.enableMessageOrdering ? 1 : 0, createdAt: new Date().toISOString() });
}
