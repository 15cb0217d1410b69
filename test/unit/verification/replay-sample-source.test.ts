/**
 * Reading the live revision's sample through the (real, local) artifact
 * store: every way of having nothing to replay comes back as the reason the
 * check is skipped, a sample that breaks the schema names the problem
 * without quoting it, and a good sample is handed over with its live side.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalArtifactStore } from '@recdeploy/shared/local';
import { RecordingLogger } from '../../../shared/logging/recording-logger.js';
import { readReplaySample } from '../../../shared/verification/replay-sample-source.js';

describe('replay sample source', () => {
  let root: string;
  let store: LocalArtifactStore;
  const live = (file: string) => ({
    sampleUri: pathToFileURL(path.join(root, file)).href,
    liveRevision: 'rec-home-00001',
    liveUrl: 'http://127.0.0.1:1/tag',
  });
  const write = (file: string, body: unknown) =>
    fs.writeFileSync(path.join(root, file), typeof body === 'string' ? body : JSON.stringify(body));
  const sample = (instances: unknown[]) => ({
    format_version: 1,
    model_name: 'recommender',
    written_at: '2026-12-06T22:00:00.000Z',
    sampling_since: '2026-12-06T21:00:00.000Z',
    seen: 10,
    capacity: 5,
    instances,
  });

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-source-'));
    store = new LocalArtifactStore({ roots: [root], logger: new RecordingLogger() });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('says there is no sample yet when the live revision wrote none', async () => {
    const input = await readReplaySample(store, live('none.json'));
    assert.ok('notRun' in input);
    assert.match(
      input.notRun,
      /^not run: no sample yet: live revision rec-home-00001 has not written /,
    );
  });

  it('names the schema problem of a file that is not a sample, never its contents', async () => {
    write('bad.json', { ...sample([{ city: 'Secret City' }]), format_version: 9 });
    const input = await readReplaySample(store, live('bad.json'));
    assert.ok('notRun' in input);
    assert.match(input.notRun, /is not a replay sample: \/format_version/);
    assert.doesNotMatch(input.notRun, /Secret City/);
    write('garbage.json', '{"instances": [Secret');
    const garbage = await readReplaySample(store, live('garbage.json'));
    assert.ok('notRun' in garbage && garbage.notRun.endsWith('it is not valid JSON'));
  });

  it('skips an empty sample and one the store may not read', async () => {
    write('empty.json', sample([]));
    const empty = await readReplaySample(store, live('empty.json'));
    assert.ok('notRun' in empty && /holds no instances yet/.test(empty.notRun));
    const outside = await readReplaySample(store, {
      ...live('x'),
      sampleUri: 'file:///etc/hostname',
    });
    assert.ok(
      'notRun' in outside &&
        /cannot be read: .*outside the configured artifact roots/.test(outside.notRun),
      JSON.stringify(outside),
    );
  });

  it('hands over a good sample with when it was written and the live side', async () => {
    write('good.json', sample([{ city: 'Warsaw', revenue: 12 }]));
    const input = await readReplaySample(store, { ...live('good.json'), minOverlap: 0.5 });
    assert.ok(!('notRun' in input));
    assert.deepEqual(input.instances, [{ city: 'Warsaw', revenue: 12 }]);
    assert.equal(input.sampledAt, '2026-12-06T22:00:00.000Z');
    assert.equal(input.liveUrl, 'http://127.0.0.1:1/tag');
    assert.equal(input.minOverlap, 0.5);
  });
});
