import type Database from 'better-sqlite3';
import { ConfigError, PermanentError, TransientError, RecdeployError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { EventBus, OutgoingMessage } from '../../ports/event-bus.port.js';
import { DeliveryQueue } from './local-event-bus-deliveries.js';
import { DeliveryLoop } from './local-event-bus-delivery-loop.js';
import {
  readDeadLetters,
  readStats,
  type DeadLetter,
  type LocalEventBusStats,
} from './local-event-bus-inspection.js';
import { encodeJsonData } from '../encode-json-data.js';
import {
  newLeaseOwner,
  releaseLeasesOfDeadOwners,
  retireLeaseOwner,
  type LeaseOwner,
} from './local-event-bus-lease-owners.js';
import { insertMessage } from './local-event-bus-messages.js';
import { migrateLocalEventBus } from './local-event-bus-schema.js';
import * as topology from './local-event-bus-topology.js';
import {
  resolveSubscription,
  resourceIdProblems,
  type PushSubscriptionOptions,
} from './local-event-bus-validation.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

/** Options of the embedded bus. */
export interface LocalEventBusOptions {
  /** The bus's own SQLite file (not the run store's). */
  readonly file: string;
  /** Project in `ce-source` and subscription names. Default 'local'. */
  readonly projectId?: string;
  /** Deliveries pushed at the same time, over all subscriptions. Default 16. */
  readonly maxInFlight?: number;
  /**
   * Longest sleep of the delivery loop. Publishes in this process wake it at
   * once; this bounds how late it notices messages other processes published
   * into the same file. Default 1000 ms.
   */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => SILENT };

/**
 * The embedded EventBus: durable topics and push subscriptions in SQLite,
 * delivered as Eventarc-style CloudEvents over HTTP with Pub/Sub push
 * semantics (2xx acks; anything else, a timeout or a connection error is
 * retried with backoff; dead-lettered after `maxDeliveryAttempts`).
 * Delivery is at least once, also across crashes: see DeliveryQueue.
 */
export class LocalEventBus implements EventBus {
  private readonly db: Database.Database;
  private readonly loop: DeliveryLoop;
  private readonly owner: LeaseOwner;
  private readonly logger: Logger;
  private closed = false;

  constructor(options: LocalEventBusOptions) {
    const projectId = options.projectId ?? 'local';
    this.db = openSqliteDatabase(options.file);
    migrateLocalEventBus(this.db);
    this.owner = newLeaseOwner();
    this.logger = options.logger ?? SILENT;
    this.loop = new DeliveryLoop({
      queue: new DeliveryQueue(this.db, projectId, this.owner),
      projectId,
      maxInFlight: options.maxInFlight ?? 16,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      logger: this.logger,
    });
  }

  /** Creates a topic; a no-op if it exists. */
  createTopic(name: string): void {
    const problems = resourceIdProblems('topic', name);
    if (problems.length > 0) throw new ConfigError(problems);
    topology.insertTopic(this.db, name);
  }

  /** Creates a push subscription, or updates its settings if it exists (same topic only). */
  createSubscription(options: PushSubscriptionOptions): topology.SubscriptionSettings {
    const settings = resolveSubscription(options);
    writeTransaction(this.db, () => {
      for (const topic of [settings.topic, settings.deadLetterTopic]) {
        if (topic !== null && !topology.topicExists(this.db, topic)) {
          throw new PermanentError('BUS.UNKNOWN_TOPIC', `topic ${topic} does not exist`);
        }
      }
      const existing = topology.findSubscription(this.db, settings.name);
      if (existing && existing.topic !== settings.topic) {
        throw new ConfigError([`subscription ${settings.name} is attached to ${existing.topic}`]);
      }
      topology.upsertSubscription(this.db, settings);
    });
    return settings;
  }

  /** Resolves once the message and its deliveries are committed (fsynced). */
  publish(topic: string, message: OutgoingMessage): Promise<string> {
    try {
      const id = this.store(topic, message);
      this.loop.wake();
      return Promise.resolve(id);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Starts pushing due deliveries, including those left over from an earlier
   * run: deliveries a process that is gone had in flight are due at once.
   */
  start(): void {
    if (this.closed) throw new Error('local event bus is closed');
    const released = releaseLeasesOfDeadOwners(this.db, this.owner, Date.now());
    if (released > 0) {
      this.logger.info('event bus: redelivering what a stopped process had in flight', {
        deliveries: released,
      });
    }
    this.loop.start();
  }

  /**
   * Stops pushing. Attempts in progress are cut short and put back as due
   * without counting; a receiver may still have handled them, which
   * at-least-once delivery allows.
   */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Stops delivering and closes the file; publishing afterwards fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.loop.stop();
    this.closed = true;
    retireLeaseOwner(this.owner);
    this.db.close();
  }

  /** Counts of pending, dead-lettered and acknowledged deliveries per subscription. */
  stats(): LocalEventBusStats {
    return readStats(this.db);
  }

  /** Deliveries that ran out of attempts (they stay until the file is removed). */
  listDeadLetters(subscription?: string): DeadLetter[] {
    return readDeadLetters(this.db, subscription);
  }

  /** Stores the message and its deliveries in one transaction; returns its id. */
  private store(topic: string, message: OutgoingMessage): string {
    if (this.closed) throw new TransientError('BUS.PUBLISH_FAILED', 'local event bus is closed');
    const input = {
      data: encodeJsonData(topic, message.data),
      attributes: { ...message.attributes },
      // An empty key means no key, as in Pub/Sub.
      orderingKey: message.orderingKey || null,
    };
    try {
      return writeTransaction(this.db, () => insertMessage(this.db, topic, input));
    } catch (error) {
      if (error instanceof RecdeployError) throw error;
      throw new TransientError('BUS.PUBLISH_FAILED', `publish to ${topic} failed`, {
        cause: error,
      });
    }
  }
}
