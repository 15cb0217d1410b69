/**
 * Named points where a process can be made to stop, so crash tests kill real
 * processes at exact moments instead of guessing with timers (the same idea
 * as etcd's gofail or FoundationDB's buggify, reduced to pausing).
 *
 * Inert unless RECDEPLOY_PAUSE_AT names the point (comma-separated names):
 * then the first process to reach it writes `{RECDEPLOY_PAUSE_DIR}/{name}`
 * (its pid) and waits for ever, for the test to SIGKILL its process group.
 * Only the first arrival pauses (the marker file is created exclusively), so
 * the restarted program runs through the same point. Never set in production.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Every point, in the order a run passes them. */
export const FAILPOINTS = [
  'register.before-registry',
  'register.after-registry',
  'register.after-complete',
  'deploy.during-index-build',
  'deploy.before-revision',
  'deploy.after-revision-ready',
  'deploy.after-complete',
  'verify.before-traffic',
  'verify.after-traffic',
  'verify.after-complete',
] as const;

/** Points of a canary rollout's ticks (test/integration/stack/canary-*.test.ts). */
export const CANARY_FAILPOINTS = [
  'canary.before-split',
  'canary.after-split',
  'canary.before-promote',
  'canary.after-promote',
  'canary.after-restore',
] as const;
export type Failpoint = (typeof FAILPOINTS)[number] | (typeof CANARY_FAILPOINTS)[number];

export async function failpoint(name: Failpoint): Promise<void> {
  const wanted = process.env.RECDEPLOY_PAUSE_AT;
  if (wanted === undefined || wanted === '' || !wanted.split(',').includes(name)) return;
  const dir = process.env.RECDEPLOY_PAUSE_DIR ?? '.';
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), `${process.pid}\n`, { flag: 'wx' });
  } catch {
    return; // Already paused once here (or nowhere to say so): run through.
  }
  await new Promise<never>(() => undefined);
}
