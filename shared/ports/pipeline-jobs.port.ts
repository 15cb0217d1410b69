/**
 * Resolves a finished Vertex AI PipelineJob (reported by a log sink) into the
 * fields of a training-completed message (../reference/vertex-pipeline-outputs.md).
 */
import type { TrainingCompletedV1 } from '@recdeploy/events';

export type ResolvedPipelineJob =
  /** The job pushed a model: deploy it like a training-completed message. */
  | { readonly kind: 'pushed'; readonly message: TrainingCompletedV1; readonly pipelineJob: string }
  /** The job finished without a model to deploy (not pushed, failed, cancelled). */
  | { readonly kind: 'nothing_to_deploy'; readonly reason: string; readonly pipelineJob: string };

export interface PipelineJobs {
  /**
   * Reads the job and derives the training-completed fields.
   * @throws PermanentError `PIPELINE.NOT_FOUND` (acknowledge and record),
   *   `PIPELINE.INVALID` when its outputs cannot be read;
   *   TransientError `PIPELINE.NOT_FINISHED` while it is still running, and on
   *   passing failures.
   */
  resolve(pipelineJobName: string): Promise<ResolvedPipelineJob>;
  close(): Promise<void>;
}
