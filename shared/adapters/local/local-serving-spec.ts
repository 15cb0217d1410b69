import { PermanentError } from '../../errors.js';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';

/** Cloud Run's resource-name shape: lowercase letters, digits and inner hyphens. */
const NAME = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;
const RUNTIMES = new Set(['tf-serving', 'ann-serving']);

/**
 * Refuses a spec the local platform cannot run, with every problem named.
 * Service and revision names also become log file names, so the Cloud Run
 * naming rules (which exclude `/` and `..`) are enforced here too.
 */
export function validateLocalRevisionSpec(spec: RevisionSpec): void {
  const problems: string[] = [];
  if (!NAME.test(spec.service) || spec.service.length >= 50) {
    problems.push(
      `service "${spec.service}" must be lowercase letters, digits and "-", start with a letter and be shorter than 50 characters`,
    );
  }
  if (!NAME.test(spec.revision) || spec.revision.length > 63) {
    problems.push(
      `revision "${spec.revision}" must be lowercase letters, digits and "-", start with a letter and be at most 63 characters`,
    );
  } else if (!spec.revision.startsWith(`${spec.service}-`)) {
    problems.push(`revision "${spec.revision}" must start with "${spec.service}-"`);
  }
  if (!RUNTIMES.has(spec.runtime)) problems.push(`runtime "${String(spec.runtime)}" is not known`);
  if (!spec.env.MODEL_PATH) problems.push('env has no MODEL_PATH (the model bundle to serve)');
  if (!spec.startupProbePath.startsWith('/')) {
    problems.push(`startupProbePath "${spec.startupProbePath}" must be a path starting with "/"`);
  }
  if (problems.length > 0) {
    throw new PermanentError(
      'PLATFORM.REJECTED',
      `revision spec cannot run locally: ${problems.join('; ')}`,
      { metadata: { service: spec.service, revision: spec.revision } },
    );
  }
}
