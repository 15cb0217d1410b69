import type Database from 'better-sqlite3';
import type { RegistryRef } from '../../domain/run-document.js';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  ModelRegistry,
  RegisterModelRequest,
  RegisteredModel,
  RegistryContainerSpec,
} from '../../ports/model-registry.port.js';
import { LIVE_ALIAS } from '../../ports/model-registry.port.js';
import { ALIAS_SCHEMA, DEFAULT_ALIAS, aliasesOf, moveAlias } from './local-registry-aliases.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

/** Model names look like Vertex's (`projects/{p}/locations/{l}/models/{id}`), so logs and documents read alike. */
export const LOCAL_MODEL_PREFIX = 'projects/local/locations/local/models/';

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

export interface LocalModelRegistryOptions {
  /** The registry's SQLite file, e.g. `.recdeploy/registry.db` (created with its folder). */
  readonly file: string;
  readonly logger: Logger;
  /** Defaults to the system clock. */
  readonly clock?: () => Date;
}

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

interface VersionRow {
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

interface ModelRow {
  name: string;
  model_endpoint_id: string;
  display_name: string;
  created_at: string;
}

/**
 * The embedded ModelRegistry: models and versions as rows of one SQLite file
 * (WAL, synchronous=FULL), artifacts stay where the run put them. It behaves
 * like the Vertex adapter: the endpoint's model is found by the
 * `model_endpoint_id` label, versions are numbered "1", "2", … per model, and
 * a version already carrying the run's `training_run_id` label is returned
 * instead of a new one. Unlike Vertex, one BEGIN IMMEDIATE transaction covers
 * lookup and insert, so two processes registering the same run (or the first
 * run of an endpoint) at once end up with one model and one version.
 */
export class LocalModelRegistry implements ModelRegistry {
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly clock: () => Date;

