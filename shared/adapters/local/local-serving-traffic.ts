import type { ServiceTraffic } from '../../ports/serving-platform.port.js';
import { baseUrl } from './local-revision-launcher.js';
import type { RevisionRecord, ServiceRecord, StoredShare } from './local-serving-records.js';

/**
 * A service's traffic as the local platform reports it (what its router
 * serves): every revision with a share at its percent, every other revision
 * still starting or ready at 0%, each with its tag URL, in deployment order.
 * `liveRevision` only when one revision has all the traffic.
 */
export function serviceTrafficOf(
  service: ServiceRecord,
  shares: readonly StoredShare[],
  revisions: readonly RevisionRecord[],
  host: string,
): ServiceTraffic {
  const percents = new Map(shares.map((share) => [share.revision, share.percent]));
  const targets = revisions
    .filter((r) => percents.has(r.revision) || r.state === 'ready' || r.state === 'starting')
    .map((r) => ({
      revision: r.revision,
      percent: percents.get(r.revision) ?? 0,
      tag: r.spec.tag,
      url: baseUrl(host, r.port),
    }));
  const live = shares.length === 1 && shares[0]?.percent === 100 ? shares[0].revision : undefined;
  return {
    service: service.name,
    serviceUrl: baseUrl(host, service.routerPort),
    ...(live !== undefined && { liveRevision: live }),
    ...(service.previousRevision !== undefined && {
      previousRevision: service.previousRevision,
    }),
    targets,
  };
}
