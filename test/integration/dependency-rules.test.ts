import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(repoRoot, 'node_modules/.bin/depcruise');

/**
 * Runs the project's dependency rules over a throw-away tree laid out like the
 * repository, so each rule is shown to fail on the violation it exists for.
 */
function violationsIn(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-deps-'));
  try {
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    fs.copyFileSync(
      path.join(repoRoot, 'tsconfig.base.json'),
      path.join(dir, 'tsconfig.base.json'),
    );
    const roots = ['shared', 'events', 'functions', 'services'].filter((r) =>
      fs.existsSync(path.join(dir, r)),
    );
    const result = spawnSync(
      depcruise,
      ['--config', path.join(repoRoot, '.dependency-cruiser.cjs'), ...roots],
      { cwd: dir, encoding: 'utf8' },
    );
    return `${result.stdout}${result.stderr}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('dependency rules', function () {
  this.timeout(60_000);

  it('refuses domain code importing an adapter or a Google SDK', () => {
    const out = violationsIn({
      'shared/adapters/local/store.ts': 'export const store = 1;\n',
      'shared/domain/a.ts':
        "import { store } from '../adapters/local/store.js';\nexport const a = store;\n",
      'shared/ports/b.ts':
        "import { Firestore } from '@google-cloud/firestore';\nexport const b = Firestore;\n",
    });
    assert.match(
      out,
      /no-domain-to-infra: shared\/domain\/a\.ts → shared\/adapters\/local\/store\.ts/,
    );
    assert.match(out, /no-domain-to-infra: shared\/ports\/b\.ts → @google-cloud\/firestore/);
  });

  it('refuses domain code importing a port or a use case (dependencies point inward)', () => {
    const out = violationsIn({
      'shared/ports/store.port.ts': 'export interface Store { x: number }\n',
      'shared/usecases/run.ts': 'export const run = 1;\n',
      'shared/domain/a.ts':
        "import type { Store } from '../ports/store.port.js';\nexport type A = Store;\n",
      'shared/domain/b.ts': "import { run } from '../usecases/run.js';\nexport const b = run;\n",
      'shared/ports/c.port.ts': "import type { A } from '../domain/a.js';\nexport type C = A;\n",
    });
    assert.match(
      out,
      /domain-depends-on-nothing-outside: shared\/domain\/a\.ts → shared\/ports\/store\.port\.ts/,
    );
    assert.match(
      out,
      /domain-depends-on-nothing-outside: shared\/domain\/b\.ts → shared\/usecases\/run\.ts/,
    );
    // A port using a domain type is the allowed direction.
    assert.doesNotMatch(out, /shared\/ports\/c\.port\.ts →/);
  });

  it('refuses a function importing another function, and a service importing a function', () => {
    const out = violationsIn({
      'functions/register/index.ts':
        "import { x } from '../deploy/index.js';\nexport const y = x;\n",
      'functions/deploy/index.ts': 'export const x = 1;\n',
      'services/dashboard/index.ts':
        "import { x } from '../../functions/deploy/index.js';\nexport const z = x;\n",
    });
    assert.match(
      out,
      /no-function-to-function: functions\/register\/index\.ts → functions\/deploy\/index\.ts/,
    );
    assert.match(
      out,
      /no-service-to-function: services\/dashboard\/index\.ts → functions\/deploy\/index\.ts/,
    );
  });

  it('passes a tree that follows the rules', () => {
    const out = violationsIn({
      'shared/domain/a.ts': 'export const a = 1;\n',
      'shared/adapters/local/store.ts':
        "import { a } from '../../domain/a.js';\nexport const s = a;\n",
      'functions/register/index.ts':
        "import { a } from '../../shared/domain/a.js';\nexport const r = a;\n",
    });
    assert.match(out, /no dependency violations found/);
  });
});
