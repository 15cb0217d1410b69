/**
 * The JSON Schema files this package publishes, rendered from the TypeBox
 * schemas (the single source of truth). `npm run schemas` writes them to
 * `events/schemas/`; a test asserts the committed files equal this output, so
 * they cannot drift from the code.
 */
import type { TObject } from '@sinclair/typebox';
import { deploymentFinishedV1Contract } from './deployment-finished.v1.js';
import { freshnessAlertV1Contract } from './freshness-alert.v1.js';
import { modelDeployedV1Contract } from './model-deployed.v1.js';
import { modelRegisteredV1Contract } from './model-registered.v1.js';
import { PipelineJobLogEntrySchema } from './pipeline-job-log-entry.js';
import { trainingCompletedV1Contract } from './training-completed.v1.js';
import type { EventContract } from './contract.js';

/** The JSON Schema dialect the files declare (TypeBox output is plain draft-07). */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/** Every event contract this package defines, one entry per topic and version. */
export const EVENT_CONTRACTS: readonly EventContract[] = [
  trainingCompletedV1Contract,
  modelRegisteredV1Contract,
  modelDeployedV1Contract,
  deploymentFinishedV1Contract,
  freshnessAlertV1Contract,
];

/** One file to publish: its name under `events/schemas/` and its exact content. */
export interface SchemaFile {
  readonly fileName: string;
  readonly content: string;
}

/** Renders every schema file, in a stable order and format (2-space JSON, trailing newline). */
export function renderSchemaFiles(): SchemaFile[] {
  const schemas: [string, TObject][] = [
    ...EVENT_CONTRACTS.map((contract): [string, TObject] => [contract.schemaFile, contract.schema]),
    ['vertex-pipeline-job-log-entry.json', PipelineJobLogEntrySchema],
  ];
  return schemas.map(([fileName, schema]) => ({
    fileName,
    // JSON.stringify drops TypeBox's symbol-keyed metadata, leaving plain JSON Schema.
    content: `${JSON.stringify({ $schema: JSON_SCHEMA_DIALECT, ...schema }, null, 2)}\n`,
  }));
}
