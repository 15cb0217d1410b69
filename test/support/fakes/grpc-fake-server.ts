/**
 * Building blocks for local gRPC fakes of Google APIs, served from the protos
 * the client packages ship (/work/shared/reference/grpc-fakes.md): proto
 * loading, a server on a free loopback port, gRPC errors, and long-running
 * operations whose responses are packed the way the real API packs them.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

export type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;

/** Walks up from a file until a folder holding `package.json` (exports may hide it). */
export function packageRoot(entryFile: string): string {
  let dir = path.dirname(entryFile);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${entryFile}`);
    dir = parent;
  }
  return dir;
}

/** The proto folders of a client package and of its google-gax. */
export function protoDirs(clientPackage: string): { client: string; gax: string } {
  const require = createRequire(import.meta.url);
  const main = require.resolve(clientPackage);
  const root = packageRoot(main);
  const gaxRoot = packageRoot(createRequire(main).resolve('google-gax'));
  return { client: path.join(root, 'build/protos'), gax: path.join(gaxRoot, 'build/protos') };
}

/**
 * Loads proto files from the client package's protos; returns the package
 * object tree. With `wireOnly`, handlers see no default values or oneof
 * virtual fields: a recorded request then holds exactly the fields that were
 * on the wire.
 */
export function loadGrpcPackage(
  clientPackage: string,
  protoFiles: string | readonly string[],
  options: { readonly wireOnly?: boolean } = {},
): grpc.GrpcObject {
  const dirs = protoDirs(clientPackage);
  const definition = protoLoader.loadSync(protoFiles as string | string[], {
    includeDirs: [dirs.client, dirs.gax],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: !options.wireOnly,
    oneofs: !options.wireOnly,
  });
  return grpc.loadPackageDefinition(definition);
}

/** Finds a service definition by its dotted name, e.g. `google.cloud.run.v2.Services`. */
export function serviceDefinition(root: grpc.GrpcObject, dotted: string): grpc.ServiceDefinition {
  let node: unknown = root;
  for (const part of dotted.split('.'))
    node = (node as Record<string, unknown> | undefined)?.[part];
  const service = (node as { service?: grpc.ServiceDefinition } | undefined)?.service;
  if (service === undefined) throw new Error(`service ${dotted} not found in protos`);
  return service;
}

/** A protobufjs root over the client package's protos, for packing Any values. */
export function protobufRoot(clientPackage: string, protoFiles: readonly string[]): protobuf.Root {
  const dirs = protoDirs(clientPackage);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of [dirs.client, dirs.gax]) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(protoFiles as string[], { keepCase: false });
  return root;
}

/** `google.protobuf.Any` holding `value` encoded as `typeName`. */
export function packAny(
  root: protobuf.Root,
  typeName: string,
  value: Record<string, unknown>,
): { typeUrl: string; value: Buffer } {
  const type = root.lookupType(typeName);
  const message = type.fromObject(value);
  return {
    typeUrl: `type.googleapis.com/${typeName}`,
    value: Buffer.from(type.encode(message).finish()),
  };
}

export function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata: new grpc.Metadata(),
  });
}

/** Starts `server` on a free loopback port. */
export async function listenOnLoopback(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}

/** Stops `server`, cancelling calls still open. */
export async function shutdown(server: grpc.Server): Promise<void> {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  server.forceShutdown();
}

/** Client options that make a gax client talk plaintext to a fake on `port`, with no credentials. */
export function fakeClientOptions(port: number): {
  apiEndpoint: string;
  port: number;
  sslCreds: grpc.ChannelCredentials;
  projectId: string;
} {
  return {
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: grpc.credentials.createInsecure(),
    projectId: 'test-project',
  };
}
