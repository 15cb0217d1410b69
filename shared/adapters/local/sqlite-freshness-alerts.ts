import type Database from 'better-sqlite3';
import type { FreshnessAlert, OpenFreshnessAlertResult } from '../../domain/freshness-alert.js';
import { writeTransaction } from './sqlite-database.js';

/**
 * The freshness alerts' table (schema version 4): one row per open alert,
 * the document as JSON beside its id and breach start. Each call is one
 * statement or one write transaction, so two reconcilers opening the same
 * alert at once store it once (INSERT OR IGNORE on the primary key).
 */
export class SqliteFreshnessAlerts {
  private readonly selectAll: Database.Statement<[], { doc: string }>;
  private readonly selectOne: Database.Statement<[string], { doc: string }>;
  private readonly insert: Database.Statement<[string, string, string]>;
  private readonly update: Database.Statement<[string, string]>;
  private readonly remove: Database.Statement<[string]>;

  constructor(private readonly db: Database.Database) {
    this.selectAll = db.prepare(
      'SELECT doc FROM freshness_alerts ORDER BY breached_since, alert_id',
    );
    this.selectOne = db.prepare('SELECT doc FROM freshness_alerts WHERE alert_id = ?');
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO freshness_alerts (alert_id, breached_since, doc) VALUES (?, ?, ?)',
    );
    this.update = db.prepare('UPDATE freshness_alerts SET doc = ? WHERE alert_id = ?');
    this.remove = db.prepare('DELETE FROM freshness_alerts WHERE alert_id = ?');
  }

  list(): FreshnessAlert[] {
    return this.selectAll.all().map((row) => JSON.parse(row.doc) as FreshnessAlert);
  }

  open(alert: FreshnessAlert): OpenFreshnessAlertResult {
    return writeTransaction(this.db, () => {
      const { changes } = this.insert.run(
        alert.alertId,
        alert.breachedSince,
        JSON.stringify(alert),
      );
      if (changes === 1) return { created: true, alert };
      return { created: false, alert: this.get(alert.alertId) ?? alert };
    });
  }

  /** Keeps the first announcement time: a repeated publish does not move it. */
  markAnnounced(alertId: string, at: Date): void {
    writeTransaction(this.db, () => {
      const current = this.get(alertId);
      if (current === undefined || current.announcedAt !== undefined) return;
      this.update.run(JSON.stringify({ ...current, announcedAt: at.toISOString() }), alertId);
    });
  }

  close(alertId: string): void {
    this.remove.run(alertId);
  }

  private get(alertId: string): FreshnessAlert | undefined {
    const row = this.selectOne.get(alertId);
    return row === undefined ? undefined : (JSON.parse(row.doc) as FreshnessAlert);
  }
}
