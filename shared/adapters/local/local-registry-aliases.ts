/**
 * Version aliases of the embedded model registry, with Vertex's rules
 * (https://cloud.google.com/vertex-ai/docs/model-registry/model-alias): an
 * alias sits on one version of a model at a time (the primary key), applying
 * it moves it, the first version gets `default` when the model is created,
 * and `default` is only ever moved, never removed.
 */
import type Database from 'better-sqlite3';

export const DEFAULT_ALIAS = 'default';

/** Schema 2 of the registry file: the aliases table, `default` on each existing model's first version. */
export const ALIAS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS registry_aliases (
    model   TEXT NOT NULL REFERENCES registry_models (name),
    alias   TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (model, alias)
  );
  INSERT OR IGNORE INTO registry_aliases (model, alias, version)
    SELECT model, '${DEFAULT_ALIAS}', MIN(version) FROM registry_versions GROUP BY model;
`;

/** Puts `alias` on `version` of `model`, taking it from the version that held it. */
export function moveAlias(
  db: Database.Database,
  model: string,
  alias: string,
  version: number,
): void {
  db.prepare(
    `INSERT INTO registry_aliases (model, alias, version) VALUES (?, ?, ?)
     ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version`,
  ).run(model, alias, version);
}

/** Aliases held by `version` of `model`, sorted. */
export function aliasesOf(db: Database.Database, model: string, version: number): string[] {
  return db
    .prepare<[string, number], { alias: string }>(
      'SELECT alias FROM registry_aliases WHERE model = ? AND version = ? ORDER BY alias',
    )
    .all(model, version)
    .map((row) => row.alias);
}
