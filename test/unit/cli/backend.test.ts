/**
 * How the CLI turns its backend flags into configuration, and the usage
 * errors (exit code 2) it reports without touching any store.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadRuntimeConfig } from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import {
  backendEnv,
  describeProblems,
  findRepoRoot,
  loadBackendConfig,
} from '../../../cli/src/backend.js';
import type { CliIo } from '../../../cli/src/cli-io.js';
import { COMMAND_SUMMARIES } from '../../../cli/src/command-index.js';
import { allCommands, COMMAND_MODULES } from '../../../cli/src/command-modules.js';
import { main } from '../../../cli/src/main.js';

interface CapturedIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
}

function capture(): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('CLI backend flags', () => {
  it('keeps the environment when no flag is given', () => {
    const env = { RECDEPLOY_DATA_DIR: '/srv/recdeploy', REGION: 'europe-west4' };
    assert.deepEqual(backendEnv({}, env), env);
  });

  it('--project selects Firestore and Pub/Sub of that project; --data-dir the local files', () => {
    assert.deepEqual(
      backendEnv(
        { project: 'my-project', database: 'runs', collection: 'deploys', region: 'europe-west4' },
        { RECDEPLOY_BACKEND: 'local', TOPIC_TRAINING_COMPLETED: 'trained' },
      ),
      {
        RECDEPLOY_BACKEND: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'my-project',
        FIRESTORE_DATABASE: 'runs',
        FIRESTORE_COLLECTION: 'deploys',
        REGION: 'europe-west4',
        TOPIC_TRAINING_COMPLETED: 'trained',
      },
    );
    assert.deepEqual(backendEnv({ dataDir: 'here' }, { RECDEPLOY_BACKEND: 'gcp' }, '/work'), {
      RECDEPLOY_BACKEND: 'local',
      RECDEPLOY_DATA_DIR: '/work/here',
    });
  });

  it('resolves the local data directory to an absolute path, and leaves a cloud environment alone', () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-backend-env-'));
    try {
      assert.deepEqual(backendEnv({}, { RECDEPLOY_DATA_DIR: 'rel' }, cwd), {
        RECDEPLOY_DATA_DIR: path.join(cwd, 'rel'),
      });
      // One in the directory itself, so a stray /tmp/.recdeploy cannot be the one found.
      fs.mkdirSync(path.join(cwd, '.recdeploy'));
      fs.mkdirSync(path.join(cwd, 'services'));
      assert.deepEqual(backendEnv({}, {}, path.join(cwd, 'services')), {
        RECDEPLOY_DATA_DIR: path.join(cwd, '.recdeploy'),
      });
      const cloud = { RECDEPLOY_BACKEND: 'gcp', GOOGLE_CLOUD_PROJECT: 'p' };
      assert.deepEqual(backendEnv({}, cloud, cwd), cloud);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('loads the runtime and the chain configuration through the deployables’ loaders', () => {
    const io = capture();
    const runtime = loadBackendConfig(io, { project: 'my-project' }, loadRuntimeConfig, {});
    assert.equal(runtime.backend, 'gcp');
    assert.equal(runtime.backend === 'gcp' && runtime.projectId, 'my-project');
    const chain = loadBackendConfig(io, { dataDir: '/d' }, loadChainConfig, {
      SERVICE_PREFIX: 'm-',
    });
    assert.equal(chain.runtime.backend === 'local' && chain.runtime.dataDir, '/d');
    assert.equal(chain.servicePrefix, 'm-');
  });

  it('reports a bad flag value as a usage error naming the flag', () => {
    const io = capture();
    assert.throws(
      () => loadBackendConfig(io, { project: 'Bad_Project' }, loadRuntimeConfig, {}),
      (error: unknown) => error instanceof CommanderError && error.exitCode === 2,
    );
    assert.equal(io.stderr.length, 1);
    assert.match(
      io.stderr[0] ?? '',
      /^recdeploy: invalid configuration:\n {2}- --project: GOOGLE_CLOUD_PROJECT="Bad_Project" is invalid/,
    );
  });

  it('refuses Firestore flags on the local backend', () => {
    const io = capture();
    assert.throws(
      () => loadBackendConfig(io, { collection: 'deploys' }, loadRuntimeConfig, {}),
      CommanderError,
    );
    assert.deepEqual(io.stderr, [
      'recdeploy: --database and --collection choose a Firestore location: add --project <id>',
    ]);
  });

  it('names flags only for problems their variables caused', () => {
    assert.equal(
      describeProblems(['REGION="x" is invalid', 'LOG_LEVEL="loud" is invalid'], { region: 'x' }),
      'invalid configuration:\n  - --region: REGION="x" is invalid\n  - LOG_LEVEL="loud" is invalid',
    );
  });

  it('finds the checkout holding services/ann-serving from the CLI sources, and nothing from /', () => {
    const root = findRepoRoot();
    assert.ok(root !== undefined && root.length > 1);
    assert.equal(findRepoRoot('/'), undefined);
  });

  describe('usage errors through main()', () => {
    async function run(...args: string[]): Promise<{ code: number; io: CapturedIo }> {
      const io = capture();
      return { code: await main(['node', 'recdeploy', ...args], io), io };
    }

    it('--data-dir and --project cannot go together', async () => {
      const { code, io } = await run('runs', '--data-dir', '/tmp/x', '--project', 'my-project');
      assert.equal(code, 2);
      assert.match(
        io.stderr.join('\n'),
        /option '--data-dir <dir>' cannot be used with option '--project <id>'/,
      );
      assert.deepEqual(io.stdout, []);
    });

    it('runs --status must be a run status, --limit within 1..500', async () => {
      const bad = await run('runs', '--status', 'done');
      assert.equal(bad.code, 2);
      assert.match(
        bad.io.stderr.join('\n'),
        /Allowed choices are received, registering, .*rolled_back/,
      );
      const limit = await run('runs', '--limit', '0');
      assert.equal(limit.code, 2);
      assert.match(limit.io.stderr.join('\n'), /expected an integer from 1 to 500, got "0"/);
    });

    it('publish needs exactly one of a file and --sample', async () => {
      for (const args of [['publish'], ['publish', 'event.json', '--sample']]) {
        const { code, io } = await run(...args);
        assert.equal(code, 2, args.join(' '));
        assert.deepEqual(io.stderr, ['recdeploy: give an event file or --sample (one of them)']);
      }
    });

    it('publish --sample cannot go to a cloud project', async () => {
      const { code, io } = await run('publish', '--sample', '--project', 'my-project');
      assert.equal(code, 2);
      assert.match(
        io.stderr[0] ?? '',
        /--sample publishes a file:\/\/ model .* cannot go to --project/,
      );
    });

    it('every command states its exit codes in its help, in one style', async () => {
      // Every command the CLI knows, so a new one cannot be left out.
      for (const name of COMMAND_MODULES.keys()) {
        const { code, io } = await run(name, '--help');
        assert.equal(code, 0, name);
        assert.match(io.stdout.join('\n'), /\n\nExit codes: 0 [^]*; 2 bad arguments/, name);
      }
    });

    it('lists every command in --help from its summary, equal to what its module registers', async () => {
      const real = new Command('recdeploy');
      for (const register of await allCommands()) register(real, capture());
      const help = real.createHelp();
      assert.deepEqual(
        real.commands.map((cmd) => [cmd.name(), help.subcommandTerm(cmd), cmd.description()]),
        [...COMMAND_SUMMARIES].map(([name, s]) => [name, s.term, s.description]),
      );
      const { code, io } = await run('--help');
      assert.equal(code, 0);
      const listed = io.stdout.join('\n');
      for (const [name, summary] of COMMAND_SUMMARIES) {
        assert.match(
          listed,
          new RegExp(`^  ${summary.term.replace(/[[\]]/g, '\\$&')} `, 'm'),
          name,
        );
      }
    });

    it('suggests the command meant, from the list, for a misspelt one', async () => {
      const { code, io } = await run('stauts', 'x');
      assert.equal(code, 2);
      assert.match(io.stderr.join('\n'), /unknown command 'stauts'[^]*Did you mean status\?/);
    });

    it("help <command> shows that command's own help", async () => {
      const { code, io } = await run('help', 'runs');
      assert.equal(code, 0);
      assert.match(io.stdout.join('\n'), /^Usage: recdeploy runs \[options\]/);
      assert.match(io.stdout.join('\n'), /--endpoint <id>/);
    });

    it('build-index reports a bad argument like every command: exit 2 on its io', async () => {
      const { code, io } = await run('build-index', '--k', 'many', '/nowhere');
      assert.equal(code, 2);
      assert.deepEqual(io.stderr, [
        `error: option '--k <n>' argument 'many' is invalid. expected an integer from 1 to 10000, got "many".`,
        '(run with --help for usage)',
      ]);
    });

    it('every new command answers --help with exit code 0 on stdout', async () => {
      for (const name of ['publish', 'runs', 'status', 'rollback']) {
        const { code, io } = await run(name, '--help');
        assert.equal(code, 0, name);
        assert.match(io.stdout.join('\n'), new RegExp(`^Usage: recdeploy ${name} `), name);
        assert.deepEqual(io.stderr, [], name);
      }
    });
  });
});
