import type Database from 'better-sqlite3';

/** Delivery counts of one subscription. */
export interface SubscriptionStats {
  readonly name: string;
  readonly topic: string;
  /** Waiting for their first attempt, a retry, or an answer right now. */
  readonly pending: number;
  readonly deadLettered: number;
  /** Acknowledged since the subscription was created. */
  readonly acked: number;
}

/** A snapshot of the bus. */
export interface LocalEventBusStats {
  readonly topics: readonly string[];
  readonly subscriptions: readonly SubscriptionStats[];
  readonly pending: number;
  readonly deadLettered: number;
  readonly acked: number;
}

/** A delivery that ran out of attempts, with the evidence of its last one. */
export interface DeadLetter {
  readonly subscription: string;
  readonly topic: string;
  readonly messageId: string;
  /** The published JSON, parsed back. */
  readonly data: unknown;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey: string | null;
  readonly publishTime: string;
  readonly attempts: number;
  /** HTTP status of the last attempt; null for a timeout or connection error. */
  readonly lastStatus: number | null;
  /** What went wrong last: status and truncated body, or the network error. */
  readonly lastError: string;
  readonly deadLetteredAt: string;
  /** The id of the copy published to the dead-letter topic, if one is configured. */
  readonly forwardedMessageId: string | null;
}

interface DeadLetterRow {
  subscription: string;
  topic: string;
  id: string;
  data: Buffer;
  attributes: string;
  ordering_key: string | null;
  publish_time: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  dead_lettered_at: string;
  dead_letter_message_id: string | null;
}

/** Counts deliveries per subscription. */
export function readStats(db: Database.Database): LocalEventBusStats {
  const topics = db.prepare('SELECT name FROM bus_topics ORDER BY name').pluck().all() as string[];
  const subscriptions = db
    .prepare(
      `SELECT s.name, s.topic, s.acked_count AS acked,
         (SELECT COUNT(*) FROM bus_deliveries d WHERE d.subscription = s.name
            AND d.state = 'pending') AS pending,
         (SELECT COUNT(*) FROM bus_deliveries d WHERE d.subscription = s.name
            AND d.state = 'dead') AS deadLettered
       FROM bus_subscriptions s ORDER BY s.name`,
    )
    .all() as SubscriptionStats[];
  const sum = (pick: (s: SubscriptionStats) => number) =>
    subscriptions.reduce((total, s) => total + pick(s), 0);
  return {
    topics,
    subscriptions,
    pending: sum((s) => s.pending),
    deadLettered: sum((s) => s.deadLettered),
    acked: sum((s) => s.acked),
  };
}

/** Dead-lettered deliveries, oldest first, optionally of one subscription. */
export function readDeadLetters(db: Database.Database, subscription?: string): DeadLetter[] {
  const rows = db
    .prepare(
      `SELECT d.subscription, m.topic, m.id, m.data, m.attributes, m.ordering_key, m.publish_time,
         d.attempts, d.last_status, d.last_error, d.dead_lettered_at, d.dead_letter_message_id
       FROM bus_deliveries d JOIN bus_messages m ON m.seq = d.message_seq
       WHERE d.state = 'dead' AND (@sub IS NULL OR d.subscription = @sub)
       ORDER BY d.dead_lettered_at, m.seq`,
    )
    .all({ sub: subscription ?? null }) as DeadLetterRow[];
  return rows.map((row) => ({
    subscription: row.subscription,
    topic: row.topic,
    messageId: row.id,
    data: JSON.parse(row.data.toString('utf8')) as unknown,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    orderingKey: row.ordering_key,
    publishTime: row.publish_time,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error ?? '',
    deadLetteredAt: row.dead_lettered_at,
    forwardedMessageId: row.dead_letter_message_id,
  }));
}
