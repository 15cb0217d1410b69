/**
 * `model_available`: `GET /v1/models/{name}` reports a version AVAILABLE.
 * A revision that just became Ready may still be loading behind the tag URL
 * (or a proxy answers 5xx while an instance starts), so the status is polled
 * until `readyTimeoutMs` with a short, growing pause (the last request
 * starts at the deadline at the latest, so the check can take up to
 * readyTimeoutMs + requestTimeoutMs); a version in END with an error (its
 * load failed) ends the wait early.
 */
import type { VerificationCheck } from '../../domain/run-document.js';
import { truncateText } from '../../errors.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { preview } from '../format.js';
import { describeFailure, type RevisionResult } from '../revision-client.js';

const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2000;

interface VersionStatus {
  readonly version?: unknown;
  readonly state?: unknown;
  readonly status?: { readonly error_code?: unknown; readonly error_message?: unknown };
}

type Poll =
  | { readonly outcome: 'available'; readonly version: string }
  | { readonly outcome: 'failed'; readonly detail: string }
  | { readonly outcome: 'waiting'; readonly detail: string };

export async function checkModelAvailable(context: CheckContext): Promise<VerificationCheck> {
  const { client, thresholds } = context;
  const started = performance.now();
  const deadline = started + thresholds.readyTimeoutMs;
  let pause = FIRST_PAUSE_MS;
  let attempts = 0;
  for (;;) {
    attempts++;
    const poll = judge(await client.status());
    const now = performance.now();
    const elapsed = Math.round(now - started);
    if (poll.outcome === 'available') {
      return checkResult(
        CHECK_NAMES.modelAvailable,
        true,
        `version ${poll.version} AVAILABLE at ${client.modelUrl} ` +
          `(${requests(attempts)}, ${elapsed} ms)`,
      );
    }
    if (poll.outcome === 'failed' || now >= deadline) {
      const why = poll.outcome === 'failed' ? 'failed to load' : 'not AVAILABLE';
      return checkResult(
        CHECK_NAMES.modelAvailable,
        false,
        `${client.modelUrl} ${why} after ${elapsed} ms (${requests(attempts)}, ` +
          `readyTimeoutMs ${thresholds.readyTimeoutMs}); last answer: ${poll.detail}`,
      );
    }
    context.logger.debug('revision not AVAILABLE yet', { attempt: attempts, answer: poll.detail });
    // The last pause ends at the deadline, so the final status request is made there.
    await client.pause(Math.min(pause, deadline - now));
    pause = Math.min(MAX_PAUSE_MS, pause * 2);
  }
}

function judge(result: RevisionResult): Poll {
  if ('failure' in result || result.answer.status !== 200) {
    return { outcome: 'waiting', detail: describeFailure(result) };
  }
  let versions: unknown;
  try {
    versions = (JSON.parse(result.answer.body) as { model_version_status?: unknown })
      .model_version_status;
  } catch {
    return { outcome: 'waiting', detail: `HTTP 200 but not JSON: ${preview(result.answer.body)}` };
  }
  if (!Array.isArray(versions) || versions.length === 0) {
    return {
      outcome: 'waiting',
      detail: `no model_version_status in ${preview(result.answer.body)}`,
    };
  }
  const statuses = versions as VersionStatus[];
  const available = statuses.find((v) => v.state === 'AVAILABLE');
  if (available) return { outcome: 'available', version: String(available.version) };
  const described = statuses.map(describeVersion).join('; ');
  const loadFailed = statuses.every((v) => v.state === 'END' && v.status?.error_code !== 'OK');
  return { outcome: loadFailed ? 'failed' : 'waiting', detail: described };
}

function describeVersion(v: VersionStatus): string {
  const error = v.status?.error_message;
  const suffix = typeof error === 'string' && error !== '' ? ` (${truncateText(error, 200)})` : '';
  return `version ${String(v.version)} state ${String(v.state)}${suffix}`;
}

function requests(count: number): string {
  return `${count} status request${count === 1 ? '' : 's'}`;
}
