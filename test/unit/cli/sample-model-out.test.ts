/** `sample-model --out` is checked before training: what it accepts and what it refuses. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { outDirProblem } from '../../../cli/src/commands/sample-model-out.js';

describe('sample-model --out check', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-out-check-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('accepts a new directory (creating nothing), an empty one, and one holding a bundle', () => {
    const fresh = path.join(root, 'a', 'b');
    assert.equal(outDirProblem(fresh), undefined);
    assert.equal(fs.existsSync(path.join(root, 'a')), false, 'nothing created');
    assert.deepEqual(fs.readdirSync(root), [], 'the write probe is gone');
    assert.equal(outDirProblem(root), undefined);
    fs.mkdirSync(path.join(root, 'ann'));
    fs.writeFileSync(path.join(root, 'ann', 'manifest.json'), '{}');
    assert.equal(outDirProblem(root), undefined);
  });

  it('refuses a file, a place below a file, and a directory with other files and no bundle', () => {
    const file = path.join(root, 'README.md');
    fs.writeFileSync(file, '# hi');
    assert.equal(outDirProblem(file), `--out ${file} is a file; give a directory for the bundle`);
    assert.equal(
      outDirProblem(path.join(file, 'sub', 'dir')),
      `--out ${path.join(file, 'sub', 'dir')} cannot be created: ${file} is a file, not a directory`,
    );
    assert.match(
      outDirProblem(root) ?? '',
      /^--out .* is a directory with other files in it \(README\.md\) and no bundle \(ann\/manifest\.json\); give an empty or new directory, or one holding a bundle to replace$/,
    );
  });

  it('refuses a place that cannot be written (a check that holds for root too)', () => {
    // /proc takes no new directories, whoever asks.
    assert.match(
      outDirProblem('/proc/recdeploy-sample/out') ?? '',
      /^--out \/proc\/recdeploy-sample\/out cannot be written: creating a directory in \/proc fails \(E[A-Z]+\)$/,
    );
  });
});
