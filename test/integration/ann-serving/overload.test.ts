/**
 * ann-serving under overload, against the real server (a child process) on a
 * tiny real bundle, in one server start. The overload is made exactly as it
 * happens in production, without timing: the server process is stopped
 * (SIGSTOP) while clients send, so their requests wait in the kernel's
 * socket queues where the server cannot see them, then it is resumed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TINY_EXAMPLES, writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { ALLOW_TEST_FAULTS, writeTestFaults } from '../../support/ann-serving/test-faults.js';
import {
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';

const PATH = '/v1/models/recs:predict';
const BODY = JSON.stringify({ instances: [TINY_EXAMPLES[0]] });
/** A request the bundle's test faults hold 500 ms before it is queued (see before()). */
const HELD_BODY = JSON.stringify({ instances: [{ ...TINY_EXAMPLES[0], customer_id: 'HELD-1' }] });
const OVERLOADED = {
  error: 'The server is overloaded: request refused to keep queueing delay bounded; retry later',
};

/** A predict request through `agent`, `written` once its bytes are handed to the kernel. */
function sendOne(
  port: number,
  agent: http.Agent,
): {
  written: Promise<void>;
  answer: Promise<{ status: number; retryAfter: string | undefined; body: string }>;
} {
  let written!: () => void;
  const writtenPromise = new Promise<void>((resolve) => (written = resolve));
  const answer = new Promise<{ status: number; retryAfter: string | undefined; body: string }>(
    (resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: PATH, agent },
        (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              retryAfter: response.headers['retry-after'],
              body,
            }),
          );
        },
      );
      request.on('error', reject);
      request.on('finish', () => written());
      request.end(BODY);
    },
  );
  return { written: writtenPromise, answer };
}

/** GET `path` through `agent`; resolves with the status. */
function fetchVia(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

/** One metric's samples from /metrics, summed (all label sets matching `labels`). */
async function metric(server: ServerProcess, name: string, labels = ''): Promise<number> {
  const text = await fetch(`${server.baseUrl}/metrics`).then((r) => r.text());
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    if (/^[a-z_]+[{ ]/.exec(line)?.[0].trim().replace('{', '') !== name) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Runs `during` with the server process stopped, resuming it whatever happens. */
async function whileStopped(server: ServerProcess, during: () => Promise<void>): Promise<void> {
  server.child.kill('SIGSTOP');
  try {
    await during();
  } finally {
    server.child.kill('SIGCONT');
  }
}

/** What the server answers a raw request line, read until it closes the connection. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('ann-serving overload and abandoned work (real server, tiny bundle)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: ServerProcess;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-serving-overload-'));
    await writeTinyBundle(dir);
    await writeTestFaults(
      dir,
      JSON.stringify({ extra_latency_ms: 500, only_customer_ids_matching: '^HELD-' }),
    );
    // HOST empty = unset: the default bind address is under test. A 1 ms
    // target and interval make the stopped-then-resumed backlog a standing
    // overload at once, rather than a tolerated burst.
    server = await startServer({
      MODEL_PATH: dir,
      MODEL_NAME: 'recs',
      HOST: '',
      ADMISSION_TARGET_MS: '1',
      ADMISSION_INTERVAL_MS: '1',
      ADMISSION_RETRY_AFTER_S: '2',
      ...ALLOW_TEST_FAULTS,
    });
    await waitUntilReady(server);
  });

  after(async () => {
    await server?.stop('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 by default, and refuses an HTTP/0.9 request line', async () => {
    const listening = server.logs.find((line) => line.message === 'listening; loading the model');
    assert.equal(listening?.host, '127.0.0.1');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address?.family === 'IPv4' && !address.internal);
    if (external) {
      await assert.rejects(
        fetch(`http://${external.address}:${server.port}/health`),
        'not reachable from another interface',
      );
    }
    // Node takes a request line without a version as HTTP/0.9 once a blank line follows.
    const answer = await rawExchange(server.port, 'GET /v1/models/recs\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /HTTP\/0\.9 is not supported/);
    // A versioned request on the same route is served.
    assert.equal((await fetch(`${server.baseUrl}/v1/models/recs`)).status, 200);
  });

  it('drops the work of a client that went away while its request waited', async () => {
    const batches = await metric(server, 'ann_serving_batch_size_count');
    // Stopped, so the request and the client's close reach the server together;
    // the test fault holds the request 500 ms, long after the close is read.
    await whileStopped(server, async () => {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const head = `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(HELD_BODY)}\r\n\r\n`;
      await new Promise<void>((resolve) => socket.end(head + HELD_BODY, resolve));
      socket.destroy();
    });
    while ((await metric(server, 'ann_serving_abandoned_requests_total')) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // polling a condition, bounded by the test's time-out
    }
    assert.equal(
      await metric(server, 'ann_serving_abandoned_requests_total', 'stage="in_queue"'),
      1,
      'dropped when its batch was taken',
    );
    assert.equal(
      await metric(server, 'ann_serving_batch_size_count'),
      batches,
      'no batch ran for it',
    );
  });

  it('answers a backlog beyond its delay bound with prompt 503s and Retry-After', async () => {
    // 200 clients on open keep-alive connections (Node accepts one new
    // connection per event-loop turn, so a backlog of new connections would
    // trickle in; requests on open ones are all read in one turn).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    const warm = Array.from({ length: 200 }, () =>
      fetchVia(agent, server.port, '/health').then((status) => assert.equal(status, 200)),
    );
    await Promise.all(warm);
    const requests: ReturnType<typeof sendOne>[] = [];
    await whileStopped(server, async () => {
      for (let i = 0; i < 200; i++) requests.push(sendOne(server.port, agent));
      await Promise.all(requests.map((r) => r.written));
    });
    const answers = await Promise.all(requests.map((r) => r.answer));
    const statuses = answers.map((a) => a.status);
    const refused = answers.filter((a) => a.status === 503);
    assert.ok(
      statuses.every((status) => status === 200 || status === 503),
      `every request answered, served or refused: ${statuses.join(' ')}`,
    );
    assert.ok(refused.length >= 100, `most of the backlog is refused (${refused.length} of 200)`);
    for (const answer of refused) {
      assert.equal(answer.retryAfter, '2');
      assert.deepEqual(JSON.parse(answer.body), OVERLOADED);
    }
    // Refused at arrival (before the body was parsed), counted by reason.
    const atArrival =
      (await metric(server, 'ann_serving_load_shed_total', 'reason="event_loop"')) +
      (await metric(server, 'ann_serving_load_shed_total', 'reason="queue_delay"'));
    assert.ok(atArrival >= 1, 'shed at arrival');
    assert.equal(await metric(server, 'ann_serving_load_shed_total'), refused.length);
    agent.destroy();
  });
});
