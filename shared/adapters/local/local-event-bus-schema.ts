import type Database from 'better-sqlite3';

/** Bumped when the tables below change; `migrateLocalEventBus` refuses newer files. */
export const LOCAL_EVENT_BUS_SCHEMA_VERSION = 2;

/**
 * The bus's own SQLite file. A delivery row is the unit of work: one per
 * (subscription, message), created in the publishing transaction and deleted
 * when acknowledged. There is no separate "in flight" state: claiming a
 * delivery moves its `next_attempt_at` past the ack deadline (a lease) and
 * records who holds it (`lease_pid`, `lease_owner`: the process and the bus
 * instance in it), so if that process dies mid-delivery the row comes due
 * again: at once when a bus starts and sees the holder is gone
 * (local-event-bus-lease-owners.ts), at the latest when the lease runs out.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS bus_topics (
  name        TEXT PRIMARY KEY,
  created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_subscriptions (
  name                    TEXT PRIMARY KEY,
  topic                   TEXT NOT NULL REFERENCES bus_topics(name),
  push_endpoint           TEXT NOT NULL,
  max_delivery_attempts   INTEGER NOT NULL,
  min_backoff_ms          INTEGER NOT NULL,
  max_backoff_ms          INTEGER NOT NULL,
  ack_deadline_ms         INTEGER NOT NULL,
  dead_letter_topic       TEXT REFERENCES bus_topics(name),
  enable_message_ordering INTEGER NOT NULL DEFAULT 0,
  acked_count             INTEGER NOT NULL DEFAULT 0,
  created_at              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_messages (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  topic         TEXT NOT NULL REFERENCES bus_topics(name),
  data          BLOB NOT NULL,
  attributes    TEXT NOT NULL,
  ordering_key  TEXT,
  publish_time  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
  subscription      TEXT NOT NULL REFERENCES bus_subscriptions(name),
  message_seq       INTEGER NOT NULL REFERENCES bus_messages(seq),
  ordering_key      TEXT,
  state             TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   INTEGER NOT NULL,
  last_status       INTEGER,
  last_error        TEXT,
  dead_lettered_at  TEXT,
  dead_letter_message_id TEXT,
  lease_pid         INTEGER,
  lease_owner       TEXT,
  PRIMARY KEY (subscription, message_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bus_deliveries_due
  ON bus_deliveries (state, next_attempt_at, message_seq);
CREATE INDEX IF NOT EXISTS bus_deliveries_ordering
  ON bus_deliveries (subscription, ordering_key, message_seq) WHERE state = 'pending';
`;

/** Columns added after version 1, with their definitions (ALTER TABLE … ADD COLUMN). */
const ADDED_DELIVERY_COLUMNS: readonly (readonly [string, string])[] = [
  // Version 2: who holds an in-flight delivery's lease.
  ['lease_pid', 'INTEGER'],
  ['lease_owner', 'TEXT'],
];

/**
 * Creates the tables if missing and upgrades an older file in place; fails on
 * a file written by a newer schema. In one write transaction, so a second
 * process opening the same file at the same time waits and then finds it done.
 */
export function migrateLocalEventBus(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LOCAL_EVENT_BUS_SCHEMA_VERSION) {
      throw new Error(
        `event bus database has schema ${version}; this build knows ${LOCAL_EVENT_BUS_SCHEMA_VERSION}`,
      );
    }
    db.exec(DDL);
    const columns = new Set(
      (db.pragma('table_info(bus_deliveries)') as { name: string }[]).map((c) => c.name),
    );
    for (const [name, type] of ADDED_DELIVERY_COLUMNS) {
      if (!columns.has(name)) db.exec(`ALTER TABLE bus_deliveries ADD COLUMN ${name} ${type}`);
    }
    db.pragma(`user_version = ${LOCAL_EVENT_BUS_SCHEMA_VERSION}`);
  }).immediate();
}
