import type Database from 'better-sqlite3';
import type { RunDocument } from '../../domain/run-document.js';
import type { ServingRecord } from '../../domain/serving-record.js';

/**
 * The serving records' SQL and the run lookups a serving change needs,
 * prepared once per connection; callers run the writes inside writeTransaction.
 */
export class SqliteServingStatements {
  private readonly selectRecord: Database.Statement<[string], { doc: string }>;
  private readonly selectRecords: Database.Statement<[], { doc: string }>;
  private readonly upsertRecord: Database.Statement<[{ service: string; doc: string }]>;
  private readonly selectLive: Database.Statement<[string], { doc: string }>;
  private readonly selectByRevision: Database.Statement<[string, string], { doc: string }>;

  constructor(db: Database.Database) {
    this.selectRecord = db.prepare('SELECT doc FROM serving_records WHERE service = ?');
    this.selectRecords = db.prepare('SELECT doc FROM serving_records ORDER BY service');
    this.upsertRecord = db.prepare(
      `INSERT INTO serving_records (service, doc) VALUES (@service, @doc)
       ON CONFLICT (service) DO UPDATE SET doc = excluded.doc`,
    );
    this.selectLive = db.prepare(
      "SELECT doc FROM deployments WHERE model_endpoint_id = ? AND status = 'live'",
    );
    this.selectByRevision = db.prepare(
      `SELECT doc FROM deployments
        WHERE model_endpoint_id = ? AND json_extract(doc, '$.serving.revision') = ?`,
    );
  }

  getRecord(service: string): ServingRecord | undefined {
    const row = this.selectRecord.get(service);
    return row === undefined ? undefined : (JSON.parse(row.doc) as ServingRecord);
  }

  listRecords(): ServingRecord[] {
    return this.selectRecords.all().map((row) => JSON.parse(row.doc) as ServingRecord);
  }

  putRecord(record: ServingRecord): void {
    this.upsertRecord.run({ service: record.service, doc: JSON.stringify(record) });
  }

  /** The endpoint's live runs and the runs that deployed any of `revisions`. */
  runsFor(modelEndpointId: string, revisions: readonly string[]): RunDocument[] {
    const rows = [
      ...this.selectLive.all(modelEndpointId),
      ...revisions.flatMap((revision) => this.selectByRevision.all(modelEndpointId, revision)),
    ];
    const runs = new Map<string, RunDocument>();
    for (const row of rows) {
      const run = JSON.parse(row.doc) as RunDocument;
      runs.set(run.runId, run);
    }
    return [...runs.values()];
  }
}
