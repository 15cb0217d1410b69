/**
 * events/schemas/training-completed.v1.avsc (the Pub/Sub schema deploy/setup.sh
 * creates) against the contract it mirrors, events/schemas/training-completed.v1.json:
 * the same fields, types and required-ness, and the examples fit it once
 * written in Avro's JSON encoding, while the messages as documented do not
 * (which is why the schema is not attached to the topic).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  avroJsonProblems,
  isUnion,
  toAvroJson,
  type AvroField,
  type AvroRecord,
  type AvroSchema,
} from './avro-json.js';

const eventsDir = fileURLToPath(new URL('../../../events/', import.meta.url));
const readJson = (file: string): unknown => JSON.parse(readFileSync(`${eventsDir}${file}`, 'utf8'));

const avro = readJson('schemas/training-completed.v1.avsc') as AvroRecord;
const jsonSchema = readJson('schemas/training-completed.v1.json') as JsonObjectSchema;
const examples = readdirSync(`${eventsDir}examples`)
  .filter((file) => /^training-completed\.v1.*\.json$/.test(file))
  .sort();

interface JsonSchema {
  readonly type?: string;
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
}
type JsonObjectSchema = JsonSchema & { readonly properties: Readonly<Record<string, JsonSchema>> };

/** The non-null branch of an optional field, or the type of a required one. */
function unwrapOptional(field: AvroField): { optional: boolean; type: AvroSchema } {
  if (!isUnion(field.type)) return { optional: false, type: field.type };
  const branches = field.type;
  const others = branches.filter((b) => b !== 'null');
  assert.equal(branches[0], 'null', `${field.name}: null first, so the default null is valid`);
  assert.equal(others.length, 1, `${field.name}: one type besides null`);
  assert.equal(field.default, null, `${field.name}: default null`);
  return { optional: true, type: others[0] as AvroSchema };
}

/** Asserts that `type` is the Avro counterpart of the JSON Schema `json` at `path`. */
function assertSameType(json: JsonSchema, type: AvroSchema, path: string): void {
  if (json.anyOf !== undefined) {
    const symbols = json.anyOf.map((branch) => branch.const);
    assert.deepEqual(type, { ...(type as object), type: 'enum', symbols }, `${path}: enum`);
    return;
  }
  switch (json.type) {
    case 'string':
    case 'boolean':
      assert.equal(type, json.type, path);
      return;
    case 'number':
      assert.equal(type, 'double', path);
      return;
    case 'integer': {
      const fitsInt =
        (json.maximum ?? Infinity) <= 2 ** 31 - 1 && (json.minimum ?? -Infinity) >= -(2 ** 31);
      assert.equal(type, fitsInt ? 'int' : 'long', `${path}: ${json.minimum}…${json.maximum}`);
      return;
    }
    case 'array':
      assert.equal((type as { type?: unknown }).type, 'array', path);
      assertSameType(
        json.items as JsonSchema,
        (type as unknown as { items: AvroSchema }).items,
        `${path}[]`,
      );
      return;
    case 'object':
      if (json.properties !== undefined) {
        assert.equal((type as AvroRecord).type, 'record', path);
        assertSameRecord(json as JsonObjectSchema, type as AvroRecord, path);
        return;
      }
      assert.deepEqual(Object.values(json.patternProperties ?? {}), [{ type: 'number' }], path);
      assert.deepEqual(type, { type: 'map', values: 'double' }, path);
      return;
    default:
      assert.fail(`${path}: JSON Schema type ${String(json.type)} has no Avro mapping here`);
  }
}

function assertSameRecord(json: JsonObjectSchema, record: AvroRecord, path: string): void {
  assert.deepEqual(
    record.fields.map((f) => f.name).sort(),
    Object.keys(json.properties).sort(),
    `${path}: the same fields`,
  );
  const required = new Set(json.required ?? []);
  for (const field of record.fields) {
    const { optional, type } = unwrapOptional(field);
    assert.equal(optional, !required.has(field.name), `${path}.${field.name}: required-ness`);
    assertSameType(json.properties[field.name] as JsonSchema, type, `${path}.${field.name}`);
  }
}

describe('training-completed Avro schema (events/schemas/training-completed.v1.avsc)', function () {
  it('has the fields, types and required-ness of training-completed.v1.json, nested ones included', function () {
    assert.equal(avro.type, 'record');
    assertSameRecord(jsonSchema, avro, '$');
  });

  it('covers every training-completed example', function () {
    assert.deepEqual(examples, [
      'training-completed.v1.json',
      'training-completed.v1.minimal.json',
    ]);
  });

  for (const file of examples) {
    it(`fits ${file} written in Avro's JSON encoding`, function () {
      const message = readJson(`examples/${file}`);
      const encoded = toAvroJson(avro, message);
      assert.deepEqual(avroJsonProblems(avro, encoded), []);
    });
  }

  it('wraps union values and lists absent optional fields as null in that encoding', function () {
    const full = toAvroJson(avro, readJson('examples/training-completed.v1.json')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(full.completed_at, { string: '2026-01-19T16:49:46Z' });
    const config = (full.deployment_config as Record<string, Record<string, unknown>>)[
      'dev.recdeploy.events.DeploymentConfig'
    ];
    assert.deepEqual(config?.memory, { string: '2Gi' });
    assert.deepEqual(config?.min_instances, { int: 1 });
    assert.equal(config?.runtime, null);
    assert.ok(!('pipeline_job_id' in full), 'an extra field has no place in the record');
    const minimal = toAvroJson(
      avro,
      readJson('examples/training-completed.v1.minimal.json'),
    ) as Record<string, unknown>;
    assert.equal(minimal.deployment_config, null);
    assert.equal(minimal.completed_at, null);
  });

  it('rejects the messages as the contract documents them: why the schema is not attached', function () {
    const full = avroJsonProblems(avro, readJson('examples/training-completed.v1.json'));
    assert.ok(full.some((p) => p.startsWith('$.deployment_config: a union value must be null or')));
    assert.ok(full.some((p) => p.startsWith('$.completed_at: a union value must be null or')));
    assert.ok(full.includes('$.pipeline_job_id: not a field of TrainingCompletedV1'));
    const minimal = avroJsonProblems(avro, readJson('examples/training-completed.v1.minimal.json'));
    assert.deepEqual(minimal, [
      '$.deployment_config: missing (the JSON encoding has every field)',
      '$.completed_at: missing (the JSON encoding has every field)',
    ]);
  });

  it('is checked by a validator that notices wrong values', function () {
    const encoded = toAvroJson(
      avro,
      readJson('examples/training-completed.v1.minimal.json'),
    ) as Record<string, unknown>;
    assert.deepEqual(avroJsonProblems(avro, { ...encoded, model_type: 'clustering' }), [
      '$.model_type: "clustering" is not one of retrieval, ranking, multitask',
    ]);
    assert.deepEqual(avroJsonProblems(avro, { ...encoded, run_number: 1.5 }), [
      '$.run_number: 1.5 is not a(n) long',
    ]);
    assert.deepEqual(avroJsonProblems(avro, { ...encoded, completed_at: { int: 3 } }), [
      '$.completed_at: "int" is not a branch of the union',
    ]);
  });
});
