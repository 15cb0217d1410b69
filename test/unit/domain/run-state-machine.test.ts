import assert from 'node:assert/strict';
import {
  RUN_STATUSES,
  STEP_NAMES,
  STEP_STATUSES,
  chainRank,
  classifyTransition,
  compareRunRecency,
  findSupersedingRun,
  isSuperseded,
  isTerminal,
  stepOfStatus,
  type RunStatus,
  type SupersessionView,
  type TransitionKind,
} from '@recdeploy/shared';

/**
 * The expected machine, written out by hand (not derived from the code under
 * test): for each status, where it may go and which targets already happened.
 * Every pair not listed is illegal.
 */
const EXPECTED: Record<RunStatus, { legal: RunStatus[]; noop: RunStatus[] }> = {
  received: { legal: ['registering', 'failed', 'skipped'], noop: ['received'] },
  registering: { legal: ['registered', 'failed', 'skipped'], noop: ['received', 'registering'] },
  registered: {
    legal: ['deploying', 'failed', 'skipped'],
    noop: ['received', 'registering', 'registered'],
  },
  deploying: {
    legal: ['deployed', 'failed', 'skipped'],
    noop: ['received', 'registering', 'registered', 'deploying'],
  },
  deployed: {
    legal: ['verifying', 'failed', 'skipped'],
    noop: ['received', 'registering', 'registered', 'deploying', 'deployed'],
  },
  verifying: {
    legal: ['canary', 'live', 'failed', 'skipped'],
    noop: ['received', 'registering', 'registered', 'deploying', 'deployed', 'verifying'],
  },
  // A canary: verified, serving a share beside the live run; promoted (live) or aborted (rolled_back).
  canary: {
    legal: ['live', 'rolled_back', 'failed', 'skipped'],
    noop: ['received', 'registering', 'registered', 'deploying', 'deployed', 'verifying', 'canary'],
  },
  live: {
    legal: ['rolled_back', 'replaced'],
    noop: [
      'received',
      'registering',
      'registered',
      'deploying',
      'deployed',
      'verifying',
      'canary',
      'live',
    ],
  },
  failed: { legal: [], noop: ['failed'] },
  skipped: { legal: [], noop: ['skipped'] },
  rolled_back: {
    legal: [],
    noop: [
      'received',
      'registering',
      'registered',
      'deploying',
      'deployed',
      'verifying',
      'canary',
      'live',
      'rolled_back',
    ],
  },
  // Like rolled_back: terminal, ranked after live (a late "go live" already
  // happened), and no delivery moves it to rolled_back or back to failed.
  replaced: {
    legal: [],
    noop: [
      'received',
      'registering',
      'registered',
      'deploying',
      'deployed',
      'verifying',
      'canary',
      'live',
      'replaced',
    ],
  },
};

function expectedKind(from: RunStatus, to: RunStatus): TransitionKind {
  if (EXPECTED[from].legal.includes(to)) return 'legal';
  if (EXPECTED[from].noop.includes(to)) return 'noop';
  return 'illegal';
}