  constructor(options: LocalModelRegistryOptions) {
    this.db = openSqliteDatabase(options.file);
    try {
      migrate(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.logger = options.logger;
    this.clock = options.clock ?? (() => new Date());
  }

  registerModel(request: RegisterModelRequest): Promise<RegisteredModel> {
    return this.settle(() => {
      const endpointLabel = requiredLabel(request, 'model_endpoint_id');
      const runLabel = requiredLabel(request, 'training_run_id');
      const result = writeTransaction(this.db, () => {
        const now = this.clock().toISOString();
        const existing = this.db
          .prepare<[string], { name: string }>(
            'SELECT name FROM registry_models WHERE model_endpoint_id = ?',
          )
          .get(endpointLabel);
        const model = existing?.name ?? this.insertModel(endpointLabel, request.displayName, now);
        const reused = this.db
          .prepare<[string, string], { version: number }>(
            'SELECT version FROM registry_versions WHERE model = ? AND training_run_id = ?',
          )
          .get(model, runLabel);
        if (reused)
          return { model, version: String(reused.version), reused: true, newModel: false };
        const version = this.insertVersion(model, runLabel, request, now);
        return { model, version, reused: false, newModel: existing === undefined };
      });
      this.logger.info(result.reused ? 'model version reused' : 'model version registered', {
        runId: request.runId,
        ...result,
      });
      return result;
    });
  }

  /** Every version of `model`, oldest first (for tests and the CLI). */
  listVersions(model: string): Promise<LocalModelVersion[]> {
    return this.settle(() =>
      this.db
        .prepare<[string], VersionRow>(
          'SELECT * FROM registry_versions WHERE model = ? ORDER BY version',
        )
        .all(model)
        .map((row) => ({ ...toVersion(row), aliases: aliasesOf(this.db, model, row.version) })),
    );
  }

  /** Moves `live` and `default` onto the version (Vertex's alias rules, local-registry-aliases.ts). */
  markServing(ref: RegistryRef): Promise<void> {
    return this.settle(() => {
      const version = Number(ref.version);
      writeTransaction(this.db, () => {
        const known = this.db
          .prepare<[string, number], { version: number }>(
            'SELECT version FROM registry_versions WHERE model = ? AND version = ?',
          )
          .get(ref.model, version);
        if (known === undefined) {
          throw new PermanentError(
            'REGISTRY.REJECTED',
            `model ${ref.model} has no version ${ref.version} in the local registry`,
            { metadata: { model: ref.model, version: ref.version } },
          );
        }
        for (const alias of [LIVE_ALIAS, DEFAULT_ALIAS])
          moveAlias(this.db, ref.model, alias, version);
      });
    });
  }

  /** Every model, oldest first. */
  listModels(): Promise<LocalModel[]> {
    return this.settle(() =>
      this.db
        .prepare<[], ModelRow>('SELECT * FROM registry_models ORDER BY seq')
        .all()
        .map((row) => ({
          model: row.name,
          modelEndpointId: row.model_endpoint_id,
          displayName: row.display_name,
          createdAt: row.created_at,
        })),
    );
  }

  /** Closes the file; idempotent. */
  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /** `{slug}-{n}`, n counting every model of this registry, so ids never repeat. */
  private insertModel(endpointLabel: string, displayName: string, now: string): string {
    const { next } = this.db
      .prepare<[], { next: number }>(
        'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM registry_models',
      )
      .get() ?? { next: 1 };
    const name = `${LOCAL_MODEL_PREFIX}${modelSlug(displayName, endpointLabel)}-${next}`;
    this.db
      .prepare(
        'INSERT INTO registry_models (seq, name, model_endpoint_id, display_name, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(next, name, endpointLabel, displayName, now);
    // Its first version, inserted next, is 1: it holds `default` from the start, as on Vertex.
    moveAlias(this.db, name, DEFAULT_ALIAS, 1);
    return name;
  }

  private insertVersion(
    model: string,
    runLabel: string,
    request: RegisterModelRequest,
    now: string,
  ): string {
    const { next } = this.db
      .prepare<[string], { next: number }>(
        'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM registry_versions WHERE model = ?',
      )
      .get(model) ?? { next: 1 };
    this.db
      .prepare(
        `INSERT INTO registry_versions (model, version, training_run_id, run_id, display_name,
           description, artifact_uri, labels, container, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        model,
        next,
        runLabel,
        request.runId,
        request.displayName,
        request.description ?? null,
        request.artifactUri,
        JSON.stringify(request.labels),
        JSON.stringify(request.container),
        now,
      );
    return String(next);
  }

  /**
   * better-sqlite3 is synchronous; the port is not. A locked, full or closed
   * file is a passing condition (the bus retries); anything else passes as it is.
   */
  private settle<T>(work: () => T): Promise<T> {
    try {
      if (!this.db.open) {
        throw new TransientError('DEPENDENCY.UNAVAILABLE', 'the local model registry is closed');
      }
      return Promise.resolve(work());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN)/.test(code)) {
        return Promise.reject(
          new TransientError('DEPENDENCY.UNAVAILABLE', `local model registry: ${String(error)}`, {
            cause: error,
            metadata: { sqliteCode: code },
          }),
        );
      }
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function migrate(db: Database.Database): void {
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

/** The label the registry keys on; the port requires it, so its absence is the caller's bug. */
function requiredLabel(request: RegisterModelRequest, key: string): string {
  const value = request.labels[key];
  if (value === undefined || value === '') {
    throw new PermanentError(
      'REGISTRY.REJECTED',
      `run ${request.runId}: labels must contain a non-empty "${key}" (got keys: ${Object.keys(request.labels).sort().join(', ') || 'none'})`,
      { metadata: { runId: request.runId, label: key } },
    );
  }
  return value;
}

/** A readable model id part: the slug (else the endpoint) in lowercase letters, digits and dashes. */
function modelSlug(displayName: string, endpointLabel: string): string {
  const clean = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '');
  return clean(displayName) || clean(endpointLabel) || 'model';
}

function toVersion(row: VersionRow): Omit<LocalModelVersion, 'aliases'> {
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
