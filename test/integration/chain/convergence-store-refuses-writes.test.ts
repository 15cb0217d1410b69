/**
 * Convergence (DESIGN.md §4, issue 11): the run store refuses writes in the
 * middle of a deploy, then comes back.
 *
 * - Locked: another process holds an exclusive SQLite lock on runs.db
 *   (BEGIN EXCLUSIVE) for 15 s from the moment the run is `deploying`: longer
 *   than busy_timeout (10 s), so a write of the chain waits it out (blocking
 *   the single process the stack runs in, as it would block `recdeploy
 *   start`) and fails.
 * - Read-only: runs.db and its WAL are made immutable (chattr +i, which
 *   binds root too, unlike a file mode: the tests run as root here) for 5 s;
 *   every write fails at once with an I/O error. Skipped where chattr cannot
 *   be used (not root, or a file system without the flag).
 *
 * Either way: while it lasts no hand-off of the run is acknowledged (2xx
 * only after the state is committed) and at least one is answered non-2xx;
 * no committed version of the run document shows half a step; within 60 s
 * of the store coming back the run is live, with one registry version, one
 * revision and one traffic change, and the router serves it.
 *
 * The chain is the in-process one of local-chain.ts, with the stack's
 * reconciler loop (cli/src/stack/stack-reconciler.ts) at the stack's cadence
 * (every LEASE_TTL_S). Publishing, refusing and checking all that is
 * refuseWritesDuringDeploy in test/support/chain/refused-writes.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ChainDeps } from '@recdeploy/shared/chain';
import { startReconciler, type StackReconciler } from '../../../cli/src/stack/stack-reconciler.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { BusRecorder, chainDeps, sleep, StoreLock } from '../../support/chain/convergence.js';
import { localChain, type LocalChain } from '../../support/chain/local-chain.js';
import {
  refuseWritesDuringDeploy as refuseWritesOn,
  type Refusal,
} from '../../support/chain/refused-writes.js';

const LOCK_MS = 15_000;
const READ_ONLY_MS = 5_000;

describe('convergence: a run store that refuses writes mid-deploy', function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let deps: ChainDeps;
  let recorder: BusRecorder;
  let reconciler: StackReconciler;
  const reconcilerLines: string[] = [];

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
    deps = await chainDeps();
    recorder = BusRecorder.install(chain);
    reconciler = startReconciler(deps, {
      intervalMs: deps.config.leases.ttlMs,
      progress: (line) => reconcilerLines.push(line),
    });
  });
  after(async () => {
    await reconciler?.stop();
    recorder?.uninstall();
  });

  const refuseWritesDuringDeploy = (endpoint: string, refusal: Refusal) =>
    refuseWritesOn({ chain, sample, deps, recorder }, endpoint, refusal);

  it('an exclusive lock on runs.db held by another process for 15 s', async () => {
    const lock = await StoreLock.open(path.join(chain.dataDir, 'runs.db'));
    let released: Promise<number> | undefined;
    try {
      await refuseWritesDuringDeploy('conv-locked', {
        name: 'exclusive lock',
        durationMs: LOCK_MS,
        async start(runId) {
          const report = await lock.hold(LOCK_MS, runId);
          released = report.releasedAt;
          return {
            startedAt: report.lockedAt,
            ...(report.runAtLock === undefined ? {} : { runAtStart: report.runAtLock }),
          };
        },
        ended: () => released!,
      });
    } finally {
      lock.kill();
    }
  });

  it('runs.db and its WAL immutable (read-only, even for root) for 5 s', async function () {
    const files = ['runs.db', 'runs.db-wal'].map((f) => path.join(chain.dataDir, f));
    const chattr = (flag: '+i' | '-i') =>
      execFileSync('chattr', [flag, ...files.filter((f) => existsSync(f))], { stdio: 'pipe' });
    try {
      chattr('+i');
      chattr('-i');
    } catch (error) {
      this.skip(); // no chattr, not root, or a file system without the immutable flag
      void error;
    }
    const restore = () => {
      try {
        chattr('-i');
      } catch {
        // already writable, or gone
      }
    };
    process.once('exit', restore);
    let endedAt: Promise<number> | undefined;
    try {
      await refuseWritesDuringDeploy('conv-readonly', {
        name: 'read-only store',
        durationMs: READ_ONLY_MS,
        async start(runId) {
          chattr('+i');
          const startedAt = Date.now();
          const runAtStart = await chain.runs.getRun(runId);
          endedAt = sleep(READ_ONLY_MS).then(() => {
            chattr('-i');
            return Date.now();
          });
          return { startedAt, ...(runAtStart === undefined ? {} : { runAtStart }) };
        },
        ended: () => endedAt!,
      });
    } finally {
      await endedAt?.catch(() => undefined);
      restore();
      process.removeListener('exit', restore);
    }
  });
});

after(async () => (await localChain()).stop());
