/**
 * cli/bin/recdeploy.js: it decides from file times whether cli/dist is up to
 * date (the files it watches must be exactly the ones `tsc -b` compiles), and
 * the built and the source path answer alike, with the command's exit code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ROOT, recdeployProcess } from './cli-harness.js';

interface CliProject {
  readonly dir: string;
  readonly sources: string;
  readonly exclude: readonly string[];
}
interface BuildFreshness {
  readonly CLI_PROJECTS: readonly CliProject[];
  projectSources(root: string, project: CliProject): string[];
  staleProject(root: string): { dir: string; input: string } | undefined;
}

// Plain JavaScript without declarations (it runs before anything is built).
const freshnessUrl = pathToFileURL(path.join(ROOT, 'cli/bin/build-freshness.js')).href;
const freshness = (await import(freshnessUrl)) as BuildFreshness;

/** The project directories (relative to the root) a tsconfig references, transitively, and itself. */
function projectsOf(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const reference of parsedConfig(dir).projectReferences ?? []) {
    const referenced = path.relative(ROOT, reference.path);
    if (!seen.has(referenced)) projectsOf(referenced, seen);
  }
  return seen;
}

function parsedConfig(dir: string): ts.ParsedCommandLine {
  const file = path.join(ROOT, dir, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(file, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (parsed === undefined) throw new Error(`cannot read ${file}`);
  return parsed;
}

describe('the recdeploy launcher', function () {
  this.timeout(60_000);

  describe('build freshness', () => {
    it('watches the projects the CLI is built from and exactly the files tsc compiles', () => {
      const watched = freshness.CLI_PROJECTS.map((project) => project.dir);
      assert.deepEqual([...watched].sort(), [...projectsOf('cli')].sort());
      for (const project of freshness.CLI_PROJECTS) {
        const compiled = parsedConfig(project.dir).fileNames.map((file) => path.resolve(file));
        assert.ok(compiled.length > 0, project.dir);
        assert.deepEqual(
          freshness.projectSources(ROOT, project).sort(),
          compiled.sort(),
          `${project.dir}: watched .ts files differ from tsconfig's`,
        );
      }
    });

    it('is current until an input is newer than its tsbuildinfo, by the millisecond', () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-freshness-'));
      try {
        const t0 = Date.parse('2030-01-01T00:00:00Z') / 1000;
        const write = (file: string, seconds: number) => {
          const full = path.join(root, file);
          fs.mkdirSync(path.dirname(full), { recursive: true });
          fs.writeFileSync(full, '');
          fs.utimesSync(full, seconds, seconds);
        };
        write('tsconfig.base.json', t0);
        for (const project of freshness.CLI_PROJECTS) {
          write(path.join(project.dir, 'tsconfig.json'), t0);
          write(path.join(project.dir, project.sources, 'index.ts'), t0);
          write(path.join(project.dir, 'dist', 'tsconfig.tsbuildinfo'), t0 + 1);
        }
        assert.equal(freshness.staleProject(root), undefined);

        // Outside what tsc compiles: no effect.
        write('events/scripts/write-schemas.ts', t0 + 5);
        write('shared/dist/index.d.ts', t0 + 5);
        write('shared/node_modules/x/index.ts', t0 + 5);
        write('cli/package.json', t0 + 5);
        // Within the millisecond tsc stamped: tsc calls that current too.
        write('shared/errors.ts', t0 + 1.0004);
        assert.equal(freshness.staleProject(root), undefined);

        write('shared/ports/run-store.ts', t0 + 2);
        assert.deepEqual(freshness.staleProject(root), {
          dir: 'shared',
          input: path.join(root, 'shared/ports/run-store.ts'),
        });
        write('shared/dist/tsconfig.tsbuildinfo', t0 + 3);
        assert.equal(freshness.staleProject(root), undefined);

        write('cli/tsconfig.json', t0 + 4);
        assert.equal(freshness.staleProject(root)?.dir, 'cli');
        write('cli/dist/tsconfig.tsbuildinfo', t0 + 4);
        write('tsconfig.base.json', t0 + 6);
        assert.equal(freshness.staleProject(root)?.dir, 'events');
        for (const project of freshness.CLI_PROJECTS) {
          write(path.join(project.dir, 'dist', 'tsconfig.tsbuildinfo'), t0 + 7);
        }
        fs.rmSync(path.join(root, 'functions/verify/dist'), { recursive: true });
        assert.equal(freshness.staleProject(root)?.dir, 'functions/verify');
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  });

  describe('built and source paths', () => {
    it('answer alike, with the exit codes of the command', async () => {
      const paths = ['built', 'source'] as const;
      const results = await Promise.all(
        paths.map(async (mode) => ({
          version: await recdeployProcess(['--version'], { RECDEPLOY_LAUNCHER: mode }),
          usage: await recdeployProcess(['runs', '--limit', '0'], { RECDEPLOY_LAUNCHER: mode }),
        })),
      );
      const version = (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'cli/package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
      for (const [i, result] of results.entries()) {
        const mode = paths[i];
        assert.deepEqual(result.version, { code: 0, stdout: `${version}\n`, stderr: '' }, mode);
        assert.equal(result.usage.code, 2, `${mode}: ${result.usage.stderr}`);
        assert.match(result.usage.stderr, /--limit/, mode);
        assert.equal(result.usage.stdout, '', mode);
      }
    });

    it('refuses an unknown RECDEPLOY_LAUNCHER with a usage error', async () => {
      const { code, stdout, stderr } = await recdeployProcess(['--version'], {
        RECDEPLOY_LAUNCHER: 'fast',
      });
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.equal(stderr, 'recdeploy: RECDEPLOY_LAUNCHER must be source or built, not fast\n');
    });
  });
});
