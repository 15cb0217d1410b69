/**
 * Retrieval benchmark for shared/ann/search (not a test): exact search with
 * both kernels, then HNSW built with 1, 2 and 4 shards, on synthetic clustered
 * D = 64 vectors, raw (norms 0.7–1.4: the MIPS→L2 path) and L2-normalised
 * (the cosine path). All rows of a table come from one run: the VM's two
 * cores are shared, and absolute numbers drift ±20% between runs.
 *
 *   npx tsx --conditions=source scripts/bench-search.ts [--n 100000] [--exact-n 10000,100000]
 *     [--data raw,normalised] [--shards 1,2,4] [--m 32] [--ef-construction 200] [--spread 0.35]
 *     [--skip-exact] [--skip-hnsw]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildIndex,
  createExactSearcher,
  loadHnswSearcher,
  sampleQueryVectors,
  type CandidateMatrix,
  type SearchHit,
  type Searcher,
} from '@recdeploy/shared/ann';
import { clusteredVectors } from '../test/support/ann-vectors.js';

const D = 64;
const K = 100;
const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    'exact-n': { type: 'string', default: '10000,100000' },
    data: { type: 'string', default: 'raw,normalised' },
    shards: { type: 'string', default: '1,2,4' },
    spread: { type: 'string', default: '0.35' },
    m: { type: 'string', default: '32' },
    'ef-construction': { type: 'string', default: '200' },
    'skip-exact': { type: 'boolean', default: false },
    'skip-hnsw': { type: 'boolean', default: false },
  },
});
const list = (value: string) => value.split(',').filter(Boolean);

function catalogue(count: number, data: string): CandidateMatrix {
  const spread = Number(args.spread);
  const normalise = data === 'normalised';
  return {
    vectors: clusteredVectors({ count, dim: D, spread, seed: 7, normalise }),
    count,
    dim: D,
  };
}

/** Single-query latency percentiles (ms) and QPS, and QPS of batch-32 calls. */
function measure(searcher: Searcher, queries: Float32Array, count: number) {
  const lat: number[] = [];
  for (let q = 0; q < count; q++) {
    const t = performance.now();
    searcher.search(queries.subarray(q * D, (q + 1) * D), 1, K);
    lat.push(performance.now() - t);
  }
  const b1qps = (1000 * count) / lat.reduce((a, b) => a + b, 0);
  lat.sort((a, b) => a - b);
  const batches = Math.max(1, Math.floor(count / 32));
  const t = performance.now();
  for (let b = 0; b < batches; b++) searcher.search(queries.subarray(b * 32 * D), 32, K);
  const b32qps = (batches * 32 * 1000) / (performance.now() - t);
  const at = (p: number) =>
    (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(3);
  return { p50: at(0.5), p99: at(0.99), b1qps: b1qps.toFixed(0), b32qps: b32qps.toFixed(0) };
}

function recall(approx: SearchHit[], exact: SearchHit[]): number {
  let sum = 0;
  approx.forEach((hit, i) => {
    const truth = new Set(exact[i]?.rows);
    sum += hit.rows.filter((r) => truth.has(r)).length / Math.max(truth.size, 1);
  });
  return sum / approx.length;
}

const lines: string[] = [];
const row = (...cells: (string | number)[]) => lines.push(`| ${cells.join(' | ')} |`);

async function benchExact(): Promise<void> {
  lines.push('', '| exact kernel | N | b1 p50 ms | b1 p99 ms | b1 QPS | b32 QPS |');
  lines.push('|---|---|---|---|---|---|');
  for (const n of list(args['exact-n']).map(Number)) {
    const m = catalogue(n, 'raw');
    const queries = sampleQueryVectors(m, 1024, { seed: 11 });
    const count = n >= 100_000 ? 300 : 1000;
    for (const kernel of ['loop', 'tfjs'] as const) {
      const searcher = await createExactSearcher(m, { kernel });
      measure(searcher, queries, 64); // warm-up: JIT, wasm heap growth
      const r = measure(searcher, queries, count);
      row(kernel, n, r.p50, r.p99, r.b1qps, r.b32qps);
      searcher.dispose();
    }
  }
}

async function benchHnsw(n: number, data: string): Promise<void> {
  const m = catalogue(n, data);
  const calibration = sampleQueryVectors(m, 500, { seed: 13 });
  const heldOut = sampleQueryVectors(m, 1000, { seed: 17 });
  const exact = await createExactSearcher(m);
  const truth = exact.search(heldOut, 1000, K);
  exact.dispose();
  lines.push(
    '',
    `| HNSW N=${n} ${data}, M=${args.m}, efC=${args['ef-construction']} | shards | graphs built s | total build s | chosen ef | calib. recall | held-out recall | p50 ms | p99 ms | b1 QPS | load ms | sweep (ef:recall/p50 ms) |`,
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const shards of list(args.shards).map(Number)) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-search-'));
    const started = performance.now();
    let graphsBuilt = 0;
    try {
      const manifest = await buildIndex({
        candidates: m,
        calibrationQueries: calibration,
        outDir: path.join(dir, 'index'),
        shards,
        M: Number(args.m),
        efConstruction: Number(args['ef-construction']),
        onProgress: (p) => {
          if (p.phase === 'load' && graphsBuilt === 0) graphsBuilt = performance.now() - started;
        },
      });
      const t = performance.now();
      const searcher = await loadHnswSearcher(path.join(dir, 'index'), m);
      const loadMs = (performance.now() - t).toFixed(0);
      const r = measure(searcher, heldOut, 1000);
      const held = recall(searcher.search(heldOut, 1000, K), truth).toFixed(4);
      const sweep = manifest.recall.sweep.map((s) => `${s.ef}:${s.recall.toFixed(3)}/${s.p50_ms}`);
      row(
        data,
        shards,
        (graphsBuilt / 1000).toFixed(1),
        manifest.build_seconds.toFixed(1),
        manifest.ef,
        manifest.recall.recall.toFixed(4),
        held,
        r.p50,
        r.p99,
        r.b1qps,
        loadMs,
        sweep.join(' '),
      );
    } catch (error) {
      row(
        data,
        shards,
        (graphsBuilt / 1000).toFixed(1),
        'failed',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        (error as Error).message,
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}

if (!args['skip-exact']) await benchExact();
if (!args['skip-hnsw']) for (const data of list(args.data)) await benchHnsw(Number(args.n), data);
console.log(
  `\nD=${D}, k=${K}, clustered spread ${args.spread}, ${os.cpus().length} vCPU, Node ${process.version}`,
);
console.log(lines.join('\n'));
