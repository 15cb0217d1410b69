/**
 * `recdeploy logs` on a log file written by the real logger (createCloudLogger
 * with LOG_FILE's destination, as the local stack writes it): readable lines,
 * the filters, --json, a missing log named with its directory; and the log
 * file's rotation and the stack's one-line terminal text for warnings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createCloudLogger, logFileDestination } from '@recdeploy/shared';
import { registerLogs } from '../../../cli/src/commands/logs.js';
import { friendlyLine, stackLogFile } from '../../../cli/src/stack/stack-log.js';

async function logs(args: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('recdeploy')
    .exitOverride()
    .configureOutput({ writeErr: (text) => err.push(text) });
  registerLogs(program, { out: (line) => out.push(line), err: (line) => err.push(line) });
  await program.parseAsync(['node', 'recdeploy', 'logs', ...args]);
  return { out, err };
}

describe('recdeploy logs', () => {
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-logs-'));
    const logger = createCloudLogger({
      level: 'debug',
      stream: { file: stackLogFile(dataDir) },
      base: { service: 'recdeploy-deploy' },
    });
    logger.info('revision deployed with 0% traffic', { runId: 'run-a', revision: 'r1' });
    logger.warn('deploy attempt failed; will retry', {
      runId: 'run-b',
      code: 'RUN.STEP_BUSY',
      message: 'held by another attempt',
    });
    logger.error('verify failed', {
      runId: 'run-b',
      error: new Error('p99 latency 900 ms over 500 ms\n    at stack frame'),
    });
    logger.child({ service: 'reconciler' }).debug('pass done');
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('prints every line readably: time, level, service, message, run, first line of the error', async () => {
    const { out } = await logs(['--data-dir', dataDir]);
    assert.equal(out.length, 4, out.join('\n'));
    assert.match(
      out[0]!,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO +deploy +revision deployed with 0% traffic {2}run run-a$/,
    );
    assert.match(
      out[1]!,
      / WARN +deploy +deploy attempt failed; will retry {2}run run-b: RUN\.STEP_BUSY$/,
    );
    assert.match(
      out[2]!,
      / ERROR deploy +verify failed {2}run run-b: p99 latency 900 ms over 500 ms$/,
    );
    assert.match(out[3]!, / DEBUG reconciler +pass done$/);
    assert.ok(out.every((line) => !line.includes('{') && !line.includes('at stack frame')));
  });

  it('filters by level, run and time, and --json prints the raw lines', async () => {
    assert.equal((await logs(['--data-dir', dataDir, '--level', 'warn'])).out.length, 2);
    assert.equal((await logs(['--data-dir', dataDir, '--run', 'run-a'])).out.length, 1);
    assert.equal((await logs(['--data-dir', dataDir, '--since', '10m'])).out.length, 4);
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.equal((await logs(['--data-dir', dataDir, '--since', future])).out.length, 0);
    const raw = (await logs(['--data-dir', dataDir, '--json', '--run', 'run-b'])).out;
    assert.equal(raw.length, 2);
    for (const line of raw) assert.equal((JSON.parse(line) as { runId: string }).runId, 'run-b');
  });

  it('names the directory when there is no log yet, and refuses an unreadable --since', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-nolog-'));
    try {
      await assert.rejects(logs(['--data-dir', empty]), (error: Error) => {
        assert.ok(error.message.includes(`no log yet in ${empty}`), error.message);
        return true;
      });
      await assert.rejects(
        logs(['--data-dir', empty, '--since', 'yesterday-ish']),
        /expected a duration/,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the stack log file', () => {
  it('is renamed to .1 once it would pass its cap, and both are read in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-rotate-'));
    try {
      const file = path.join(dir, 'logs', 'stack.log');
      // A private destination with a tiny cap (the shared one is keyed by file).
      const destination = logFileDestination(file, 400);
      const logger = createCloudLogger({ destination, base: { service: 'stack' } });
      for (let i = 0; i < 6; i += 1) logger.info(`line ${i}`, { runId: 'r' });
      assert.ok(fs.statSync(file).size <= 400);
      assert.ok(fs.existsSync(`${file}.1`));
      const { out } = await logs(['--data-dir', dir]);
      const numbers = out.map((line) => Number(/line (\d)/.exec(line)?.[1]));
      // What was dropped with an older .1 is gone; what is left is in order and ends with the last.
      assert.deepEqual(numbers, [...numbers].sort());
      assert.equal(numbers.at(-1), 5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells the terminal one short line per warning that matters, none for a busy step or a retried delivery', () => {
    const line = (entry: object): string => JSON.stringify(entry);
    assert.equal(
      friendlyLine(
        line({
          severity: 'WARNING',
          service: 'recdeploy-register',
          message: 'register: passing failure, the message will be redelivered',
          code: 'RUN.STEP_BUSY',
        }),
      ),
      undefined,
    );
    assert.equal(
      friendlyLine(
        line({
          severity: 'WARNING',
          service: 'stack',
          message: 'event bus: delivery failed; will retry',
        }),
      ),
      undefined,
    );
    assert.equal(
      friendlyLine(line({ severity: 'INFO', service: 'stack', message: 'fine' })),
      undefined,
    );
    assert.equal(
      friendlyLine(line({ severity: 'ERROR', service: 'console', message: 'Error: x\n    at y' })),
      undefined,
    );
    assert.equal(
      friendlyLine(
        line({
          severity: 'ERROR',
          service: 'recdeploy-verify',
          message: 'verify failed',
          runId: 'r1',
          error: 'boom\n    at frame',
        }),
      ),
      'error: verify: verify failed (run r1): boom',
    );
  });
});
