/**
 * The pieces of `recdeploy start`'s text and stop handling that need no
 * stack: the line a run gets when it ends, the phase lines on a pipe, and how
 * stop signals are told apart (one request, repeated within the window, or
 * an insisting second one), heard on an emitter of the test's own.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createNarrator } from '../../../cli/src/output/phase-narrator.js';
import { runEndLine } from '../../../cli/src/output/run-end-line.js';
import { phaseResult } from '../../../cli/src/stack/run-phases.js';
import { watchStopSignals, type StopSignal } from '../../../cli/src/stack/stop-signals.js';
import { liveRun } from './run-documents.js';

describe('start: the verify phase line', () => {
  const check = (name: string, passed: boolean, skipped?: true) => ({
    name,
    passed,
    ...(skipped ? { skipped } : {}),
  });

  it('counts the checks that passed and names the ones skipped, which did not pass', () => {
    const run = liveRun({
      verification: {
        checks: [
          check('model_available', true),
          check('latency', true),
          check('replay', false, true),
        ],
        latencyP50Ms: 3,
        latencyP99Ms: 9,
      },
    });
    assert.equal(phaseResult('verify', run), '2 checks passed, replay skipped; p50 3 ms, p99 9 ms');
    const all = liveRun({ verification: { checks: [check('latency', true)], latencyP50Ms: 3 } });
    assert.equal(phaseResult('verify', all), '1 check passed; p50 3 ms, p99 ? ms');
  });
});

describe('start: the line a run gets when it ends', () => {
  const history = [
    { at: '2030-01-01T10:00:00.000Z', from: null, to: 'received' as const },
    { at: '2030-01-01T10:01:30.000Z', from: 'verifying' as const, to: 'live' as const },
  ];

  it('live: total time, each step, p99 and the runs it replaced', () => {
    assert.equal(
      runEndLine(liveRun({ history }), ['home-train-6']),
      'run home-train-7: live in 90.0 s (register 1.2 s, deploy 68.7 s, verify 19.9 s; p99 9 ms); replaced home-train-6',
    );
  });

  it('failed: the step it failed at and the reason', () => {
    const run = liveRun({
      status: 'failed',
      statusReason: 'p99 latency 900 ms over 500 ms',
      steps: {
        ...liveRun().steps,
        verify: { status: 'failed', attempts: 1 },
      },
    });
    assert.equal(
      runEndLine(run),
      'run home-train-7: failed at verify: p99 latency 900 ms over 500 ms',
    );
  });
});

describe('start: phase lines on a pipe', () => {
  it('one line per finished phase with its duration; progress indented; nothing animated', () => {
    const lines: string[] = [];
    const narrator = createNarrator({ err: (line) => lines.push(line), tty: false });
    narrator.begin('deploy', 'starting the revision');
    narrator.progress('waiting for the model to load');
    narrator.end('ok', 'built, ef 120', { phase: 'index', seconds: 2.3 });
    narrator.end('ok', 'revision r1 with 0% traffic', { seconds: 6 });
    narrator.begin('verify', 'checks');
    narrator.end('failed', 'failed: latency', { seconds: 130 });
    assert.deepEqual(lines, [
      '  waiting for the model to load',
      '✔ index: built, ef 120 (2.3 s)',
      '✔ deploy: revision r1 with 0% traffic (6.0 s)',
      '✖ verify: failed: latency (2 min 10 s)',
    ]);
  });
});

describe('start: stop signals', () => {
  let clock = 0;
  const insisted: StopSignal[] = [];
  let signals: ReturnType<typeof watchStopSignals> | undefined;
  let source: EventEmitter;
  beforeEach(() => {
    clock = 0;
    insisted.length = 0;
    source = new EventEmitter();
    signals = watchStopSignals({ onInsist: (s) => insisted.push(s), now: () => clock, source });
  });
  afterEach(() => {
    signals?.dispose();
    assert.equal(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM'), 0);
  });

  it('the first signal asks for the stop once; a copy within the window is the same request', async () => {
    source.emit('SIGINT');
    clock = 999;
    source.emit('SIGINT');
    source.emit('SIGTERM');
    assert.equal(await signals?.requested, 'SIGINT');
    assert.equal(signals?.signal.aborted, true);
    assert.deepEqual(insisted, []);
  });

  it('a signal after the window, while the stop runs, insists (forces it)', () => {
    source.emit('SIGTERM');
    clock = 1_000;
    source.emit('SIGINT');
    assert.deepEqual(insisted, ['SIGINT']);
  });
});
