import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import {
  decodePubSubCloudEvent,
  EVENT_CONTRACTS,
  parseTrainingCompletedPayload,
  renderSchemaFiles,
} from '@recdeploy/events';
import { trainingCompletedExample } from '../../fixtures/events/examples.js';

const require = createRequire(import.meta.url);
const eventsDir = fileURLToPath(new URL('../../../events/', import.meta.url));
const jsonFiles = (dir: string) =>
  readdirSync(`${eventsDir}${dir}`)
    .filter((f) => f.endsWith('.json'))
    .sort();

/** Loads a committed file the way another system would: through the package's exports. */
const published = (path: string): unknown => require(`@recdeploy/events/${path}`);

/** Validators compiled by ajv (strict mode: an unknown keyword would fail compilation) from the committed files. */
function compileCommittedSchemas(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true });
  return new Map(
    jsonFiles('schemas').map((file) => [file, ajv.compile(published(`schemas/${file}`) as object)]),
  );
}

/** `training-completed.v1.minimal.json` is validated by `training-completed.v1.json`. */
function schemaFileFor(exampleFile: string, schemaFiles: readonly string[]): string | undefined {
  return schemaFiles.find(
    (schema) => exampleFile === schema || exampleFile.startsWith(schema.replace(/json$/, '')),
  );
}

describe('published JSON Schemas', () => {
  it('are exactly what `npm run schemas` generates (no drift, no stale files)', () => {
    const generated = renderSchemaFiles();
    assert.deepEqual(jsonFiles('schemas'), generated.map((f) => f.fileName).sort());
    for (const file of generated) {
      assert.equal(
        readFileSync(`${eventsDir}schemas/${file.fileName}`, 'utf8'),
        file.content,
        `${file.fileName} is stale: run npm run schemas`,
      );
    }
  });

  it('cover every event contract, each declaring its topic in the file name and its version in schema_version', () => {
    const files = jsonFiles('schemas');
    for (const contract of EVENT_CONTRACTS) {
      assert.ok(files.includes(contract.schemaFile), contract.schemaFile);
      const schema = published(`schemas/${contract.schemaFile}`) as {
        properties: { schema_version: { const: string } };
      };
      assert.equal(schema.properties.schema_version.const, String(contract.version));
    }
  });

  it('validate every example payload with ajv (every example is covered)', () => {
    const validators = compileCommittedSchemas();
    const schemaFiles = [...validators.keys()];
    const envelopes = ['eventarc-cloudevent.training-completed.json'];
    for (const file of jsonFiles('examples')) {
      const doc = published(`examples/${file}`);
      if (envelopes.includes(file)) {
        // An envelope is not ours to schema; what it carries is.
        const decoded = decodePubSubCloudEvent(doc);
        assert.ok(decoded.ok, file);
        const validate = validators.get('training-completed.v1.json');
        assert.ok(
          validate?.(decoded.value.payload),
          `${file}: ${JSON.stringify(validate?.errors)}`,
        );
        continue;
      }
      const schemaFile = schemaFileFor(file, schemaFiles);
      assert.ok(
        schemaFile,
        `example ${file} has no schema: name it after one, or list it as an envelope`,
      );
      const validate = validators.get(schemaFile);
      assert.ok(validate?.(doc), `${file}: ${JSON.stringify(validate?.errors)}`);
    }
  });

  const samples: ReadonlyArray<[string, (p: Record<string, unknown>) => void]> = [
    ['the example unchanged', () => {}],
    ['extra unknown fields', (p) => (p.x_extra = { nested: [1, 2] })],
    ['an https artifact_uri', (p) => (p.artifact_uri = 'https://x/y')],
    ['a file:// artifact_uri', (p) => (p.artifact_uri = 'file:///models/1')],
    ['a gs:// URI without a path', (p) => (p.artifact_uri = 'gs://bucket')],
    ['a 129-character id', (p) => (p.training_run_id = 'a'.repeat(129))],
    ['a fractional run_number', (p) => (p.run_number = 2.5)],
    ['a completed_at without zone', (p) => (p.completed_at = '2026-01-19T16:49:46')],
    ['a completed_at with an offset', (p) => (p.completed_at = '2026-01-19T16:49:46.5+02:00')],
    ['a month 13', (p) => (p.completed_at = '2026-13-19T16:49:46Z')],
    ['a string metric', (p) => (p.metrics = { m: '1' })],
    ['an unknown model_type', (p) => (p.model_type = 'other')],
    ['a missing is_blessed', (p) => delete p.is_blessed],
    ['a null deployment_config', (p) => (p.deployment_config = null)],
    ['a cpu in millicores', (p) => (p.deployment_config = { cpu: '500m' })],
    ['metrics as an array', (p) => (p.metrics = [1, 2])],
    ['deployment_config as an array', (p) => (p.deployment_config = [])],
    ['an id with a slash', (p) => (p.model_endpoint_id = 'a/b')],
    ['a bucket with upper case', (p) => (p.artifact_uri = 'gs://Bucket/x')],
    ['a climbing artifact_uri', (p) => (p.artifact_uri = 'gs://bucket/a/../x')],
    ['an encoded ".." segment', (p) => (p.artifact_uri = 'gs://bucket/%2E%2e/x')],
    ['an artifact_uri ending in a slash', (p) => (p.artifact_uri = 'gs://bucket/runs/7/')],
  ];

  it('refuse artifact URIs whose path climbs, stays put or holds an empty segment', () => {
    const validate = compileCommittedSchemas().get('training-completed.v1.json');
    assert.ok(validate);
    const verdict = (uri: string): boolean =>
      validate({ ...trainingCompletedExample(), artifact_uri: uri });
    const refused = [
      'gs://b/a/../x',
      'gs://bucket/a/../x',
      'gs://bucket/..',
      'gs://bucket/./x',
      'gs://bucket//x',
      'gs://bucket/a//',
      'gs://bucket/%2e%2E/x',
      'gs://bucket/.%2e/x',
      'gs://bucket/%252e%252e/x',
      'gs://bucket/a%2fb',
      'gs://bucket/a%5cb',
      'gs://bucket/a\\b',
      'gs://bucket/a%0ab',
      'gs://bucket/a\u0001b',
      'gs://bucket/a%',
      'file:///models/../etc',
      'file:///models/./1',
      'file:////etc',
    ];
    for (const uri of refused) assert.equal(verdict(uri), false, uri);
    const accepted = [
      'gs://bucket',
      'gs://bucket/',
      'gs://bucket/runs/7/pushed_model/1700000000',
      'gs://bucket/runs/7/',
      'gs://bucket/a%20b/.../x.y',
      'file:///',
      'file:///models/1/',
    ];
    for (const uri of accepted) assert.equal(verdict(uri), true, uri);
  });
  it('agree with the TypeScript parser on accept/reject for the same payloads', () => {
    const validate = compileCommittedSchemas().get('training-completed.v1.json');
    assert.ok(validate);
    const verdicts = samples.map(([name, mutate]) => {
      const payload = trainingCompletedExample();
      mutate(payload);
      return { name, ajv: validate(payload), typebox: parseTrainingCompletedPayload(payload).ok };
    });
    for (const verdict of verdicts) assert.equal(verdict.ajv, verdict.typebox, verdict.name);
    // Both verdicts occur, so agreement is not agreement on "everything passes".
    assert.ok(verdicts.some((v) => v.ajv) && verdicts.some((v) => !v.ajv));
  });
});
