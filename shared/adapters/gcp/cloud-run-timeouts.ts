/**
 * How long CloudRunPlatform waits for Cloud Run to finish reconciling one
 * write. The function time budgets (deploy/delivery-budget.ts) add these to
 * the other bounded waits of a delivery, so they are named here once.
 */

/**
 * A deploy: the new revision must start and pass its startup probe, which
 * alone allows 240 s for a model to load (STARTUP_PROBE_TIMING).
 */
export const CLOUD_RUN_READY_TIMEOUT_MS = 300_000;

/**
 * A traffic-only write (promote, rollback, split, discard): no revision
 * starts, only routing changes, which Cloud Run applies in seconds; two
 * minutes absorb a slow control plane. Past it the call fails as transient
 * and the redelivered event finds the write done or does it again.
 */
export const CLOUD_RUN_TRAFFIC_TIMEOUT_MS = 120_000;
