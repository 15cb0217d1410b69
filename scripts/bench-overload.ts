/**
 * `npm run bench:overload [-- --seconds 20] [-- --instances 1,16]`: how
 * services/ann-serving behaves beyond its capacity. Per instances-per-request
 * count: the server (compiled, a child process, default settings) on a
 * 2,000-product sample bundle; its capacity closed loop (autocannon, 8
 * connections, after a warm-up, the better of two 10 s runs); then an open-loop generator
 * (bench-open-loop.ts: raw sockets, a pool of up to 256 keep-alive
 * connections opened as needed, 2 s client time-out) at 0.5, 0.8, 1.2, 1.5 and 2× that capacity,
 * with how busy the server's main thread and the generator were (CPU time
 * over the level's wall time, from /proc and process.cpuUsage). A full
 * run (≥ 20 s per level, both counts) rewrites its section of
 * docs/performance.md between the bench:overload markers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { cpuMs } from './bench-cost-server.js';
import { openLoopOverload, type OverloadResult } from './bench-open-loop.js';
import { freePort } from './free-port.js';

const root = path.resolve(import.meta.dirname, '..');
const bundleDir = path.join(root, '.recdeploy', 'bench', 'bundle-2000');
const servingEntry = path.join(root, 'services', 'ann-serving', 'dist', 'src', 'main.js');
const PREDICT = '/v1/models/recommender:predict';
const LEVELS = [0.5, 0.8, 1.2, 1.5, 2];
const TIMEOUT_MS = 2000;

interface Level {
  readonly factor: number;
  readonly rate: number;
  readonly result: OverloadResult;
  readonly shed: Readonly<Record<string, number>>;
  readonly abandoned: number;
  /** Share of the level's wall time the server's main thread was on a CPU, and the generator. */
  readonly mainThreadBusy: number;
  readonly generatorBusy: number;
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function log(message: string): void {
  process.stderr.write(`[bench:overload] ${message}\n`);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

function ensureBundle(): void {
  if (fs.existsSync(path.join(bundleDir, 'ann', 'index'))) return;
  log('writing a 2,000-product sample bundle and its index');
  const cli = [process.execPath, '--conditions=source', '--import', 'tsx', 'cli/src/main.ts'];
  run(cli[0]!, [...cli.slice(1), 'sample-model', '--out', bundleDir, '--products', '2000']);
  run(cli[0]!, [...cli.slice(1), 'build-index', bundleDir]);
}

/** Bodies of `instances` instances each, cycling through the bundle's examples. */
function bodiesOf(instances: number): string[] {
  const examples = JSON.parse(
    fs.readFileSync(path.join(bundleDir, 'ann', 'examples.json'), 'utf8'),
  ) as unknown[];
  return examples.map((_, i) =>
    JSON.stringify({
      instances: Array.from({ length: instances }, (_, j) => examples[(i + j) % examples.length]),
    }),
  );
}

async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [servingEntry], {
    cwd: root,
    env: { ...process.env, MODEL_PATH: bundleDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    const status = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { port, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Closed-loop throughput, req/s (autocannon, 8 connections); with `strict`, every answer must be a 200. */
async function closedLoop(
  port: number,
  bodies: string[],
  seconds: number,
  strict = true,
): Promise<number> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${PREDICT}`,
    method: 'POST',
    connections: 8,
    duration: seconds,
    requests: [{ setupRequest: (r) => ({ ...r, body: bodies[next++ % bodies.length] }) }],
  });
  if (strict && result.errors > 0) throw new Error(`capacity run: ${result.errors} errors`);
  if (strict && result.non2xx > 0)
    log(`capacity run: ${result.non2xx} non-2xx answers (not counted)`);
  // Served answers only: a shed request is not capacity.
  return result['2xx'] / seconds;
}

/** The server's shed counts by reason and abandoned count, from /metrics. */
async function counters(
  port: number,
): Promise<{ shed: Record<string, number>; abandoned: number }> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const shed: Record<string, number> = {};
  let abandoned = 0;
  for (const match of text.matchAll(/^ann_serving_load_shed_total\{reason="(\w+)"\} (\d+)/gm)) {
    shed[match[1]!] = Number(match[2]);
  }
  for (const match of text.matchAll(/^ann_serving_abandoned_requests_total\{[^}]*\} (\d+)/gm)) {
    abandoned += Number(match[1]);
  }
  return { shed, abandoned };
}

async function measure(
  instances: number,
  seconds: number,
): Promise<{ capacity: number; levels: Level[] }> {
  const bodies = bodiesOf(instances);
  const { port, child } = await startServer();
  try {
    // Warm-up: while the JIT compiles, the first batches are slow enough to be shed.
    await closedLoop(port, bodies, 3, false);
    // Best of two: one run can coincide with another process taking a core.
    const capacity = Math.max(
      await closedLoop(port, bodies, 10),
      await closedLoop(port, bodies, 10),
    );
    log(`${instances} instance(s)/request: capacity ${capacity.toFixed(0)} req/s`);
    const levels: Level[] = [];
    for (const factor of LEVELS) {
      const before = await counters(port);
      const rate = Math.round(capacity * factor);
      // The main thread is the serial resource: how busy it was says how
      // much room a level left for queues to drain (see docs/performance.md).
      const mainBefore = cpuMs(child.pid!, true);
      const generatorBefore = process.cpuUsage();
      const startedAt = performance.now();
      const result = await openLoopOverload({
        port,
        path: PREDICT,
        bodies,
        rate,
        seconds,
        timeoutMs: TIMEOUT_MS,
        // A client's connection pool, as a load balancer in front would keep:
        // warm with 50 ms worth of requests, growing as needed up to 256. Not
        // more: Node accepts one connection per event-loop turn, and a pool of
        // 1,024 grew faster than that, overflowed the kernel's accept backlog
        // (511) and had its SYNs retried after 1 s (client time-outs).
        maxConnections: 256,
        warmConnections: Math.min(256, Math.ceil(rate / 20)),
      });
      const wallMs = performance.now() - startedAt;
      const mainThreadBusy = (cpuMs(child.pid!, true) - mainBefore) / wallMs;
      const generatorCpu = process.cpuUsage(generatorBefore);
      const generatorBusy = (generatorCpu.user + generatorCpu.system) / 1000 / wallMs;
      // Let abandoned work and the admission state settle before the next level.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = await counters(port);
      const shed: Record<string, number> = {};
      for (const [reason, n] of Object.entries(after.shed))
        shed[reason] = n - (before.shed[reason] ?? 0);
      levels.push({
        factor,
        rate,
        result,
        shed,
        abandoned: after.abandoned - before.abandoned,
        mainThreadBusy,
        generatorBusy,
      });
      log(`  ${factor}×: ${row(instances, capacity, levels.at(-1)!, seconds)}`);
    }
    return { capacity, levels };
  } finally {
    await stop(child);
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function p99Of(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.99,
  );
}

function row(instances: number, capacity: number, level: Level, seconds: number): string {
  const { result } = level;
  const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const ok = result.statuses.get(200) ?? 0;
  const unavailable = result.statuses.get(503) ?? 0;
  const other = result.sent - ok - unavailable - result.timeouts - result.errors;
  const servedRps = ok / seconds;
  const latencies = result.served.map((s) => s.ms).sort((a, b) => a - b);
  const third = (seconds * 1000) / 3;
  const first = p99Of(result.served.filter((s) => s.at < third).map((s) => s.ms));
  const last = p99Of(result.served.filter((s) => s.at >= 2 * third).map((s) => s.ms));
  const reasons = Object.entries(level.shed)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return [
    `${instances}`,
    `${level.factor}×`,
    `${level.rate}`,
    `${f(servedRps, 0)} (${f((100 * servedRps) / capacity, 0)}%)`,
    `${f((100 * unavailable) / result.sent)}% (${unavailable === result.retryAfter ? 'all' : result.retryAfter})`,
    `${result.timeouts}`,
    `${result.errors + other}`,
    `${f(quantile(latencies, 0.5))} / ${f(quantile(latencies, 0.99))}`,
    `${f(first)} / ${f(last)}`,
    `${f(result.sendLatenessP99)}`,
    reasons || '–',
    `${level.abandoned}`,
    `${f(100 * level.mainThreadBusy, 0)}% / ${f(100 * level.generatorBusy, 0)}%`,
  ].join(' | ');
}

const HEADER = [
  '| instances/request | offered | offered req/s | served req/s (% of capacity) | 503 share (with Retry-After) | client time-outs | other errors | p50 / p99 of 200s ms | p99 first / last third ms | generator lateness p99 ms | shed by reason | abandoned dropped | CPU: server main thread / generator |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];

const START = '<!-- bench:overload:start (written by npm run bench:overload) -->';
const END = '<!-- bench:overload:end -->';

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '20'));
  const counts = arg('instances', '1,16').split(',').map(Number);
  log('compiling services/ann-serving (tsc -b)');
  run('npx', ['tsc', '-b', 'services/ann-serving']);
  ensureBundle();
  const lines = [...HEADER];
  const capacities: string[] = [];
  for (const instances of counts) {
    const { capacity, levels } = await measure(instances, seconds);
    capacities.push(`${instances} instance(s)/request: ${capacity.toFixed(0)} req/s`);
    for (const level of levels) lines.push(`| ${row(instances, capacity, level, seconds)} |`);
  }
  const table = lines.join('\n');
  const summary = `Capacity (closed loop, 8 connections): ${capacities.join('; ')}.`;
  process.stdout.write(`${summary}\n\n${table}\n`);
  if (seconds < 20 || !(counts.includes(1) && counts.includes(16))) {
    log('docs/performance.md not written: a shortened or partial run');
    return;
  }
  const docFile = path.join(root, 'docs', 'performance.md');
  const doc = fs.readFileSync(docFile, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md lacks ${START} … ${END}`);
  const section = [
    `Measured by \`npm run bench:overload\` on ${new Date().toISOString().slice(0, 10)} (${os.availableParallelism()} shared cores, ${seconds} s per level).`,
    summary,
    '',
    table,
    '',
  ].join('\n');
  fs.writeFileSync(docFile, `${doc.slice(0, start)}${START}\n${section}${doc.slice(end)}`);
  log('wrote docs/performance.md');
}

await main();
