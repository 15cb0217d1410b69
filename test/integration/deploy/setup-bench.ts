/**
 * Runs deploy/setup.sh by bash against the recording stand-in for gcloud
 * (gcloud-stub.cjs), and reads what it did: every gcloud call, the imported
 * triggers, the bindings granted to a member.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('../../../deploy/setup.sh', import.meta.url));
const STUB = fileURLToPath(new URL('./gcloud-stub.cjs', import.meta.url));
export const PROJECT = 'recs-project';
export const REGION = 'europe-west1';
export const BUCKET = 'recs-models';

export interface SetupRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every gcloud call of this run, without the `--project=… --quiet` prefix. */
  readonly calls: string[][];
  readonly imports: { file: string; content: string }[];
}

/** A directory with the stub on PATH as `gcloud`; runs share its state (what exists). */
export class SetupBench {
  private constructor(private readonly tmp: string) {}

  static async create(): Promise<SetupBench> {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-setup-'));
    await mkdir(path.join(tmp, 'bin'));
    await symlink(STUB, path.join(tmp, 'bin', 'gcloud'));
    return new SetupBench(tmp);
  }

  async run(env: Record<string, string>): Promise<SetupRun> {
    const tmp = this.tmp;
    const log = path.join(tmp, `calls-${Date.now()}-${Math.random()}.jsonl`);
    const imports = path.join(tmp, `imports-${Date.now()}-${Math.random()}.jsonl`);
    const result = spawnSync('bash', [SETUP], {
      encoding: 'utf8',
      env: {
        PATH: `${path.join(tmp, 'bin')}:${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? '',
        GCLOUD_STUB_LOG: log,
        GCLOUD_STUB_STATE: path.join(tmp, 'state.json'),
        GCLOUD_STUB_IMPORTS: imports,
        ...env,
      },
    });
    const lines = async (file: string) =>
      (await readFile(file, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown);
    const calls = (await lines(log)) as string[][];
    for (const call of calls) {
      assert.deepEqual(call.slice(0, 2), [`--project=${PROJECT}`, '--quiet'], call.join(' '));
    }
    return {
      code: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: calls.map((call) => call.slice(2)),
      imports: (await lines(imports)) as SetupRun['imports'],
    };
  }

  async remove(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/** The resource names a run created with `gcloud <group…> create NAME`. */
export function created(run: SetupRun, ...group: string[]): (string | undefined)[] {
  return run.calls
    .filter((call) => group.every((word, i) => call[i] === word) && call[group.length] === 'create')
    .map((call) => call[group.length + 1]);
}

/** The value of `--name=value` in a gcloud call. */
export function flagOf(call: readonly string[], name: string): string | undefined {
  return call.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** "scope role" for every binding the run granted `member`. */
export function grantsOf(run: SetupRun, member: string): string[] {
  const grants: string[] = [];
  for (const call of run.calls) {
    const at = call.indexOf('add-iam-policy-binding');
    if (at < 0 || !call.includes(`--member=${member}`)) continue;
    const role = call.find((a) => a.startsWith('--role='))?.slice('--role='.length);
    const target = call[at + 1] ?? '';
    const scope = call.slice(0, at).join(' ');
    const where =
      scope === 'projects'
        ? 'project'
        : scope === 'storage buckets'
          ? target === `gs://${BUCKET}`
            ? 'bucket'
            : `bucket:${target}`
          : scope === 'pubsub topics'
            ? `topic:${target}`
            : scope === 'iam service-accounts'
              ? `sa:${target.split('@')[0]}`
              : scope;
    grants.push(`${where} ${role}`);
  }
  return grants;
}
