/**
 * `npm run bench:serving [-- --sizes 100000,1000000]`: measures services/ann-serving
 * on this machine and, when it measured every default size, rewrites the
 * generated section of docs/performance.md (between its bench:serving markers). Every row of a table comes
 * from one run, with the same load generator (autocannon, in this process) and
 * the same request bodies (the bundle's examples), so rows compare as ratios.
 *
 * Per catalogue size N (D = 64):
 * - index build time and its recall report (recall@100 vs exact, chosen ef);
 * - process start → AVAILABLE, and RSS after warm-up, for ann and exact mode;
 * - throughput (closed loop, 8 connections) for ann and exact;
 * - p50/p99 at one fixed offered load for ann, exact and a minimal Node HTTP
 *   server returning a constant body of the same size (the transport floor).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { readIndexManifest, resolveIndexDir, SYNTHESIS_METHOD } from '@recdeploy/shared/ann';
import { openLoopLatency } from './bench-open-loop.js';
import { freePort } from './free-port.js';

const root = path.resolve(import.meta.dirname, '..');
const workDir = path.join(root, '.recdeploy', 'bench');
const tsxArgs = ['--conditions=source', '--import', 'tsx'];
const servingEntry = path.join(root, 'services', 'ann-serving', 'dist', 'src', 'main.js');

interface Row {
  readonly n: number;
  readonly buildS: number;
  readonly ef: number;
  readonly recall: number;
  readonly modes: Record<'ann' | 'exact', ModeResult>;
  readonly floor: Latency;
  readonly offeredRps: number;
}
interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
}
interface ModeResult {
  readonly availableMs: number;
  readonly rssMb: number;
  readonly throughputRps: number;
  readonly fixed: Latency;
  readonly httpRecall?: number;
}

/** The sizes the targets are stated for; only a run of all of them rewrites the doc. */
const DEFAULT_SIZES = [100_000, 1_000_000];

function sizesFromArgs(): number[] {
  const at = process.argv.indexOf('--sizes');
  const raw = at >= 0 ? process.argv[at + 1] : undefined;
  if (raw === undefined) return DEFAULT_SIZES;
  return raw.split(',').map((s) => Number.parseInt(s, 10));
}

