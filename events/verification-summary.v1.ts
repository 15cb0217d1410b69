/**
 * The verification summary inside deployment-finished v1: enough for another
 * system to see why a revision was (or was not) promoted, without reading the
 * run document. Mirrors the run document's `verification` in snake_case.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Text } from './fields.js';

/** Schema of `verification`. Extra fields are kept. */
export const VerificationSummaryV1Schema = Type.Object(
  {
    passed: Type.Boolean({ description: 'every check passed' }),
    checks: Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1, maxLength: 128 }),
        passed: Type.Boolean(),
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
  },
  { description: 'verification of the new revision before traffic moved' },
);

/** A validated verification summary. */
export type VerificationSummaryV1 = Static<typeof VerificationSummaryV1Schema>;
