/**
 * The Vertex fake's models and their versions: label filters and the version
 * alias rules, each with its source. The gRPC handlers (vertex-fake.ts) turn
 * a refusal here into the status the API answers.
 */
import * as grpc from '@grpc/grpc-js';
import type { TimestampWire } from './vertex-pipeline-wire.js';

/** A Model (one version of it) as the fake stores and returns it. */
export interface ModelWire {
  name: string;
  versionId: string;
  /** Kept unique within the model by applyAliases. */
  versionAliases: string[];
  displayName: string;
  description: string;
  versionDescription: string;
  artifactUri: string;
  labels: Record<string, string>;
  createTime: TimestampWire;
  versionCreateTime: TimestampWire;
}

/** An UploadModel request as it arrived (proto-loader fills defaults for absent fields). */
export interface UploadModelRequestWire {
  parent: string;
  parentModel: string;
  modelId: string;
  model: {
    displayName: string;
    description: string;
    versionDescription: string;
    versionAliases: string[];
    artifactUri: string;
    labels: Record<string, string>;
    containerSpec: {
      imageUri: string;
      env: { name: string; value: string }[];
      ports: { containerPort: number }[];
      predictRoute: string;
      healthRoute: string;
    } | null;
  };
}

export interface ListModelsRequestWire {
  parent: string;
  filter: string;
}

export interface ListModelVersionsRequestWire {
  name: string;
  filter: string;
}

export interface MergeVersionAliasesRequestWire {
  name: string;
  versionAliases: string[];
}

export interface StoredModel {
  readonly name: string;
  readonly versions: ModelWire[];
}

/** A request the API refuses: the gRPC status and its message. */
export class Refusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_ALIAS = 'default';

/**
 * "The alias should be at most 128 characters, and match
 * `[a-z][a-zA-Z0-9-]{0,126}[a-z-0-9]`" (model_service.proto,
 * MergeVersionAliasesRequest.version_aliases); model.proto spells the last
 * class `[a-z0-9]`. Either way an alias never starts with a digit, so it
 * cannot be mistaken for a version id ("version aliases should be
 * non-numeric", https://cloud.google.com/vertex-ai/docs/model-registry/model-alias).
 */
const ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$/;

/**
 * MergeVersionAliases on `version` (model_service.proto and the model-alias
 * page): `-name` removes an alias, a plain name adds it; adding and removing
 * the same alias in one request cancel out; an alias added here leaves the
 * version that held it ("if you apply an existing alias used by another
 * version, the alias is removed from that version"); `default` cannot be
 * removed, only moved ("one version of a model is required to carry the
 * default alias at all times"). Checked whole before anything changes.
 */
export function applyAliases(model: StoredModel, version: ModelWire, requested: string[]): void {
  if (requested.length === 0) {
    throw new Refusal(grpc.status.INVALID_ARGUMENT, 'version_aliases is required.');
  }
  const adds = new Set<string>();
  const removes = new Set<string>();
  for (const entry of requested) {
    const removing = entry.startsWith('-');
    const alias = removing ? entry.slice(1) : entry;
    if (!ALIAS.test(alias)) {
      throw new Refusal(
        grpc.status.INVALID_ARGUMENT,
        `Version alias "${alias}" must match [a-z][a-zA-Z0-9-]{0,126}[a-z-0-9].`,
      );
    }
    (removing ? removes : adds).add(alias);
  }
  for (const alias of [...adds]) {
    if (removes.delete(alias)) adds.delete(alias);
  }
  if (removes.has(DEFAULT_ALIAS) && version.versionAliases.includes(DEFAULT_ALIAS)) {
    throw new Refusal(
      grpc.status.INVALID_ARGUMENT,
      'The default version alias cannot be removed; move it to another version instead.',
    );
  }
  for (const alias of adds) {
    for (const other of model.versions) {
      if (other !== version) other.versionAliases = other.versionAliases.filter((a) => a !== alias);
    }
    if (!version.versionAliases.includes(alias)) version.versionAliases.push(alias);
  }
  version.versionAliases = version.versionAliases.filter((alias) => !removes.has(alias));
}

/**
 * `models/{m}`, `models/{m}@{version_id}` or `models/{m}@{alias}`; without
 * `@` the version holding `default` (model_service.proto GetModelRequest.name:
 * "if no version is specified, the default version will be returned").
 */
export function resolveVersion(
  models: readonly StoredModel[],
  name: string,
): { model: StoredModel; version: ModelWire } | undefined {
  const [modelName, ref] = name.split('@');
  const model = models.find((m) => m.name === modelName);
  const version =
    ref === undefined
      ? model?.versions.find((v) => v.versionAliases.includes(DEFAULT_ALIAS))
      : model?.versions.find((v) => v.versionId === ref || v.versionAliases.includes(ref));
  return model && version ? { model, version } : undefined;
}

const LABEL_TERM = /^labels\.([a-z][a-z0-9_-]*)="([^"\\]*)"$/;

/** Parses `labels.k="v"` terms joined by ` AND `; anything else is refused like the API would. */
export function parseLabelFilter(filter: string): Record<string, string> | undefined {
  if (filter === '') return {};
  const terms: Record<string, string> = {};
  for (const term of filter.split(' AND ')) {
    const match = LABEL_TERM.exec(term.trim());
    if (!match) return undefined;
    terms[match[1] as string] = match[2] as string;
  }
  return terms;
}

export function matches(labels: Record<string, string>, terms: Record<string, string>): boolean {
  return Object.entries(terms).every(([key, value]) => labels[key] === value);
}
