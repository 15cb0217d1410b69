/**
 * What `npm run rehearse` prints once the sample run has ended: where the
 * model answers, and a request a person can paste. Serving services are
 * private, as on Cloud Run: the request carries an ID token for the
 * service's URL, minted by the rehearsal's metadata server exactly as the
 * verify function gets its own.
 */
import type { RunStatus } from '@recdeploy/shared';

export interface RehearsalEndpoints {
  readonly projectId: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly statusReason?: string;
  readonly dashboardUrl: string;
  /** host:port of the metadata server (GCE_METADATA_HOST). */
  readonly metadataHost: string;
  readonly serviceUrl?: string;
  readonly revision?: string;
  readonly modelName: string;
  /** One instance of the bundle's examples, for the printed request. */
  readonly exampleInstance: unknown;
}

/** The endpoints as lines for a person. */
export function describeEndpoints(endpoints: RehearsalEndpoints): string {
  const lines = [
    `run ${endpoints.runId}: ${endpoints.status}${endpoints.statusReason ? ` (${endpoints.statusReason})` : ''}`,
    `dashboard: ${endpoints.dashboardUrl}`,
  ];
  if (endpoints.serviceUrl === undefined) return lines.join('\n');
  const identity = `http://${endpoints.metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${endpoints.serviceUrl}`;
  const body = JSON.stringify({ instances: [endpoints.exampleInstance] });
  lines.push(
    `service: ${endpoints.serviceUrl} (revision ${endpoints.revision ?? 'unknown'}; private: it wants an ID token for its URL)`,
    'try:',
    `  TOKEN=$(curl -s -H 'Metadata-Flavor: Google' '${identity}')`,
    `  curl -s -H "Authorization: Bearer $TOKEN" -d '${body}' ${endpoints.serviceUrl}/v1/models/${endpoints.modelName}:predict`,
  );
  return lines.join('\n');
}
