/**
 * Optional serving settings a training run may ask for (part of
 * training-completed v1). Bounds follow Cloud Run's limits, so a value Cloud
 * Run would refuse is rejected when the event arrives, not halfway through a
 * deployment.
 */
import { Type, type Static } from '@sinclair/typebox';

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
  },
  { description: 'serving settings requested for this run' },
);

/** Requested serving settings. */
export type DeploymentConfigV1 = Static<typeof DeploymentConfigV1Schema>;
