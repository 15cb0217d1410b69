/**
 * Runs a LocalEventBus in its own process for the crash/restart test:
 *
 *   node --conditions=source --import tsx test/support/run-local-bus.ts <db> <endpoint> <count>
 *
 * Declares the topic and subscription (idempotent), publishes `count`
 * messages, printing `{"published":"<id>"}` for each once it is durable,
 * starts delivering, and when nothing is pending prints `{"drained":<stats>}`
 * and exits 0. The parent may SIGKILL it at any point.
 */
import { LocalEventBus } from '@recdeploy/shared/local';

const [file, endpoint, countText] = process.argv.slice(2);
if (!file || !endpoint || !countText)
  throw new Error('usage: run-local-bus <db> <endpoint> <count>');

const bus = new LocalEventBus({ file, projectId: 'restart-test', maxInFlight: 8 });
bus.createTopic('work');
bus.createSubscription({
  name: 'work-sub',
  topic: 'work',
  pushEndpoint: endpoint,
  // Short lease so a restarted bus redelivers the crashed attempts quickly;
  // plenty of attempts so nothing is dead-lettered.
  ackDeadlineMs: 500,
  minBackoffMs: 20,
  maxBackoffMs: 100,
  maxDeliveryAttempts: 100,
});

const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

for (let n = 0; n < Number(countText); n++) {
  print({ published: await bus.publish('work', { data: { n } }) });
}
bus.start();

const watch = setInterval(() => {
  const stats = bus.stats();
  if (stats.pending > 0) return;
  clearInterval(watch);
  print({ drained: stats });
  void bus.close().then(() => process.exit(0));
}, 50);
