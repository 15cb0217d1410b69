/**
 * A loopback HTTP server speaking the part of the Cloud Storage JSON API that
 * `@google-cloud/storage` uses for ArtifactStore: list objects (prefix,
 * maxResults, pageToken), object metadata, media download (`alt=media`),
 * delete, and multipart upload (`uploadType=multipart`). Objects live in
 * memory; every request is recorded; the next requests can be made to fail.
 *
 * Point the real client at it with `fake.storageOptions()`. No credentials or
 * metadata server are needed: with a custom `apiEndpoint` the client does not
 * authorise requests at all (it only does when `useAuthWithCustomEndpoint` is
 * set), and it asks the auth library for a project id only when none is given
 * and the call needs one (object calls do not), so `projectId` is set anyway.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C, type StorageOptions } from '@google-cloud/storage';

export type GcsRequestKind = 'list' | 'metadata' | 'download' | 'upload' | 'delete' | 'other';

/** One request as the fake received it. */
export interface RecordedGcsRequest {
  readonly method: string;
  readonly kind: GcsRequestKind;
  /** The URL path, still percent-encoded. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly bucket?: string;
  /** Decoded object name (for uploads, `?name=` or else the name in the metadata part). */
  object?: string;
  /** The status the fake answered with. */
  status: number;
}

export interface StoredObject {
  readonly data: Buffer;
  readonly contentType: string;
  readonly generation: number;
}

interface InjectedFailure {
  readonly status: number;
  readonly message: string;
  readonly when: (request: RecordedGcsRequest) => boolean;
  remaining: number;
}

export interface FailureOptions {
  /** How many matching requests fail (default 1). */
  readonly times?: number;
  readonly message?: string;
  /** Only requests this accepts fail (default: every request). */
  readonly when?: (request: RecordedGcsRequest) => boolean;
}

const REASONS: Readonly<Record<number, string>> = {
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  429: 'rateLimitExceeded',
  500: 'backendError',
  503: 'backendError',
};

export class GcsJsonFake {
  readonly requests: RecordedGcsRequest[] = [];
  private readonly buckets: Map<string, Map<string, StoredObject>>;
  private readonly failures: InjectedFailure[] = [];
  private readonly server = http.createServer((req, res) => {
    void this.handle(req, res);
  });
  private generation = 1000;

  constructor(buckets: readonly string[]) {
    this.buckets = new Map(buckets.map((name) => [name, new Map<string, StoredObject>()]));
  }

  /** Listens on a free loopback port; resolves with the endpoint URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Client options for this fake; retries off unless the test asks for them. */
  storageOptions(extra: StorageOptions = {}): StorageOptions {
    return {
      apiEndpoint: this.endpoint,
      projectId: 'test-project',
      retryOptions: { autoRetry: false },
      ...extra,
    };
  }

  putObject(bucket: string, name: string, data: string | Buffer, contentType = 'text/plain'): void {
    this.objectsOf(bucket).set(name, {
      data: Buffer.from(data),
      contentType,
      generation: ++this.generation,
    });
  }

  getObject(bucket: string, name: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(name);
  }

  objectNames(bucket: string): string[] {
    return [...this.objectsOf(bucket).keys()].sort();
  }

  /** The next matching request(s) are answered with `status` and a JSON API error body. */
  failNext(status: number, options: FailureOptions = {}): void {
    this.failures.push({
      status,
      message: options.message ?? `injected failure ${status}`,
      when: options.when ?? (() => true),
      remaining: options.times ?? 1,
    });
  }

  private objectsOf(bucket: string): Map<string, StoredObject> {
    const objects = this.buckets.get(bucket);
    if (objects === undefined) throw new Error(`the fake has no bucket ${bucket}`);
    return objects;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request = classify(req.method ?? 'GET', url);
    this.requests.push(request);
    const answer = (status: number, payload?: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      request.status = status;
      if (payload === undefined) {
        res.writeHead(status, headers).end();
      } else if (Buffer.isBuffer(payload)) {
        res.writeHead(status, headers).end(payload);
      } else {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(payload));
      }
    };
    const fail = (status: number, message: string) =>
      answer(status, {
        error: {
          code: status,
          message,
          errors: [{ message, domain: 'global', reason: REASONS[status] ?? 'invalid' }],
        },
      });

    const failure = this.failures.find((f) => f.remaining > 0 && f.when(request));
    if (failure !== undefined) {
      failure.remaining--;
      return fail(failure.status, failure.message);
    }
    const objects = request.bucket === undefined ? undefined : this.buckets.get(request.bucket);
    if (objects === undefined || request.bucket === undefined) {
      return fail(404, `The specified bucket does not exist: ${request.bucket ?? '(none)'}`);
    }
    const bucket = request.bucket;

