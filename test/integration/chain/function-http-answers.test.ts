/**
 * What the functions answer to requests that are not deliveries, through the
 * real functions-framework over HTTP (the local chain's test servers, as
 * `npm start` runs them): a GET gets 405 and a non-JSON body 415, one line of
 * text, no stack trace, no file paths, each recorded as a rejected delivery
 * with a kind and a key of its own; real deliveries in either content mode
 * are still acknowledged, and what they carried is recorded by kind.
 */
import assert from 'node:assert/strict';
import {
  binaryDelivery,
  messagePublished,
  structuredDelivery,
  type HttpDelivery,
} from '../../fixtures/events/deliveries.js';
import { pipelineLogEntryWithState } from '../../fixtures/events/examples.js';
import { localChain, type LocalChain } from '../../support/chain/local-chain.js';

describe('the functions answer stray requests with a short 4xx, and record them', function () {
  this.timeout(120_000);
  let chain: LocalChain;

  before(async () => {
    chain = await localChain();
  });

  const post = (url: string, delivery: HttpDelivery): Promise<Response> =>
    fetch(url, {
      method: 'POST',
      headers: delivery.headers as Record<string, string>,
      body: delivery.body,
    });

  /** One short line: no stack frames, no absolute paths, no HTML. */
  function assertShortText(body: string): void {
    assert.equal(body.trim().split('\n').length, 1, body);
    assert.ok(body.length < 300, body);
    assert.doesNotMatch(body, /\s+at |node_modules|<html|<pre/i);
    assert.ok(!body.includes(process.cwd()), body);
  }

  async function recorded(eventIdPrefix: string) {
    const all = await chain.runs.listRejectedEvents(500);
    return all.filter((e) => e.eventId.startsWith(eventIdPrefix));
  }

  it('GET: 405 with Allow: POST and one line, recorded once per distinct request', async () => {
    const before = (await recorded('no-id:')).length;
    const url = new URL('/status?from=browser', chain.functionUrls.register).href;
    const first = await fetch(url);
    assert.equal(first.status, 405);
    assert.equal(first.headers.get('allow'), 'POST');
    assert.match(first.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await first.text();
    assertShortText(text);
    assert.match(text, /recdeploy-register takes CloudEvents by POST/);
    // The same request again collapses into its row; another path is another row.
    assert.equal((await fetch(url)).status, 405);
    assert.equal((await fetch(chain.functionUrls.deploy)).status, 405);
    const rows = await recorded('no-id:');
    assert.equal(rows.length, before + 2);
    const get = rows.find((e) => e.source === 'HTTP GET /status');
    assert.equal(get?.kind, 'HTTP GET');
    assert.equal(get?.code, 'EVENT.INVALID');
    assert.match(get?.reason ?? '', /^HTTP GET \/status is not a delivery: the register function/);
    assert.match(get?.eventId ?? '', /^no-id:[0-9a-f]{16}$/);
  });

  it('a non-JSON body: 415 and one line, recorded with an excerpt', async () => {
    const response = await post(chain.functionUrls.verify, {
      headers: { 'content-type': 'text/plain' },
      body: 'hello from curl',
    });
    assert.equal(response.status, 415);
    const text = await response.text();
    assertShortText(text);
    assert.match(text, /got text\/plain/);
    const row = (await recorded('no-id:')).find((e) => e.excerpt === 'hello from curl');
    assert.equal(row?.kind, 'non-JSON body');
    assert.match(row?.reason ?? '', /^HTTP POST \/ with text\/plain \(15 bytes\)/);
  });

  it('real deliveries are still acknowledged (204) in both modes; what they carried is recorded by kind', async () => {
    const failed = messagePublished(pipelineLogEntryWithState('PIPELINE_STATE_FAILED'), {
      id: '8101',
    });
    assert.equal((await post(chain.functionUrls.register, binaryDelivery(failed))).status, 204);
    const audit = messagePublished(
      {
        logName: 'projects/recs-prod/logs/cloudaudit.googleapis.com%2Factivity',
        protoPayload: {
          '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
          methodName: 'google.cloud.aiplatform.v1.PipelineService.CreatePipelineJob',
        },
        resource: { type: 'audited_resource' },
      },
      { id: '8102' },
    );
    const response = await post(chain.functionUrls.register, structuredDelivery(audit));
    assert.equal(response.status, 204, await response.text());
    const [ignored] = await recorded('8101');
    assert.equal(ignored?.code, 'EVENT.IGNORED');
    assert.equal(ignored?.kind, 'Vertex PipelineJob in state FAILED');
    const [rejected] = await recorded('8102');
    assert.equal(rejected?.kind, 'Cloud Audit Log entry');
    assert.match(
      rejected?.reason ?? '',
      /^a Cloud Audit Log entry \(logName .*, method .*CreatePipelineJob\) is not a training-completed message: \/schema_version: is required/,
    );
  });

  it('JSON that is not a CloudEvent is acknowledged and recorded as such', async () => {
    // A message posted to the function instead of published to its topic.
    const response = await post(chain.functionUrls.register, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schema_version: '1', training_run_id: 'by-hand' }),
    });
    assert.equal(response.status, 204);
    const row = (await recorded('no-id:')).find((e) => e.kind === 'JSON that is not a CloudEvent');
    assert.match(row?.reason ?? '', /^a training-completed message is not a CloudEvent/);
  });
});