describe('run state machine', () => {
  describe('classifyTransition over every (from, to) pair', () => {
    for (const from of RUN_STATUSES) {
      for (const to of RUN_STATUSES) {
        const kind = expectedKind(from, to);
        it(`${from} → ${to} is ${kind}`, () => assert.equal(classifyTransition(from, to), kind));
      }
    }

    it('covers all 144 pairs, with 25 legal moves', () => {
      const kinds = RUN_STATUSES.flatMap((from) =>
        RUN_STATUSES.map((to) => classifyTransition(from, to)),
      );
      assert.equal(kinds.length, 144);
      assert.equal(kinds.filter((k) => k === 'legal').length, 25);
    });
  });

  it('has exactly failed, skipped, rolled_back and replaced as terminal statuses', () => {
    assert.deepEqual(
      RUN_STATUSES.filter((s) => isTerminal(s)),
      ['failed', 'skipped', 'rolled_back', 'replaced'],
    );
  });

  it('maps each step onto ready → running → done statuses', () => {
    assert.deepEqual(STEP_STATUSES, {
      register: { ready: 'received', running: 'registering', done: 'registered' },
      deploy: { ready: 'registered', running: 'deploying', done: 'deployed' },
      verify: { ready: 'deployed', running: 'verifying', done: 'live' },
    });
    for (const step of STEP_NAMES) {
      const { ready, running, done } = STEP_STATUSES[step];
      assert.equal(classifyTransition(ready, running), 'legal', `${step} starts`);
      assert.equal(classifyTransition(running, done), 'legal', `${step} finishes`);
    }
  });

  it('ranks replaced like rolled_back: after live, so a late go-live is a no-op', () => {
    assert.equal(chainRank('replaced'), chainRank('rolled_back'));
    assert.ok((chainRank('replaced') ?? -1) > (chainRank('live') ?? Infinity));
    assert.equal(chainRank('failed'), undefined);
    assert.equal(classifyTransition('replaced', 'live'), 'noop');
    assert.equal(classifyTransition('replaced', 'rolled_back'), 'illegal');
    assert.equal(classifyTransition('rolled_back', 'replaced'), 'illegal');
    assert.equal(classifyTransition('verifying', 'replaced'), 'illegal');
  });

  it('finds the step a status belongs to, and none for the others', () => {
    assert.deepEqual(stepOfStatus('registering'), { step: 'register', phase: 'running' });
    assert.deepEqual(stepOfStatus('registered'), { step: 'register', phase: 'done' });
    assert.deepEqual(stepOfStatus('deploying'), { step: 'deploy', phase: 'running' });
    assert.deepEqual(stepOfStatus('deployed'), { step: 'deploy', phase: 'done' });
    assert.deepEqual(stepOfStatus('verifying'), { step: 'verify', phase: 'running' });
    assert.deepEqual(stepOfStatus('live'), { step: 'verify', phase: 'done' });
    for (const status of ['received', 'failed', 'skipped', 'rolled_back', 'replaced'] as const) {
      assert.equal(stepOfStatus(status), undefined, status);
    }
  });

  describe('superseded rule', () => {
    const base: SupersessionView = {
      runId: 'ep-r5',
      modelEndpointId: 'ep',
      runNumber: 5,
      createdAt: '2030-01-01T00:00:00.000Z',
      status: 'deploying',
    };
    const other = (overrides: Partial<SupersessionView>): SupersessionView => ({
      ...base,
      runId: 'ep-other',
      ...overrides,
    });

    const cases: ReadonlyArray<[string, SupersessionView, boolean]> = [
      ['a newer live run supersedes', other({ runNumber: 6, status: 'live' }), true],
      ['a newer rolled-back run supersedes', other({ runNumber: 6, status: 'rolled_back' }), true],
      ['a newer replaced run supersedes', other({ runNumber: 6, status: 'replaced' }), true],
      ['an older replaced run does not', other({ runNumber: 4, status: 'replaced' }), false],
      ['an older live run does not', other({ runNumber: 4, status: 'live' }), false],
      ['a newer run still in flight does not', other({ runNumber: 6, status: 'verifying' }), false],
      ['a newer failed run does not', other({ runNumber: 6, status: 'failed' }), false],
      ['a newer skipped run does not', other({ runNumber: 6, status: 'skipped' }), false],
      [
        'a live run of another endpoint does not',
        other({ runNumber: 9, status: 'live', modelEndpointId: 'other-ep' }),
        false,
      ],
      [
        'same runNumber: the later completedAt supersedes',
        other({ status: 'live', completedAt: '2030-01-02T00:00:00.000Z' }),
        true,
      ],
      [
        'same runNumber and no completedAt: the later createdAt supersedes',
        other({ status: 'live', createdAt: '2030-01-01T00:00:01.000Z' }),
        true,
      ],
      [
        'same runNumber, earlier createdAt: does not',
        other({ status: 'live', createdAt: '2029-12-31T00:00:00.000Z' }),
        false,
      ],
      ['the run itself never does', { ...base, status: 'live' }, false],
    ];
    for (const [name, candidate, expected] of cases) {
      it(name, () => assert.equal(isSuperseded(base, [candidate]), expected));
    }

    it('a known completedAt outranks a missing one at equal runNumber', () => {
      const withTime = other({ completedAt: '2029-01-01T00:00:00.000Z' });
      assert.ok(compareRunRecency(withTime, base) > 0);
      assert.ok(compareRunRecency(base, withTime) < 0);
    });

    it('orders distinct runs strictly (runId breaks a full tie), and a run equals itself', () => {
      const twin = other({ runId: 'ep-r5b' });
      assert.ok(compareRunRecency(twin, base) > 0);
      assert.ok(compareRunRecency(base, twin) < 0);
      assert.equal(compareRunRecency(base, base), 0);
    });

    it('never supersedes a run an operator asked to deploy, whatever the others are', () => {
      const manual: SupersessionView = {
        ...base,
        manualDeploy: {
          requestedAt: '2030-01-02T00:00:00.000Z',
          allowUnblessed: false,
          fromStatus: 'skipped',
        },
      };
      const newer = [
        other({ runId: 'ep-r6', runNumber: 6, status: 'live' }),
        other({ runId: 'ep-r7', runNumber: 7, status: 'replaced' }),
        other({ runId: 'ep-r8', runNumber: 8, status: 'rolled_back' }),
      ];
      assert.equal(findSupersedingRun(manual, newer), undefined);
      assert.equal(isSuperseded(manual, newer), false);
      // The same run without the operator's request is superseded by them.
      assert.equal(findSupersedingRun(base, newer)?.runId, 'ep-r8');
    });

    it('a manually deployed newer run still supersedes older runs once it has been live', () => {
      const manualNewer = other({
        runId: 'ep-r6',
        runNumber: 6,
        status: 'live',
        manualDeploy: {
          requestedAt: '2030-01-02T00:00:00.000Z',
          allowUnblessed: true,
          fromStatus: 'replaced',
        },
      });
      assert.equal(findSupersedingRun(base, [manualNewer])?.runId, 'ep-r6');
    });

    it('returns the newest superseding run among several', () => {
      const found = findSupersedingRun(base, [
        other({ runId: 'ep-r6', runNumber: 6, status: 'live' }),
        other({ runId: 'ep-r8', runNumber: 8, status: 'rolled_back' }),
        other({ runId: 'ep-r9', runNumber: 9, status: 'deploying' }),
        other({ runId: 'ep-r7', runNumber: 7, status: 'live' }),
      ]);
      assert.equal(found?.runId, 'ep-r8');
    });
  });
});
