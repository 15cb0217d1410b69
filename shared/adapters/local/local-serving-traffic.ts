import type { ServiceTraffic } from '../../ports/serving-platform.port.js';
import { baseUrl } from './local-revision-launcher.js';
import type { RevisionRecord, ServiceRecord } from './local-serving-records.js';

/**
 * A service's traffic as the local platform reports it (what its router
 * serves): the live revision at 100%, and every revision still starting or
 * ready at 0% with its tag URL.
 */
export function serviceTrafficOf(
  service: ServiceRecord,
  revisions: readonly RevisionRecord[],
  host: string,
): ServiceTraffic {
  const targets = revisions
    .filter(
      (r) => r.revision === service.liveRevision || r.state === 'ready' || r.state === 'starting',
    )
    .map((r) => ({
      revision: r.revision,
      percent: r.revision === service.liveRevision ? 100 : 0,
      tag: r.spec.tag,
      url: baseUrl(host, r.port),
    }));
  return {
    service: service.name,
    serviceUrl: baseUrl(host, service.routerPort),
    ...(service.liveRevision !== undefined && { liveRevision: service.liveRevision }),
    ...(service.previousRevision !== undefined && {
      previousRevision: service.previousRevision,
    }),
    targets,
  };
}
