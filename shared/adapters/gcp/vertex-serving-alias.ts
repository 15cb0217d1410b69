/**
 * The `live` alias on the Vertex AI model version that serves (the
 * ModelRegistry port's markServing). Aliases are unique within a model and
 * applying one moves it from the version that held it, so one
 * MergeVersionAliases call on `models/{m}@{version_id}` (the proto requires
 * the version id there) adding `live` and `default` moves both
 * (https://cloud.google.com/vertex-ai/docs/model-registry/model-alias;
 * model_service.proto MergeVersionAliasesRequest). `default` follows `live`
 * because GetModel without `@` resolves to it (model_service.proto
 * GetModelRequest). The version is read first: a retried promote, or the
 * reconciler's pass, finds both aliases there and writes nothing.
 */
import type { ModelServiceClient, protos } from '@google-cloud/aiplatform';
import type { RegistryRef } from '../../domain/run-document.js';
import type { Logger } from '../../logging/logger.port.js';
import { LIVE_ALIAS } from '../../ports/model-registry.port.js';
import { toApiError } from './google-api-errors.js';

type ModelResource = protos.google.cloud.aiplatform.v1.IModel;

/** The alias every model has on exactly one version (model.proto `version_aliases`). */
const DEFAULT_ALIAS = 'default';
const REJECTED = 'REGISTRY.REJECTED' as const;

export async function markServingVersion(
  client: ModelServiceClient,
  ref: RegistryRef,
  log: Logger,
): Promise<void> {
  const name = `${ref.model}@${ref.version}`;
  let version: ModelResource;
  try {
    [version] = await client.getModel({ name });
  } catch (error) {
    throw toApiError(error, { call: 'Vertex AI getModel', rejected: REJECTED });
  }
  const held = new Set(version.versionAliases ?? []);
  const missing = [LIVE_ALIAS, DEFAULT_ALIAS].filter((alias) => !held.has(alias));
  if (missing.length === 0) return;
  try {
    await client.mergeVersionAliases({ name, versionAliases: missing });
  } catch (error) {
    throw toApiError(error, { call: 'Vertex AI mergeVersionAliases', rejected: REJECTED });
  }
  log.info('registry aliases moved to the serving version', {
    model: ref.model,
    version: ref.version,
    aliases: missing,
  });
}
