/**
 * A ServingPlatform in memory, for tests of the use cases that move traffic
 * (canary ticks). It follows the port's contract as both real adapters
 * implement it (test/integration/local-traffic-split.test.ts and
 * cloud-run-traffic-split.test.ts check those): a split must name existing
 * revisions with whole percents totalling 100, the same split again changes
 * nothing, promote remembers the largest other share as previous, discard
 * refuses a revision with traffic. `crash` makes the next call of a method
 * fail before or after its change takes effect, as a process killed there would.
 */
import { PermanentError } from '@recdeploy/shared';
import type {
  DeployedRevision,
  RevisionSpec,
  ServiceTraffic,
  ServingPlatform,
  TrafficShare,
} from '@recdeploy/shared';

type Method = 'splitTraffic' | 'promote';

export class MemoryPlatform implements ServingPlatform {
  /** Every change of traffic actually made: `service: revision=percent,…`. */
  readonly changes: string[] = [];
  readonly discarded: string[] = [];
  private readonly shares = new Map<string, Map<string, number>>();
  private readonly previous = new Map<string, string>();
  private readonly revisions = new Map<string, Set<string>>();
  private readonly crashes = new Map<Method, 'before' | 'after'>();
  private readonly audiences = new Map<string, string>();

  /** A service serving `live` at 100%, with `others` deployed at 0%. */
  addService(service: string, live: string, others: readonly string[]): void {
    this.revisions.set(service, new Set([live, ...others]));
    this.shares.set(service, new Map([[live, 100]]));
  }

  /** Gives `service` a custom ID-token audience, as Cloud Run's `customAudiences` would. */
  setIdTokenAudience(service: string, audience: string): void {
    this.audiences.set(service, audience);
  }

  crash(method: Method, when: 'before' | 'after'): void {
    this.crashes.set(method, when);
  }

  deployRevision(spec: RevisionSpec): Promise<DeployedRevision> {
    const known = this.revisions.get(spec.service) ?? new Set<string>();
    known.add(spec.revision);
    this.revisions.set(spec.service, known);
    return Promise.resolve({
      service: spec.service,
      revision: spec.revision,
      tagUrl: `http://${spec.tag}.test`,
      serviceUrl: `http://${spec.service}.test`,
      ...this.audienceOf(spec.service),
    });
  }

  async splitTraffic(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic> {
    const total = split.reduce((sum, share) => sum + share.percent, 0);
    const known = this.revisions.get(service);
    if (total !== 100 || split.some((share) => !known?.has(share.revision))) {
      throw new PermanentError('PLATFORM.REJECTED', `split ${JSON.stringify(split)} refused`);
    }
    return this.change('splitTraffic', service, new Map(split.map((s) => [s.revision, s.percent])));
  }

  async promote(service: string, revision: string): Promise<ServiceTraffic> {
    const largestOther = [...(this.shares.get(service) ?? new Map<string, number>()).entries()]
      .filter(([name]) => name !== revision)
      .sort((a, b) => b[1] - a[1])[0]?.[0];
    const traffic = await this.change('promote', service, new Map([[revision, 100]]));
    if (largestOther !== undefined) this.previous.set(service, largestOther);
    return traffic;
  }

  rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    const target = toRevision ?? this.previous.get(service);
    if (target === undefined)
      throw new PermanentError('PLATFORM.NOT_FOUND', 'nothing to roll back to');
    return this.change(undefined, service, new Map([[target, 100]]));
  }

  discardRevision(service: string, revision: string): Promise<void> {
    if ((this.shares.get(service)?.get(revision) ?? 0) > 0) {
      return Promise.reject(new PermanentError('PLATFORM.REJECTED', `${revision} has traffic`));
    }
    this.discarded.push(revision);
    return Promise.resolve();
  }

  describe(service: string): Promise<ServiceTraffic | undefined> {
    const shares = this.shares.get(service);
    return Promise.resolve(shares === undefined ? undefined : this.trafficOf(service, shares));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The canary's current percent on `service`. */
  percentOf(service: string, revision: string): number {
    return this.shares.get(service)?.get(revision) ?? 0;
  }

  private async change(
    method: Method | undefined,
    service: string,
    next: Map<string, number>,
  ): Promise<ServiceTraffic> {
    const crash = method === undefined ? undefined : this.crashes.get(method);
    if (method !== undefined) this.crashes.delete(method);
    if (crash === 'before') throw new Error(`crash before ${method}`);
    const current = this.shares.get(service) ?? new Map<string, number>();
    const same =
      current.size === next.size &&
      [...next.entries()].every(([revision, percent]) => current.get(revision) === percent);
    if (!same) {
      this.shares.set(service, next);
      this.changes.push(
        `${service}: ${[...next.entries()].map(([r, p]) => `${r}=${p}`).join(',')}`,
      );
    }
    if (crash === 'after') throw new Error(`crash after ${method}`);
    await Promise.resolve();
    return this.trafficOf(service, next);
  }

  private trafficOf(service: string, shares: Map<string, number>): ServiceTraffic {
    const live = [...shares.entries()].find(([, percent]) => percent === 100)?.[0];
    const previous = this.previous.get(service);
    return {
      service,
      serviceUrl: `http://${service}.test`,
      ...this.audienceOf(service),
      ...(live === undefined ? {} : { liveRevision: live }),
      ...(previous === undefined ? {} : { previousRevision: previous }),
      targets: [...shares.entries()].map(([revision, percent]) => ({ revision, percent })),
    };
  }

  private audienceOf(service: string): { idTokenAudience?: string } {
    const audience = this.audiences.get(service);
    return audience === undefined ? {} : { idTokenAudience: audience };
  }
}
