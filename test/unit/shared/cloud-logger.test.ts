import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createCloudLogger, loggerForEvent, traceFields } from '@recdeploy/shared';

/** Captures the JSON lines a logger writes. */
function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('cloud logger', () => {
  it('writes one JSON line per call in Cloud Logging format', () => {
    const { stream, lines } = capture();
    const logger = createCloudLogger({ destination: stream, base: { service: 'register' } });
    logger.warn('registry slow', { latencyMs: 812 });
    const [line] = lines();
    assert.equal(line?.severity, 'WARNING');
    assert.equal(line?.message, 'registry slow');
    assert.equal(line?.latencyMs, 812);
    assert.equal(line?.service, 'register');
    assert.ok(!Number.isNaN(Date.parse(String(line?.timestamp))));
    assert.equal(line?.level, undefined, 'pino level number must not leak');
  });

  it('maps every level to a Cloud Logging severity and honours the minimum level', () => {
    const { stream, lines } = capture();
    const logger = createCloudLogger({ destination: stream, level: 'debug' });
    logger.debug('d');
    logger.info('i');
    logger.error('e');
    assert.deepEqual(
      lines().map((l) => l.severity),
      ['DEBUG', 'INFO', 'ERROR'],
    );
    const quiet = capture();
    createCloudLogger({ destination: quiet.stream, level: 'warn' }).info('hidden');
    assert.equal(quiet.lines().length, 0);
  });

  it('serialises an Error with its message, stack and cause', () => {
    const { stream, lines } = capture();
    const cause = new Error('connection reset');
    createCloudLogger({ destination: stream }).error('publish failed', {
      err: new Error('outer', { cause }),
    });
    const err = lines()[0]?.err as { message: string; stack: string; cause: { message: string } };
    assert.equal(err.message, 'outer');
    assert.equal(err.cause.message, 'connection reset');
    assert.match(err.stack, /Error: outer/);
  });

  it('gives every line of an event its id, type, run and trace', () => {
    const { stream, lines } = capture();
    const eventLogger = loggerForEvent(createCloudLogger({ destination: stream }), {
      eventId: 'msg-1',
      eventType: 'google.cloud.pubsub.topic.v1.messagePublished',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      projectId: 'proj-1',
      runId: 'ep-run',
    });
    eventLogger.info('claimed');
    eventLogger.child({ step: 'register' }).info('registered');
    for (const line of lines()) {
      assert.equal(line.eventId, 'msg-1');
      assert.equal(line.runId, 'ep-run');
      assert.equal(
        line['logging.googleapis.com/trace'],
        'projects/proj-1/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      );
      assert.equal(line['logging.googleapis.com/spanId'], '00f067aa0ba902b7');
    }
    assert.equal(lines()[1]?.step, 'register');
  });

  it('ignores malformed or all-zero traceparent headers', () => {
    assert.deepEqual(traceFields('garbage', 'p'), {});
    assert.deepEqual(traceFields(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'p'), {});
    assert.deepEqual(traceFields(undefined, 'p'), {});
  });
});
