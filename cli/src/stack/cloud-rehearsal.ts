/**
 * `recdeploy start --backend gcp-emulated`: the cloud rehearsal
 * (scripts/rehearse.ts, `npm run rehearse`) in the foreground. Its Google
 * Cloud stand-ins are the test suite's (test/support/rehearsal/), so it runs
 * from a checkout of the repository, never from a packed CLI; the child
 * shares this terminal, so Ctrl-C reaches it as it would `npm run rehearse`
 * (a signal to this process alone is passed on), and its exit code becomes
 * this command's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CloudRehearsalFlags {
  readonly bundle?: string;
  readonly json?: boolean;
  readonly exitWhenLive?: boolean;
}

/** Runs the rehearsal until it exits; resolves with its exit code. */
export async function runCloudRehearsal(flags: CloudRehearsalFlags): Promise<number> {
  const script = rehearsalScript();
  const args = [
    '--conditions=source',
    '--import',
    'tsx',
    script,
    ...(flags.bundle === undefined ? [] : ['--bundle', path.resolve(flags.bundle)]),
    ...(flags.json ? ['--json'] : []),
    ...(flags.exitWhenLive ? ['--exit-when-live'] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: path.dirname(path.dirname(script)),
    stdio: 'inherit',
  });
  // Passed on: a terminal signals the child too, and the rehearsal takes
  // signals within a second of the first as the same request; a signal sent
  // to this process alone (kill PID) still stops it.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGTERM' ? 143 : 130)));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

/** scripts/rehearse.ts of the checkout this CLI runs from. */
function rehearsalScript(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const script = path.join(dir, 'scripts', 'rehearse.ts');
    if (fs.existsSync(script) && fs.existsSync(path.join(dir, 'test', 'support', 'rehearsal'))) {
      return script;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        '--backend gcp-emulated runs from a checkout of the recdeploy repository (its Google Cloud stand-ins live in test/support/rehearsal); this CLI is not in one',
      );
    }
    dir = parent;
  }
}
