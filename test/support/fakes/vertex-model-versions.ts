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

/** What an upload (or a seeded version) says about a new version. */
export type VersionFields = Pick<
  ModelWire,
  'displayName' | 'description' | 'versionDescription' | 'artifactUri' | 'labels'
>;

/** Appends the next version ("1", "2", …: version_id auto-increments, model.proto) to `model`. */
export function addVersion(
  model: StoredModel,
  fields: VersionFields,
  created: TimestampWire,
): ModelWire {
  const version: ModelWire = {
    ...fields,
    name: model.name,
    versionId: String(model.versions.length + 1),
    // "A default version alias will be created for the first version of the model" (model.proto).
    versionAliases: model.versions.length === 0 ? [DEFAULT_ALIAS] : [],
    createTime: model.versions[0]?.createTime ?? created,
    versionCreateTime: created,
  };
  model.versions.push(version);
  return version;
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

/** ListModels: each model of `parent` as its default version, newest first, filtered by labels. */
export function listDefaultVersions(
  models: readonly StoredModel[],
  request: ListModelsRequestWire,
): ModelWire[] {
  const terms = labelTerms(request.filter);
  // A model is listed as its default version (GetModel without `@` returns it too).
  // Newest first: the API promises no order, so callers that need the oldest must sort.
  return [...models]
    .reverse()
    .filter((m) => m.name.startsWith(`${request.parent}/models/`))
    .flatMap((m) => resolveVersion([m], m.name)?.version ?? [])
    .filter((v) => matches(v.labels, terms));
}

/** ListModelVersions: the model's versions, oldest first, filtered by labels. */
export function listVersions(
  models: readonly StoredModel[],
  request: ListModelVersionsRequestWire,
): ModelWire[] {
  const model = models.find((m) => m.name === request.name);
  if (!model) throw new Refusal(grpc.status.NOT_FOUND, `Model ${request.name} not found.`);
  const terms = labelTerms(request.filter);
  return model.versions.filter((v) => matches(v.labels, terms));
}

/** GetModel by `models/{m}`, `@{version_id}` or `@{alias}`. */
export function getVersion(models: readonly StoredModel[], name: string): ModelWire {
  const found = resolveVersion(models, name);
  if (!found) throw new Refusal(grpc.status.NOT_FOUND, `Model ${name} not found.`);
  return found.version;
}

/** MergeVersionAliases: the version after its aliases are merged (applyAliases). */
export function mergeVersionAliases(
  models: readonly StoredModel[],
  request: MergeVersionAliasesRequestWire,
): ModelWire {
  const [modelName, versionId] = request.name.split('@');
  // "The name of the model version to merge aliases, with a version ID
  // explicitly included" (model_service.proto MergeVersionAliasesRequest.name).
  if (versionId === undefined || !/^[0-9]+$/.test(versionId)) {
    throw new Refusal(
      grpc.status.INVALID_ARGUMENT,
      `${request.name} must name a model version by its id (models/{model}@{version_id}).`,
    );
  }
  const found = resolveVersion(models, `${modelName}@${versionId}`);
  if (!found) throw new Refusal(grpc.status.NOT_FOUND, `Model ${request.name} not found.`);
  applyAliases(found.model, found.version, request.versionAliases);
  return found.version;
}

function labelTerms(filter: string): Record<string, string> {
  const terms = parseLabelFilter(filter);
  if (terms === undefined) {
    throw new Refusal(grpc.status.INVALID_ARGUMENT, `unsupported filter ${filter}`);
  }
  return terms;
}

const LABEL_TERM = /^labels\.([a-z][a-z0-9_-]*)="([^"\\]*)"$/;

/** Parses `labels.k="v"` terms joined by ` AND `; anything else is refused like the API would. */
function parseLabelFilter(filter: string): Record<string, string> | undefined {
  if (filter === '') return {};
  const terms: Record<string, string> = {};
  for (const term of filter.split(' AND ')) {
    const match = LABEL_TERM.exec(term.trim());
    if (!match) return undefined;
    terms[match[1] as string] = match[2] as string;
  }
  return terms;
}

function matches(labels: Record<string, string>, terms: Record<string, string>): boolean {
  return Object.entries(terms).every(([key, value]) => labels[key] === value);
}
