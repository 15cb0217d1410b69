/**
 * Runs with a history: numbered runs of one endpoint, each with its own
 * figures, and a clock that spreads their writes over hours or days, so a
 * test can show the dashboard a store as it looks after a while.
 */
import { sampleRunFixture, type RunFixture } from './chain-walk.js';

/** Between two writes read from a StepClock. */
export const WRITE_GAP_MS = 2_000;

export interface RunFigures {
  /** The training event's metrics. */
  readonly recallAt100: number;
  readonly loss: number;
  /** The verification's. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly annRecall: number;
}

/** Run n of recs-home (training run train-00n), with these figures. */
export function numberedRun(n: number, figures: RunFigures): RunFixture {
  const base = sampleRunFixture(
    {
      runNumber: n,
      trainingRunId: `train-00${n}`,
      metrics: { recall_at_100: figures.recallAt100, loss: figures.loss },
    },
    `c0ffee0${n}`,
  );
  return {
    ...base,
    verification: {
      ...base.verification,
      latencyP50Ms: figures.p50Ms,
      latencyP99Ms: figures.p99Ms,
      recallAtK: { k: 10, recall: figures.annRecall },
    },
  };
}

/** The clock writes read (WalkOptions.clock): `at` sets it; each read is WRITE_GAP_MS after the one before. */
export class StepClock {
  private next: number;

  constructor(start: number) {
    this.next = start;
  }

  at(ms: number): void {
    this.next = ms;
  }

  readonly read = (): Date => {
    const now = new Date(this.next);
    this.next += WRITE_GAP_MS;
    return now;
  };
}