function cli(args: string[]): string {
  const result = spawnSync(process.execPath, [...tsxArgs, 'cli/src/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`recdeploy ${args.join(' ')} exited ${result.status}`);
  return result.stdout;
}

/** The bundle of `n` products, written unless one from the current generator is there. */
function ensureBundle(n: number): string {
  const dir = path.join(workDir, `bundle-${n}`);
  const synthesis = bundleSynthesis(path.join(dir, 'ann', 'manifest.json'));
  if (synthesis !== SYNTHESIS_METHOD) {
    fs.rmSync(dir, { recursive: true, force: true });
    log(
      `writing a ${n}-product bundle${synthesis === undefined ? '' : ` (the one there was synthesised by ${synthesis || 'an older generator'})`}`,
    );
    cli(['sample-model', '--out', dir, '--products', String(n), '--json']);
  }
  return dir;
}

/** `sample.synthesis` of a bundle's manifest: undefined when absent, '' when not recorded. */
function bundleSynthesis(manifestFile: string): string | undefined {
  if (!fs.existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    sample?: { synthesis?: unknown };
  };
  return typeof manifest.sample?.synthesis === 'string' ? manifest.sample.synthesis : '';
}

/** Builds the index through the CLI (as the deploy step will); build time as index.json records it. */
async function buildIndex(dir: string): Promise<{ buildS: number; ef: number; recall: number }> {
  log(`building the HNSW index for ${dir}`);
  cli(['build-index', dir, '--json']);
  const manifest = await readIndexManifest(await resolveIndexDir(dir));
  return { buildS: manifest.build_seconds, ef: manifest.ef, recall: manifest.recall.recall };
}

async function waitHealthy(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

function predictUrl(port: number): string {
  return `http://127.0.0.1:${port}/v1/models/recommender:predict`;
}

async function load(url: string, bodies: string[], options: { rate?: number; seconds: number }) {
  let next = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: 8,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average };
}

/** Latency at a fixed offered load, open loop (see bench-open-loop.ts). */
async function fixedLoad(url: string, bodies: string[], rate: number): Promise<Latency> {
  const result = await openLoopLatency(url, bodies, { rate, seconds: 10 });
  if (result.failed > 0)
    throw new Error(`${url}: ${result.failed} of ${result.sent} requests failed`);
  return { p50: result.p50, p99: result.p99, rps: rate };
}

function bodiesOf(dir: string): string[] {
  const examples = JSON.parse(
    fs.readFileSync(path.join(dir, 'ann', 'examples.json'), 'utf8'),
  ) as unknown[];
  return examples.map((instance) => JSON.stringify({ instances: [instance] }));
}

async function startServer(dir: string, mode: 'ann' | 'exact') {
  const port = await freePort();
  const started = process.hrtime.bigint();
  // The compiled server, as the container runs it: through tsx, on-the-fly
  // compilation would add to start-up time and memory.
  const child = spawn(process.execPath, [servingEntry], {
    cwd: root,
    env: {
      ...process.env,
      MODEL_PATH: dir,
      SERVING_MODE: mode,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitHealthy(port, child);
  const availableMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { port, child, availableMs };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A minimal Node HTTP server answering every request with `body`: the transport floor. */
async function startFloor(body: string): Promise<{ port: number; close: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const b=Buffer.from(process.env.BODY);require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/json','content-length':b.length});s.end(b)})}).listen(${port},'127.0.0.1',()=>process.stdout.write('up'))`,
    ],
    { env: { ...process.env, BODY: body }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  return { port, close: () => stop(child) };
}

async function predictOnce(port: number, body: string): Promise<string> {
  const response = await fetch(predictUrl(port), { method: 'POST', body });
  return response.text();
}

/** recall@k of ann against exact over HTTP, on the bundle's examples. */
function overlap(annBody: string, exactBody: string): number {
  type Prediction = { product_ids: unknown[] };
  const ann = (JSON.parse(annBody) as { predictions: Prediction[] }).predictions[0]?.product_ids;
  const exact = (JSON.parse(exactBody) as { predictions: Prediction[] }).predictions[0]
    ?.product_ids;
  if (!ann || !exact || exact.length === 0) return Number.NaN;
  const truth = new Set(exact.map(String));
  return ann.filter((id) => truth.has(String(id))).length / exact.length;
}

async function measureSize(n: number): Promise<Row> {
  const dir = ensureBundle(n);
  const index = await buildIndex(dir);
  const bodies = bodiesOf(dir);
  const throughput: Partial<
    Record<'ann' | 'exact', { availableMs: number; rssMb: number; rps: number }>
  > = {};
  const answers: Partial<Record<'ann' | 'exact', string[]>> = {};
  for (const mode of ['exact', 'ann'] as const) {
    const server = await startServer(dir, mode);
    try {
      await load(predictUrl(server.port), bodies, { seconds: 3 }); // warm-up
      const rss = rssMb(server.child.pid ?? 0);
      const closed = await load(predictUrl(server.port), bodies, { seconds: 10 });
      answers[mode] = await Promise.all(bodies.map((b) => predictOnce(server.port, b)));
      throughput[mode] = { availableMs: server.availableMs, rssMb: rss, rps: closed.rps };
    } finally {
      await stop(server.child);
    }
  }
  // One offered load for every row: half of what exact mode sustains, so no row saturates.
  const offeredRps = Math.max(10, Math.floor((throughput.exact?.rps ?? 20) / 2));
  const fixed: Partial<Record<'ann' | 'exact', Latency>> = {};
  for (const mode of ['exact', 'ann'] as const) {
    const server = await startServer(dir, mode);
    try {
      await load(predictUrl(server.port), bodies, { seconds: 2 });
      fixed[mode] = await fixedLoad(predictUrl(server.port), bodies, offeredRps);
    } finally {
      await stop(server.child);
    }
  }
  const floorServer = await startFloor(answers.ann?.[0] ?? '{}');
  let floor: Latency;
  try {
    await load(`http://127.0.0.1:${floorServer.port}/`, bodies, { seconds: 2 });
    floor = await fixedLoad(`http://127.0.0.1:${floorServer.port}/`, bodies, offeredRps);
  } finally {
    await floorServer.close();
  }
  const recalls = (answers.ann ?? []).map((a, i) => overlap(a, answers.exact?.[i] ?? ''));
  const httpRecall = recalls.reduce((s, r) => s + r, 0) / Math.max(1, recalls.length);
  const mode = (m: 'ann' | 'exact'): ModeResult => ({
    availableMs: throughput[m]?.availableMs ?? Number.NaN,
    rssMb: throughput[m]?.rssMb ?? Number.NaN,
    throughputRps: throughput[m]?.rps ?? Number.NaN,
    fixed: fixed[m] ?? { p50: Number.NaN, p99: Number.NaN, rps: Number.NaN },
    ...(m === 'ann' ? { httpRecall } : {}),
  });
  return { n, ...index, modes: { ann: mode('ann'), exact: mode('exact') }, floor, offeredRps };
}

function table(rows: readonly Row[]): string {
  const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const lines = [
    '| N | index build s | chosen ef | recall@100 (calibration) | recall@100 (HTTP, examples) | ANN req/s | exact req/s | ANN/exact | offered req/s | ANN p50/p99 ms | exact p50/p99 ms | floor p50/p99 ms | ANN start→AVAILABLE ms | exact start→AVAILABLE ms | ANN RSS MB | exact RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const { ann, exact } = r.modes;
    lines.push(
      `| ${r.n.toLocaleString('en')} | ${f(r.buildS, 1)} | ${r.ef} | ${f(r.recall, 3)} | ${f(ann.httpRecall ?? Number.NaN, 3)} | ${f(ann.throughputRps, 0)} | ${f(exact.throughputRps, 0)} | ${f(ann.throughputRps / exact.throughputRps, 1)}× | ${r.offeredRps} | ${f(ann.fixed.p50)} / ${f(ann.fixed.p99)} | ${f(exact.fixed.p50)} / ${f(exact.fixed.p99)} | ${f(r.floor.p50)} / ${f(r.floor.p99)} | ${f(ann.availableMs, 0)} | ${f(exact.availableMs, 0)} | ${f(ann.rssMb, 0)} | ${f(exact.rssMb, 0)} |`,
    );
  }
  return lines.join('\n');
}

/** The issue's targets, checked against the rows of this run. */
function verdicts(rows: readonly Row[]): string[] {
  const mark = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines: string[] = [];
  for (const r of rows) {
    const { ann, exact } = r.modes;
    const n = r.n.toLocaleString('en');
    lines.push(
      `- N = ${n}: recall@100 ≥ 0.95 vs exact: ${mark(r.recall >= 0.95)} (${r.recall.toFixed(3)} calibration, ${(ann.httpRecall ?? Number.NaN).toFixed(3)} over HTTP).`,
    );
    if (r.n >= 1_000_000) {
      const ratio = ann.throughputRps / exact.throughputRps;
      lines.push(
        `- N = ${n}: ANN ≥ 10× exact throughput: ${mark(ratio >= 10)} (${ratio.toFixed(1)}×).`,
      );
    }
    if (r.n === 100_000) {
      const p50 = ann.fixed.p50 - r.floor.p50;
      const p99 = ann.fixed.p99 - r.floor.p99;
      lines.push(
        `- N = ${n}: ANN p50 within 0.5 ms of the floor: ${mark(p50 <= 0.5)} (+${p50.toFixed(3)} ms); p99 within 2 ms: ${mark(p99 <= 2)} (+${p99.toFixed(3)} ms).`,
      );
      lines.push(
        `- N = ${n}: start → AVAILABLE under 1 s: ${mark(ann.availableMs < 1000)} (${ann.availableMs.toFixed(0)} ms); RSS under 250 MB: ${mark(ann.rssMb < 250)} (${ann.rssMb.toFixed(0)} MB).`,
      );
    }
  }
  return lines;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function main(): Promise<void> {
  fs.mkdirSync(workDir, { recursive: true });
  log('compiling the workspaces (npm run build)');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const rows: Row[] = [];
  for (const n of sizesFromArgs()) rows.push(await measureSize(n));
  const text = table(rows);
  process.stdout.write(`${text}\n\n${verdicts(rows).join('\n')}\n`);
  const measured = new Set(rows.map((r) => r.n));
  if (!DEFAULT_SIZES.every((n) => measured.has(n))) {
    // Rows of the published table come from one run; a partial run cannot replace some of them.
    log(`docs/performance.md not written: this run measured only ${[...measured].join(', ')}`);
    return;
  }
  const docFile = path.join(root, 'docs', 'performance.md');
  fs.writeFileSync(
    docFile,
    withGeneratedSection(fs.readFileSync(docFile, 'utf8'), generated(rows, text)),
  );
  log('wrote docs/performance.md');
}

const GENERATED_START = '<!-- bench:serving:start (written by npm run bench:serving) -->';
const GENERATED_END = '<!-- bench:serving:end -->';

/** The doc with its generated section replaced; the hand-written text around it stays. */
function withGeneratedSection(doc: string, section: string): string {
  const start = doc.indexOf(GENERATED_START);
  const end = doc.indexOf(GENERATED_END);
  if (start < 0 || end < start)
    throw new Error(`docs/performance.md lacks the markers ${GENERATED_START} … ${GENERATED_END}`);
  return `${doc.slice(0, start)}${GENERATED_START}\n${section}\n${doc.slice(end)}`;
}

function generated(rows: readonly Row[], text: string): string {
  return [
    `Measured by \`npm run bench:serving\` on ${new Date().toISOString().slice(0, 10)}: one server`,
    `process, D = 64, k = 100, the load generators in the benchmark process, on this machine`,
    `(${os.availableParallelism()} shared cores; rows of one table come from one run, so compare ratios).`,
    "Throughput is autocannon's, closed loop with 8 connections. Latencies (milliseconds, client",
    'side) come from an open-loop generator (scripts/bench-open-loop.ts) at one fixed offered',
    'load per catalogue size, half of what exact mode sustains, each request timed from its send',
    '(sent on schedule whatever the server does; the generator waits with timers, not by',
    'spinning, so it leaves the server its cores). "floor" is a minimal Node HTTP server',
    'returning a constant body of the same size as a',
    'real prediction: the serving work is the difference to it. The server runs compiled (dist/),',
    'as in the container, with default settings. Start→AVAILABLE is process spawn to the first',
    '200 from /health; RSS is read from /proc after warm-up.',
    '',
    text,
    '',
    '### Targets',
    '',
    ...verdicts(rows),
    '',
  ].join('\n');
}

await main();
