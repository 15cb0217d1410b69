/**
 * A loopback stand-in for the metadata server Cloud Run and Cloud Functions
 * give every instance, answering what google-auth-library (through
 * gcp-metadata) asks when GCE_METADATA_HOST points at it:
 * - `GET /computeMetadata/v1/instance`: gcp-metadata's isAvailable() ping
 *   (node_modules/gcp-metadata/build/src/index.js, isAvailable);
 * - `project/project-id`, `universe/universe-domain`: GoogleAuth's project and
 *   universe look-ups (google-auth-library googleauth.js, getGCEProjectId,
 *   getUniverseDomainFromMetadataServer);
 * - `instance/service-accounts/{default|email}/identity?audience=…&format=full`:
 *   an ID token (computeclient.js, fetchIdToken), and `…/token`, `…/email`.
 * Every request must carry `Metadata-Flavor: Google` and every answer does
 * (gcp-metadata refuses an answer without it: "Invalid response from
 * metadata service: incorrect Metadata-Flavor header"); a request without it
 * is refused with 403 (https://cloud.google.com/compute/docs/metadata/querying-metadata,
 * "Query metadata": the header is required; the body wording is inferred).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IdTokenIssuer } from './id-token.js';

const PREFIX = '/computeMetadata/v1/';

export interface MetadataServer {
  /** `127.0.0.1:PORT`, the value for GCE_METADATA_HOST. */
  readonly host: string;
  close(): Promise<void>;
}

export interface MetadataServerOptions {
  readonly projectId: string;
  readonly issuer: IdTokenIssuer;
}

export async function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  const server = http.createServer((request, response) => {
    const answer = metadataAnswer(options, request);
    response.writeHead(answer.status, {
      'metadata-flavor': 'Google',
      'content-type': answer.json ? 'application/json' : 'application/text',
    });
    response.end(answer.json ? JSON.stringify(answer.json) : answer.text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The environment that makes google-auth-library in a process use this server. */
export function metadataEnv(host: string): Record<string, string> {
  return {
    GCE_METADATA_HOST: host,
    // Skips gcp-metadata's detection ping (and its BIOS probe); the ping would
    // also succeed, but a process on a machine without a metadata server
    // should not wait for it (gcp-metadata METADATA_SERVER_DETECTION).
    METADATA_SERVER_DETECTION: 'assume-present',
  };
}

interface Answer {
  readonly status: number;
  readonly text?: string;
  readonly json?: object;
}

function metadataAnswer(options: MetadataServerOptions, request: http.IncomingMessage): Answer {
  if (request.headers['metadata-flavor'] !== 'Google') {
    return { status: 403, text: 'Missing required header "Metadata-Flavor": "Google"\n' };
  }
  const url = new URL(request.url ?? '/', 'http://metadata');
  if (!url.pathname.startsWith(PREFIX)) return { status: 404, text: 'Not Found\n' };
  const key = url.pathname.slice(PREFIX.length).replace(/\/$/, '');
  const { issuer } = options;
  switch (key) {
    case 'instance':
      return { status: 200, text: 'attributes/\nid\nservice-accounts/\nzone\n' };
    case 'project/project-id':
      return { status: 200, text: options.projectId };
    case 'universe/universe-domain':
      return { status: 200, text: 'googleapis.com' };
  }
  const account = /^instance\/service-accounts\/([^/]+)\/(email|identity|token)$/.exec(key);
  if (!account || (account[1] !== 'default' && account[1] !== issuer.email)) {
    return { status: 404, text: 'Not Found\n' };
  }
  switch (account[2]) {
    case 'email':
      return { status: 200, text: issuer.email };
    case 'token':
      // Only the shape matters: no Google API here checks access tokens.
      return {
        status: 200,
        json: { access_token: 'rehearsal-access-token', expires_in: 3599, token_type: 'Bearer' },
      };
    default: {
      const audience = url.searchParams.get('audience');
      if (!audience) return { status: 400, text: 'non-empty audience parameter required\n' };
      return { status: 200, text: issuer.mint(audience) };
    }
  }
}
