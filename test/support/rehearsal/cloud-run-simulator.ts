/**
 * The rehearsal's Cloud Run: the stateful Admin API v2 fake
 * (test/support/fakes/cloud-run-fake.ts, over real gRPC) given a revision
 * host that really runs each revision (revision-processes.ts) and serves the
 * service and tag URLs on loopback (service-router.ts), plus the metadata
 * server that mints the ID tokens those URLs check (metadata-server.ts).
 * Revision containers get the metadata server's env too, as every Cloud Run
 * instance has one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudRunFake } from '../fakes/cloud-run-fake.js';
import type { RevisionHost } from '../fakes/cloud-run-fake-wire.js';
import { IdTokenIssuer } from './id-token.js';
import { metadataEnv, startMetadataServer } from './metadata-server.js';
import { RevisionProcesses } from './revision-processes.js';
import { ServiceRouters } from './service-router.js';

export interface CloudRunSimulatorOptions {
  readonly projectId: string;
  readonly region: string;
  /** Env added to every revision process (STORAGE_EMULATOR_HOST, …), after the template's env. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Multiplies the template's startup probe durations (e.g. 0.05 in tests). Default 1. */
  readonly probeScale?: number;
  /** The e-mail in the metadata server's ID tokens. Default `rehearsal@{projectId}.iam.gserviceaccount.com`. */
  readonly serviceAccountEmail?: string;
}

export interface CloudRunSimulator {
  /** Host of the Admin API fake ('127.0.0.1'): `apiEndpoint` with `port`, insecure, as fakeClientOptions(port) gives. */
  readonly apiEndpoint: string;
  readonly port: number;
  /** `host:port` of the metadata server, for GCE_METADATA_HOST. */
  readonly metadataHost: string;
  /** The env that makes google-auth-library in a process mint ID tokens here. */
  readonly metadataEnv: Readonly<Record<string, string>>;
  /** The fake itself, for its test controls (service(id), requests, failRevision, …). */
  readonly fake: CloudRunFake;
  /** A revision process's log file (stdout and stderr). */
  logFile(revision: string): string;
  /** SIGKILLs every revision's process group; stops the routers, the metadata server and the fake. */
  close(): Promise<void>;
}

export async function startCloudRunSimulator(
  options: CloudRunSimulatorOptions,
): Promise<CloudRunSimulator> {
  const issuer = new IdTokenIssuer(
    options.serviceAccountEmail ?? `rehearsal@${options.projectId}.iam.gserviceaccount.com`,
  );
  const metadata = await startMetadataServer({ projectId: options.projectId, issuer });
  const env = metadataEnv(metadata.host);
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'cloud-run-simulator-'));
  const processes = new RevisionProcesses({
    logDir,
    extraEnv: { ...env, ...options.extraEnv },
    ...(options.probeScale !== undefined && { probeScale: options.probeScale }),
  });
  const routers = new ServiceRouters(processes, issuer);
  const host: RevisionHost = {
    start: (serviceId, revision, template) => processes.start(serviceId, revision, template),
    state: (revision) => processes.state(revision),
    urls: (serviceId, tags) => routers.urls(serviceId, tags),
    route: (serviceId, serving) => routers.route(serviceId, serving),
  };
  const fake = new CloudRunFake({
    project: options.projectId,
    region: options.region,
    revisionHost: host,
  });
  const port = await fake.start();
  return {
    apiEndpoint: '127.0.0.1',
    port,
    metadataHost: metadata.host,
    metadataEnv: env,
    fake,
    logFile: (revision) => processes.logFile(revision),
    close: async () => {
      await processes.close();
      await routers.close();
      await metadata.close();
      await fake.stop();
      await rm(logDir, { recursive: true, force: true });
    },
  };
}
