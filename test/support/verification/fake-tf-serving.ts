/**
 * A small TF Serving REST fake on a loopback port (node:http) whose answers a
 * test shapes, so the verifier meets deliberately broken revisions: ids
 * replaced by row indices, unsorted scores, short lists, a wrong signature,
 * slow predicts, a model that never loads. It records every request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Manifest } from '@recdeploy/shared/ann';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RankedAnswer {
  readonly product_ids: readonly unknown[];
  readonly scores: readonly unknown[];
}

export interface FakeTfServingOptions {
  readonly modelName?: string;
  /** The manifest whose inputs the metadata lists (unless `inputs` overrides them). */
  readonly manifest: Manifest;
  /** Reported version state; default AVAILABLE. */
  readonly state?: string;
  /** Reported with the state as a failed load (error_code UNKNOWN). */
  readonly stateError?: string;
  /** Served signature inputs, name → dtype; default: the manifest's. */
  readonly inputs?: Readonly<Record<string, string>>;
  /** The answer for one instance of the `call`-th predict request (1-based). */
  readonly rank?: (instance: unknown, call: number) => RankedAnswer;
  /** A whole predict body instead (e.g. with bare NaN tokens). */
  readonly predictBody?: (instances: readonly unknown[], call: number) => string;
  /** Delay before answering the `call`-th predict request. */
  readonly predictDelayMs?: (call: number) => number;
  /** Status code for every request (e.g. 403 as Cloud Run's front end answers). */
  readonly forceStatus?: number;
  /** Never answer metadata requests (a hung handler). */
  readonly hangMetadata?: boolean;
}

export interface FakeTfServing {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Predict requests only, bodies parsed. */
  predictBodies(): { instances: unknown[] }[];
  close(): Promise<void>;
}

const DTYPES: Record<Manifest['inputs'][number]['dtype'], string> = {
  string: 'DT_STRING',
  int64: 'DT_INT64',
  float32: 'DT_FLOAT',
};

export async function startFakeTfServing(options: FakeTfServingOptions): Promise<FakeTfServing> {
  const model = options.modelName ?? 'recommender';
  const requests: RecordedRequest[] = [];
  let predictCalls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const send = (status: number, text: string) => {
        res.writeHead(options.forceStatus ?? status, { 'content-type': 'application/json' });
        res.end(text);
      };
      if (options.forceStatus) return send(options.forceStatus, '<html>Forbidden</html>');
      const base = `/v1/models/${model}`;
      if (req.method === 'GET' && req.url === base)
        return send(200, statusBody(options.state, options.stateError));
      if (req.method === 'GET' && req.url === `${base}/metadata`) {
        if (options.hangMetadata) return;
        return send(200, metadataBody(model, options));
      }
      if (req.method === 'POST' && req.url === `${base}:predict`) {
        const call = ++predictCalls;
        const instances = (JSON.parse(body) as { instances: unknown[] }).instances;
        const answer = () =>
          send(
            200,
            options.predictBody
              ? options.predictBody(instances, call)
              : JSON.stringify({ predictions: instances.map((i) => options.rank!(i, call)) }),
          );
        const delay = options.predictDelayMs?.(call) ?? 0;
        if (delay > 0) setTimeout(answer, delay);
        else answer();
        return;
      }
      send(404, JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    predictBodies: () =>
      requests
        .filter((r) => r.method === 'POST')
        .map((r) => JSON.parse(r.body) as { instances: unknown[] }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function statusBody(state = 'AVAILABLE', error?: string): string {
  const status = error
    ? { error_code: 'UNKNOWN', error_message: error }
    : { error_code: 'OK', error_message: '' };
  return JSON.stringify({ model_version_status: [{ version: '1', state, status }] });
}

function metadataBody(model: string, options: FakeTfServingOptions): string {
  const inputs =
    options.inputs ??
    Object.fromEntries(options.manifest.inputs.map((input) => [input.name, DTYPES[input.dtype]]));
  const tensor = (dtype: string, name: string) => ({
    dtype,
    tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
    name,
  });
  return JSON.stringify({
    model_spec: { name: model, signature_name: '', version: '1' },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: Object.fromEntries(
              Object.entries(inputs).map(([name, dtype]) => [name, tensor(dtype, `${name}:0`)]),
            ),
            outputs: {
              product_ids: tensor('DT_INT64', 'StatefulPartitionedCall:0'),
              scores: tensor('DT_FLOAT', 'StatefulPartitionedCall:1'),
            },
            method_name: 'tensorflow/serving/predict',
            defaults: {},
          },
        },
      },
    },
  });
}
