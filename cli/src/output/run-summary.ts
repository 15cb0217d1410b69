/** Short descriptions of a run's parts, shared by the runs table, status and the watch. */
import { STEP_NAMES, type RunDocument, type StepError } from '@recdeploy/shared';

/** `ann-serving/ann`, `tf-serving`, or `-` before the deploy step chose one. */
export function runtimeOf(run: RunDocument): string {
  const serving = run.serving;
  if (serving === undefined) return '-';
  return serving.mode === undefined ? serving.runtime : `${serving.runtime}/${serving.mode}`;
}

/**
 * The last thing that went wrong: why the run ended (failed, skipped, rolled
 * back), else the error of the latest step that has one (a passing failure
 * being retried). Undefined when nothing went wrong.
 */
export function lastError(run: RunDocument): string | undefined {
  if (run.statusReason !== undefined) return firstLine(run.statusReason);
  for (const step of [...STEP_NAMES].reverse()) {
    const error = run.steps[step].error;
    if (error !== undefined) return describeError(error);
  }
  return undefined;
}

/** `CODE: message` on one line. */
export function describeError(error: StepError): string {
  return `${error.code}: ${firstLine(error.message)}`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
