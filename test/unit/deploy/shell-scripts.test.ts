/**
 * Every shell script of the repository passes shellcheck (the real binary,
 * as a child process), runs under bash in strict mode and is executable; the
 * native image runs its start script on the pinned TF Serving base.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function shellScripts(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(repoRoot, dir))) {
    const relative = path.posix.join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(path.join(repoRoot, relative)).isDirectory()) out.push(...shellScripts(relative));
    else if (entry.endsWith('.sh')) out.push(relative);
  }
  return out.sort();
}

const SCRIPTS = [...shellScripts('deploy'), ...shellScripts('scripts')];

describe('shell scripts', function () {
  it('include the deploy scripts', function () {
    for (const script of [
      'deploy/setup.sh',
      'deploy/scripts/configure-function-trigger.sh',
      'deploy/tf_serving_native/start.sh',
    ]) {
      assert.ok(SCRIPTS.includes(script), script);
    }
  });

  for (const script of SCRIPTS) {
    it(`${script}: shellcheck finds nothing`, function () {
      this.timeout(20_000);
      const result = spawnSync('shellcheck', ['--shell=bash', '--external-sources', script], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      if (result.error !== undefined) {
        assert.fail(
          `shellcheck could not run (${result.error.message}): install it with ` +
            '`apt-get install -y shellcheck` (npm test does so when it runs as root)',
        );
      }
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });

    it(`${script}: bash, strict mode, executable`, function () {
      const text = readFileSync(path.join(repoRoot, script), 'utf8');
      assert.ok(text.startsWith('#!/usr/bin/env bash\n'), 'shebang');
      assert.match(text, /^set -euo pipefail$/m);
      assert.ok((statSync(path.join(repoRoot, script)).mode & 0o111) !== 0, 'executable bit');
    });
  }

  it('the native image starts TF Serving 2.19.0 through its start script', function () {
    const dockerfile = readFileSync(
      path.join(repoRoot, 'deploy/tf_serving_native/Dockerfile'),
      'utf8',
    );
    const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));
    assert.deepEqual(
      instructions.filter((line) => /^(FROM|COPY|ENTRYPOINT|USER|EXPOSE) /.test(line)),
      [
        'FROM tensorflow/serving:2.19.0',
        'COPY --chmod=755 start.sh /usr/local/bin/recdeploy-start',
        'USER serving',
        'EXPOSE 8501',
        'ENTRYPOINT ["/usr/local/bin/recdeploy-start"]',
      ],
    );
    assert.match(dockerfile, /apt-get install -y --no-install-recommends curl jq ca-certificates/);
  });
});
