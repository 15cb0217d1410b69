/**
 * Reads the live revision's replay sample through the artifact store, so the
 * store's rules apply: on one machine only below ARTIFACT_ROOTS (the local
 * stack's default base `<dataDir>/replay` is inside its data directory; a
 * base elsewhere must be added to ARTIFACT_ROOTS), in the cloud the artifact
 * bucket with the verify function's identity. Whatever is wrong (no file
 * yet, unreadable, not a sample, empty) comes back as the reason the replay
 * check is skipped; nothing here throws for a bad sample.
 */
import { parseReplaySample } from '../ann/bundle/replay-sample.js';
import { RecdeployError } from '../errors.js';
import type { ArtifactStore } from '../ports/artifact-store.port.js';
import type { ReplayInput } from './replay-input.js';

/** A sample of 10,000 instances with a few dozen inputs each stays far below this. */
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;

export interface LiveSide {
  readonly sampleUri: string;
  readonly liveRevision: string;
  readonly liveUrl: string;
  readonly minOverlap?: number;
}

export async function readReplaySample(
  artifacts: Pick<ArtifactStore, 'readText'>,
  live: LiveSide,
): Promise<ReplayInput> {
  const { sampleUri, liveRevision } = live;
  let text: string;
  try {
    text = await artifacts.readText(sampleUri, MAX_SAMPLE_BYTES);
  } catch (error) {
    if (error instanceof RecdeployError && error.code === 'ARTIFACT.NOT_FOUND') {
      return {
        notRun: `not run: no sample yet: live revision ${liveRevision} has not written ${sampleUri} (it writes one once it has served predict requests, every REPLAY_PERSIST_INTERVAL_S)`,
      };
    }
    if (error instanceof RecdeployError && error.code.startsWith('ARTIFACT.')) {
      return { notRun: `not run: the sample ${sampleUri} cannot be read: ${error.message}` };
    }
    throw error;
  }
  const parsed = parseReplaySample(text);
  if ('problem' in parsed) {
    return { notRun: `not run: ${sampleUri} is not a replay sample: ${parsed.problem}` };
  }
  const { sample } = parsed;
  if (sample.instances.length === 0) {
    return {
      notRun: `not run: the sample ${sampleUri} of live revision ${liveRevision} holds no instances yet (written ${sample.written_at}, ${sample.seen} seen)`,
    };
  }
  return {
    sampleUri,
    sampledAt: sample.written_at,
    liveRevision,
    liveUrl: live.liveUrl,
    instances: sample.instances,
    ...(live.minOverlap === undefined ? {} : { minOverlap: live.minOverlap }),
  };
}
