/**
 * The verification summary inside deployment-finished v1: enough for another
 * system to see why a revision was (or was not) promoted, without reading the
 * run document. Mirrors the run document's `verification` in snake_case.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Id, MAX_URI_CHARS, Text } from './fields.js';

const Sha256 = (description: string) =>
  Type.String({ pattern: '^[0-9a-f]{64}$', description: `sha256 hex digest of ${description}` });
const Ratio = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Ms = (description: string) => Type.Number({ minimum: 0, description });

/** What the verified revision had to serve: the model's identity from training run to answer. */
export const FingerprintV1Schema = Type.Object(
  {
    training_run_id: Type.Optional(Id('the training run that produced the bundle, when it says')),
    id: Type.String({
      pattern: '^[0-9a-f]{16}$',
      description: 'short digest of both hashes, as sent in X-Recdeploy-Fingerprint',
    }),
    query_model_sha256: Sha256("the query model's weights"),
    candidates_sha256: Sha256('the candidate embeddings (candidates.f32)'),
  },
  { description: 'the model fingerprint the tagged revision served' },
);

/** Replay of real live queries against the candidate and the live revision. */
export const ReplayReportV1Schema = Type.Object(
  {
    sample_uri: Type.String({ minLength: 1, maxLength: MAX_URI_CHARS }),
    sampled_at: Type.Optional(DateTime('when the live revision last wrote the sample')),
    live_revision: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    queries: Type.Integer({ minimum: 0, description: 'instances replayed' }),
    k: Type.Integer({ minimum: 1 }),
    recall_at_k: Type.Optional(Ratio("candidate's ANN answers against its own exact search")),
    overlap_at_k: Type.Optional(Ratio('mean share of top-k ids candidate and live have in common')),
    degenerate_share: Ratio("share of the candidate's answers that were empty or degenerate"),
    candidate_latency_p50_ms: Ms('candidate p50 on the replayed queries'),
    candidate_latency_p99_ms: Ms('candidate p99 on the replayed queries'),
    live_latency_p50_ms: Type.Optional(Ms('live revision p50 on the same queries')),
    live_latency_p99_ms: Type.Optional(Ms('live revision p99 on the same queries')),
  },
  { description: 'replay of a sample of real predict instances before traffic moved' },
);

/** Schema of `verification`. Extra fields are kept. */
export const VerificationSummaryV1Schema = Type.Object(
  {
    passed: Type.Boolean({ description: 'every check passed' }),
    checks: Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1, maxLength: 128 }),
        passed: Type.Boolean(),
        skipped: Type.Optional(
          Type.Boolean({
            description:
              'the check could not run (passed is false) and did not count: e.g. replay with no sample of live queries yet',
          }),
        ),
        detail: Type.Optional(Text('what was measured or why it failed')),
      }),
      { maxItems: 100 },
    ),
    latency_p50_ms: Type.Optional(Type.Number({ minimum: 0 })),
    latency_p99_ms: Type.Optional(Type.Number({ minimum: 0 })),
    recall_at_k: Type.Optional(
      Type.Object({
        k: Type.Integer({ minimum: 1 }),
        recall: Type.Number({ minimum: 0, maximum: 1 }),
      }),
    ),
    fingerprint: Type.Optional(FingerprintV1Schema),
    replay: Type.Optional(ReplayReportV1Schema),
  },
  { description: 'verification of the new revision before traffic moved' },
);

/** A validated verification summary. */
export type VerificationSummaryV1 = Static<typeof VerificationSummaryV1Schema>;
/** A validated fingerprint inside the summary. */
export type FingerprintV1 = Static<typeof FingerprintV1Schema>;
/** A validated replay report inside the summary. */
export type ReplayReportV1 = Static<typeof ReplayReportV1Schema>;
