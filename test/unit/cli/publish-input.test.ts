/**
 * What `recdeploy publish` accepts: event files checked before anything is
 * opened (bad ones are usage errors naming the problem and the field path),
 * and the sample message it builds for the local stack's sample bundle.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrainingCompletedV1 } from '@recdeploy/events';
import {
  describeJsonError,
  readEventFile,
  sampleMessage,
} from '../../../cli/src/commands/publish-input.js';
import { main } from '../../../cli/src/main.js';
import {
  SAMPLE_RUN_NUMBERS_DIR,
  reserveSampleRunNumber,
} from '../../../cli/src/commands/sample-run-number.js';
import { SAMPLE_ENDPOINT } from '../../../cli/src/stack/sample-model.js';

const EXAMPLES = fileURLToPath(new URL('../../../events/examples/', import.meta.url));

describe('publish input', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-publish-input-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function publish(
    file: string,
  ): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(['node', 'recdeploy', 'publish', file, '--data-dir', dir], {
      out: (line) => stdout.push(line),
      err: (line) => stderr.push(line),
    });
    return { code, stdout, stderr };
  }

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it('a file that is not JSON: exit 2, the parser error with its line and column', async () => {
    const file = write('broken.json', '{\n  "training_run_id": "r1",\n  oops\n}');
    const { code, stdout, stderr } = await publish(file);
    assert.equal(code, 2);
    assert.deepEqual(stdout, []);
    assert.equal(stderr.length, 1);
    assert.match(
      stderr[0] ?? '',
      new RegExp(`^recdeploy: ${file} is not valid JSON: .*at position 31 \\(line 3, column 3\\)$`),
    );
  });

  it('a schema violation: exit 2, naming every failing field path', async () => {
    const example = JSON.parse(
      fs.readFileSync(path.join(EXAMPLES, 'training-completed.v1.json'), 'utf8'),
    ) as Record<string, unknown>;
    const file = write(
      'bad.json',
      JSON.stringify({ ...example, run_number: '42', artifact_uri: 's3://bucket/model' }),
    );
    const { code, stderr } = await publish(file);
    assert.equal(code, 2);
    assert.equal(stderr.length, 1);
    const line = stderr[0] ?? '';
    assert.ok(
      line.startsWith(`recdeploy: ${file} is not a valid training-completed message: `),
      line,
    );
    assert.match(line, /\/run_number: Expected integer, got "42"/);
    assert.match(line, /\/artifact_uri: /);
    assert.doesNotMatch(line, /\n| {4}at /, 'one line, no stack trace');
  });

  it('a missing field, a missing file, a directory: exit 2 with what is wrong', async () => {
    const noIds = write('no-ids.json', JSON.stringify({ schema_version: '1' }));
    const missing = await publish(noIds);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr[0] ?? '', /\/training_run_id: is required/);

    const absent = await publish(path.join(dir, 'nope.json'));
    assert.equal(absent.code, 2);
    assert.deepEqual(absent.stderr, [
      `recdeploy: cannot read ${path.join(dir, 'nope.json')}: no such file`,
    ]);

    const folder = await publish(dir);
    assert.equal(folder.code, 2);
    assert.deepEqual(folder.stderr, [`recdeploy: cannot read ${dir}: it is a directory`]);
  });

  it('a pipeline log entry that did not succeed would be ignored: exit 2 saying so', async () => {
    const entry = JSON.parse(
      fs.readFileSync(path.join(EXAMPLES, 'vertex-pipeline-job-log-entry.json'), 'utf8'),
    ) as { jsonPayload: Record<string, unknown> };
    entry.jsonPayload.state = 'PIPELINE_STATE_FAILED';
    const { code, stderr } = await publish(write('failed-job.json', JSON.stringify(entry)));
    assert.equal(code, 2);
    assert.match(stderr[0] ?? '', /would be ignored by the register step: /);
  });

  it('accepts both shapes, keeping the payload exactly as written', () => {
    const io = { out: () => undefined, err: () => undefined };
    const own = readEventFile(io, path.join(EXAMPLES, 'training-completed.v1.json'));
    assert.equal(own.event.kind, 'training_completed');
    assert.equal(own.event.idempotencyKey, 'ep-1-run-42');
    assert.equal(
      (own.payload as { pipeline_job_id?: string }).pipeline_job_id,
      'recs-two-tower-20260119120000',
      'extra fields kept',
    );
    const entry = readEventFile(io, path.join(EXAMPLES, 'vertex-pipeline-job-log-entry.json'));
    assert.equal(entry.event.kind, 'resolve_pipeline_job');
  });

  it('adds the line and column only when V8 gives a position', () => {
    assert.equal(
      describeJsonError(new SyntaxError('Unexpected token at position 4'), 'ab\ncd'),
      'Unexpected token at position 4 (line 2, column 2)',
    );
    assert.equal(
      describeJsonError(new SyntaxError('Unexpected end of JSON input'), ''),
      'Unexpected end of JSON input',
    );
  });

  it('builds a valid sample run with the given number, pointing at the bundle, with the manifest metrics', () => {
    const bundle = path.join(dir, 'models', 'sample');
    fs.mkdirSync(path.join(bundle, 'ann'), { recursive: true });
    fs.writeFileSync(
      path.join(bundle, 'ann', 'manifest.json'),
      JSON.stringify({ metrics: { recall_at_100: 0.61, note: 'text is dropped' } }),
    );
    const now = new Date('2030-05-06T07:08:09.123Z');
    const message = sampleMessage(bundle, 7, now);
    assert.deepEqual(parseTrainingCompletedV1(message), { ok: true, value: message });
    assert.equal(message.model_endpoint_id, SAMPLE_ENDPOINT);
    assert.equal(message.training_run_id, 'sample-run-7');
    assert.equal(message.run_number, 7);
    assert.equal(message.completed_at, now.toISOString());
    assert.equal(message.artifact_uri, `file://${bundle}`);
    assert.deepEqual(message.metrics, { recall_at_100: 0.61 });
  });

  it('reserves sample run numbers above the stored ones and above each other, once each', () => {
    assert.equal(reserveSampleRunNumber(dir, 0), 1);
    assert.equal(reserveSampleRunNumber(dir, 0), 2, 'a number reserved before is not given again');
    assert.equal(reserveSampleRunNumber(dir, 9), 10, 'the store knows a higher run');
    assert.equal(reserveSampleRunNumber(dir, 3), 11);
    assert.deepEqual(fs.readdirSync(path.join(dir, SAMPLE_RUN_NUMBERS_DIR)).sort(), [
      '1',
      '10',
      '11',
      '2',
    ]);
  });
});
