/**
 * What the predict handler feeds: every instance of a successful live
 * predict is offered to a reservoir of REPLAY_SAMPLE_SIZE. Requests carrying
 * the verification header are verify's own queries, not live traffic, and
 * are left out. Of a request, only its instances are looked at; the header
 * is read to decide, never kept.
 */
import {
  REPLAY_SAMPLE_FORMAT_VERSION,
  VERIFICATION_HEADER,
  type ReplayInstance,
  type ReplaySample,
} from '@recdeploy/shared/ann';
import type { Instance } from '../protocol/instances.js';
import { isReplayable, toReplayInstance } from './replay-instance.js';
import { Reservoir, type RandomSource } from './reservoir.js';

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface ReplaySamplerOptions {
  readonly capacity: number;
  readonly modelName: string;
  readonly trainingRunId?: string | undefined;
  /** Default Math.random. */
  readonly random?: RandomSource;
  /** Default the system clock. */
  readonly now?: () => Date;
}

export class ReplaySampler {
  private readonly reservoir: Reservoir<ReplayInstance>;
  private readonly now: () => Date;
  private samplingSince: string;

  constructor(private readonly options: ReplaySamplerOptions) {
    this.reservoir = new Reservoir(options.capacity, options.random);
    this.now = options.now ?? (() => new Date());
    this.samplingSince = this.now().toISOString();
  }

  /** Instances held now. */
  get size(): number {
    return this.reservoir.size;
  }

  /** Changes whenever the held instances or the count do. */
  get version(): number {
    return this.reservoir.version;
  }

  /** Offers the instances of one answered (200) predict request. */
  record(instances: readonly Instance[], headers: RequestHeaders): void {
    if (headers[VERIFICATION_HEADER] !== undefined) return;
    for (const instance of instances) {
      if (isReplayable(instance)) this.reservoir.offer(() => toReplayInstance(instance));
    }
  }

  /** Continues the reservoir a previous process of this revision wrote. */
  restore(sample: ReplaySample): void {
    this.reservoir.restore(sample.instances, sample.seen);
    this.samplingSince = sample.sampling_since;
  }

  /** The sample as the file holds it, stamped now. */
  snapshot(): ReplaySample {
    const { modelName, trainingRunId } = this.options;
    return {
      format_version: REPLAY_SAMPLE_FORMAT_VERSION,
      model_name: modelName,
      ...(trainingRunId === undefined ? {} : { training_run_id: trainingRunId }),
      written_at: this.now().toISOString(),
      sampling_since: this.samplingSince,
      seen: this.reservoir.seen,
      capacity: this.reservoir.capacity,
      instances: this.reservoir.items(),
    };
  }
}
