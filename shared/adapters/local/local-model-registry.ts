import type Database from 'better-sqlite3';
import type { RegistryRef } from '../../domain/run-document.js';
import { PermanentError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type {
  ModelRegistry,
  RegisterModelRequest,
  RegisteredModel,
} from '../../ports/model-registry.port.js';
import { LIVE_ALIAS } from '../../ports/model-registry.port.js';
import { DEFAULT_ALIAS, aliasesOf, moveAlias } from './local-registry-aliases.js';
import {
  migrate,
  toVersion,
  type LocalModel,
  type LocalModelVersion,
  type ModelRow,
  type VersionRow,
} from './local-registry-schema.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

export type { LocalModel, LocalModelVersion } from './local-registry-schema.js';

/** Model names look like Vertex's (`projects/{p}/locations/{l}/models/{id}`), so logs and documents read alike. */
export const LOCAL_MODEL_PREFIX = 'projects/local/locations/local/models/';

export interface LocalModelRegistryOptions {
  /** The registry's SQLite file, e.g. `.recdeploy/registry.db` (created with its folder). */
  readonly file: string;
  readonly logger: Logger;
  /** Defaults to the system clock. */
  readonly clock?: () => Date;
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