    switch (request.kind) {
      case 'list':
        return answer(200, listPage(bucket, objects, request.query));
      case 'metadata':
      case 'download': {
        const name = request.object ?? '';
        const stored = objects.get(name);
        const generation = request.query.generation;
        if (
          stored === undefined ||
          (generation !== undefined && generation !== `${stored.generation}`)
        ) {
          return fail(404, `No such object: ${bucket}/${name}`);
        }
        if (request.kind === 'metadata') return answer(200, objectResource(bucket, name, stored));
        const { crc32c, md5Hash } = objectResource(bucket, name, stored);
        return answer(200, stored.data, {
          'content-type': stored.contentType,
          'x-goog-hash': `crc32c=${crc32c},md5=${md5Hash}`,
          'x-goog-stored-content-encoding': 'identity',
          'x-goog-generation': `${stored.generation}`,
        });
      }
      case 'delete': {
        const name = request.object ?? '';
        if (!objects.delete(name)) return fail(404, `No such object: ${bucket}/${name}`);
        return answer(204);
      }
      case 'upload': {
        const upload = parseMultipart(req.headers['content-type'] ?? '', body);
        const name = request.query.name ?? upload?.metadata.name;
        if (upload === undefined || typeof name !== 'string' || name === '') {
          return fail(400, 'the fake accepts only multipart uploads that name the object');
        }
        const contentType =
          typeof upload.metadata.contentType === 'string'
            ? upload.metadata.contentType
            : upload.contentType;
        const stored = { data: upload.data, contentType, generation: ++this.generation };
        objects.set(name, stored);
        request.object = name;
        return answer(200, objectResource(bucket, name, stored));
      }
      default:
        return fail(501, `the fake does not implement ${request.method} ${request.path}`);
    }
  }
}

function classify(method: string, url: URL): RecordedGcsRequest {
  const query = Object.fromEntries(url.searchParams);
  const base = { method, path: url.pathname, query, status: 0 };
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  if (upload !== null && method === 'POST' && query.uploadType === 'multipart') {
    const bucket = decodeURIComponent(upload[1] ?? '');
    return {
      ...base,
      kind: 'upload',
      bucket,
      ...(query.name !== undefined && { object: query.name }),
    };
  }
  const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  if (list !== null && method === 'GET') {
    return { ...base, kind: 'list', bucket: decodeURIComponent(list[1] ?? '') };
  }
  const object = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
  if (object !== null) {
    const target = {
      bucket: decodeURIComponent(object[1] ?? ''),
      object: decodeURIComponent(object[2] ?? ''),
    };
    if (method === 'GET') {
      return { ...base, ...target, kind: query.alt === 'media' ? 'download' : 'metadata' };
    }
    if (method === 'DELETE') return { ...base, ...target, kind: 'delete' };
  }
  return { ...base, kind: 'other' };
}

function listPage(
  bucket: string,
  objects: ReadonlyMap<string, StoredObject>,
  query: Readonly<Record<string, string>>,
): { kind: string; items: unknown[]; nextPageToken?: string } {
  const prefix = query.prefix ?? '';
  const max = Math.min(Number(query.maxResults ?? 1000), 1000);
  // The page token is the last name of the previous page: names are listed in order.
  const after = query.pageToken ?? '';
  const names = [...objects.keys()]
    .filter((name) => name.startsWith(prefix) && name > after)
    .sort();
  const page = names.slice(0, max);
  const last = page.at(-1);
  return {
    kind: 'storage#objects',
    items: page.map((name) => objectResource(bucket, name, objects.get(name) as StoredObject)),
    ...(names.length > max && last !== undefined && { nextPageToken: last }),
  };
}

function objectResource(bucket: string, name: string, stored: StoredObject) {
  const crc32c = new CRC32C();
  crc32c.update(stored.data);
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${stored.generation}`,
    bucket,
    name,
    generation: `${stored.generation}`,
    metageneration: '1',
    contentType: stored.contentType,
    size: `${stored.data.length}`,
    crc32c: crc32c.toString(),
    md5Hash: createHash('md5').update(stored.data).digest('base64'),
  };
}

interface MultipartUpload {
  readonly metadata: { name?: unknown; contentType?: unknown };
  readonly contentType: string;
  readonly data: Buffer;
}

/** Parses the client's `multipart/related` body: a JSON metadata part, then the media part. */
function parseMultipart(contentType: string, body: Buffer): MultipartUpload | undefined {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  if (boundary === undefined) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const end = body.indexOf(delimiter, start + delimiter.length);
    if (end === -1) break;
    parts.push(body.subarray(start + delimiter.length, end));
    start = end;
  }
  const [metadataPart, mediaPart] = parts.map(splitPart);
  if (metadataPart === undefined || mediaPart === undefined) return undefined;
  return {
    metadata: JSON.parse(metadataPart.content.toString('utf8')) as MultipartUpload['metadata'],
    contentType: mediaPart.contentType,
    data: mediaPart.content,
  };
}

function splitPart(part: Buffer): { contentType: string; content: Buffer } {
  // A part is "\r\n<headers>\r\n\r\n<content>\r\n".
  const headerEnd = part.indexOf('\r\n\r\n');
  const headers = part.subarray(0, headerEnd).toString('utf8');
  const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '';
  return { contentType, content: part.subarray(headerEnd + 4, part.length - 2) };
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
