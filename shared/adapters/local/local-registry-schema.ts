/**
 * The embedded model registry's SQLite file: its schema (in `user_version`),
 * the migration to it, and the rows as the registry hands them out.
 */
import type Database from 'better-sqlite3';
import { PermanentError } from '../../errors.js';
import type { RegistryContainerSpec } from '../../ports/model-registry.port.js';
import { ALIAS_SCHEMA } from './local-registry-aliases.js';
import { writeTransaction } from './sqlite-database.js';

/** The registry's own schema, in the file's `user_version` (the file is the registry's alone). */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS registry_models (
    seq               INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    model_endpoint_id TEXT NOT NULL UNIQUE,
    display_name      TEXT NOT NULL,
    created_at        TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS registry_versions (
    model           TEXT NOT NULL REFERENCES registry_models (name),
    version         INTEGER NOT NULL,
    training_run_id TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    description     TEXT,
    artifact_uri    TEXT NOT NULL,
    labels          TEXT NOT NULL,
    container       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (model, version),
    UNIQUE (model, training_run_id)
  );
`;

/** One stored version, as listVersions returns it. */
export interface LocalModelVersion {
  readonly model: string;
  readonly version: string;
  readonly runId: string;
  readonly displayName: string;
  readonly description?: string;
  readonly artifactUri: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly container: RegistryContainerSpec;
  readonly createdAt: string;
  /** Version aliases it holds (`default`, `live`), sorted. */
  readonly aliases: readonly string[];
}

/** One model (one per model endpoint), as listModels returns it. */
export interface LocalModel {
  readonly model: string;
  readonly modelEndpointId: string;
  readonly displayName: string;
  readonly createdAt: string;
}

export interface VersionRow {
  model: string;
  version: number;
  run_id: string;
  display_name: string;
  description: string | null;
  artifact_uri: string;
  labels: string;
  container: string;
  created_at: string;
}

export interface ModelRow {
  name: string;
  model_endpoint_id: string;
  display_name: string;
  created_at: string;
}

/** Brings the file to SCHEMA_VERSION (schema 1 gains the aliases); refuses a newer file. */
export function migrate(db: Database.Database): void {
  writeTransaction(db, () => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new PermanentError(
        'CONFIG.INVALID',
        `model registry file has schema ${version}, newer than this program's ${SCHEMA_VERSION}`,
        { metadata: { version, supported: SCHEMA_VERSION } },
      );
    }
    if (version === SCHEMA_VERSION) return;
    db.exec(SCHEMA);
    db.exec(ALIAS_SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

export function toVersion(row: VersionRow): Omit<LocalModelVersion, 'aliases'> {
  return {
    model: row.model,
    version: String(row.version),
    runId: row.run_id,
    displayName: row.display_name,
    ...(row.description === null ? {} : { description: row.description }),
    artifactUri: row.artifact_uri,
    labels: JSON.parse(row.labels) as Record<string, string>,
    container: JSON.parse(row.container) as RegistryContainerSpec,
    createdAt: row.created_at,
  };
}
