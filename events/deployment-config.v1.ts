/**
 * Optional serving settings a training run may ask for (part of
 * training-completed v1). Bounds follow Cloud Run's limits, so a value Cloud
 * Run would refuse is rejected when the event arrives, not halfway through a
 * deployment.
 */
import { Type, type Static } from '@sinclair/typebox';

/**
 * `deployment_config.rollout`: a run's request for a more careful rollout
 * than its endpoint's policy (a canary, smaller first step, longer hold,
 * stricter thresholds). The deploy step refuses what would be less careful.
 */
export const RolloutV1Schema = Type.Object(
  {
    strategy: Type.Optional(
      Type.Union([Type.Literal('all-at-once'), Type.Literal('canary')], {
        description: 'all-at-once: 100% in one move; canary: in steps judged on live traffic',
      }),
    ),
    steps: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), {
        minItems: 2,
        maxItems: 10,
        description: "the canary's traffic percent at each step, increasing, ending at 100",
      }),
    ),
    min_hold_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    min_requests: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    max_hold_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 604_800 })),
    max_error_ratio_increase: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_latency_p50_ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })),
    max_latency_p99_ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })),
    latency_tolerance_ms: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
    max_degenerate_increase: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { description: 'rollout requested for this run, within the operator policy' },
);

export type RolloutV1 = Static<typeof RolloutV1Schema>;

/** Schema of `deployment_config`. Every field is optional; extra fields are kept. */
export const DeploymentConfigV1Schema = Type.Object(
  {
    memory: Type.Optional(
      Type.String({
        maxLength: 16,
        pattern: '^[1-9][0-9]*(Ki|Mi|Gi|M|G)$',
        description: 'a Cloud Run memory limit such as 512Mi or 2Gi',
      }),
    ),
    cpu: Type.Optional(
      Type.String({
        maxLength: 16,
        pattern: '^([0-9]+(\\.[0-9]+)?|[1-9][0-9]*m)$',
        description: 'a Cloud Run CPU limit such as 1, 0.5 or 1000m',
      }),
    ),
    min_instances: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    max_instances: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    runtime: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[a-z][a-z0-9_-]*$',
        description: 'a runtime name overriding the routing policy',
      }),
    ),
    public: Type.Optional(Type.Boolean({ description: 'allow unauthenticated invocations' })),
    rollout: Type.Optional(RolloutV1Schema),
  },
  { description: 'serving settings requested for this run' },
);

/** Requested serving settings. */
export type DeploymentConfigV1 = Static<typeof DeploymentConfigV1Schema>;
