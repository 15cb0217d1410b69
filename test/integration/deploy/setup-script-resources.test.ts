/**
 * deploy/setup.sh run by bash against a recording stand-in for gcloud
 * (gcloud-stub.cjs): that it runs to the end, and what it creates: topics
 * with their dead-letter topics, the Avro schema, the log sink, Artifact
 * Registry, Firestore and the model bucket, the Cloud Scheduler job, the
 * build triggers. Names are checked against the code's configuration
 * defaults and the descriptors. (Identities and roles:
 * setup-script-identities.test.ts; a second run and missing inputs:
 * setup-script-reruns.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { topicNames } from '@recdeploy/shared';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import { BUILD_SERVICE_ACCOUNT, deadLetterTopicFor } from '../../../deploy/function-deployment.js';
import { ARTIFACT_REPOSITORY, DEPLOYABLES } from '../../../deploy/cloudbuild-plan.js';
import {
  BUCKET,
  PROJECT,
  REGION,
  created,
  flagOf,
  grantsOf,
  type SetupRun,
} from './setup-bench.js';
import { setupScriptRuns, topics } from './setup-script-fixture.js';

describe('deploy/setup.sh (against a recording gcloud)', function () {
  this.timeout(60_000);
  let first: SetupRun;
  const runs = setupScriptRuns();
  before(function () {
    ({ first } = runs());
  });

  it('runs to the end and prints the first deployment command', function () {
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /gcloud builds submit --project=recs-project --region=europe-west1 --config=cloudbuild.yaml/,
    );
  });

  it('creates the topics of the runtime configuration, and a dead-letter topic with a subscription for each trigger topic', function () {
    const triggerTopics = FUNCTION_DEPLOYMENTS.map((d) => d.triggerTopic);
    assert.deepEqual(
      created(first, 'pubsub', 'topics').sort(),
      [...topicNames(topics), ...triggerTopics.map(deadLetterTopicFor)].sort(),
    );
    assert.deepEqual(
      created(first, 'pubsub', 'subscriptions').sort(),
      triggerTopics.map((t) => `${deadLetterTopicFor(t)}-sub`).sort(),
    );
    const sub = first.calls.find((c) => c[1] === 'subscriptions' && c[2] === 'create');
    assert.ok(
      sub?.includes('--expiration-period=never'),
      'a dead-letter subscription never expires',
    );
    // Pub/Sub's service agent may publish to each dead-letter topic.
    for (const topic of triggerTopics.map(deadLetterTopicFor)) {
      assert.ok(
        first.calls.some(
          (c) =>
            c.join(' ') ===
            `pubsub topics add-iam-policy-binding ${topic} --member=serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com --role=roles/pubsub.publisher`,
        ),
        topic,
      );
    }
  });

  it('creates the Avro schema for publishers but does not attach it to the topic', function () {
    const schema = first.calls.find((c) => c.slice(0, 3).join(' ') === 'pubsub schemas create');
    assert.ok(schema);
    assert.equal(schema[3], 'training-completed-v1');
    assert.ok(schema.includes('--type=avro'));
    assert.ok(schema.some((a) => a.endsWith('/events/schemas/training-completed.v1.avsc')));
    assert.ok(!first.calls.flat().some((a) => a.startsWith('--schema')), 'no topic has --schema');
  });

  it('routes PipelineJob SUCCEEDED log entries to training-completed and lets the sink publish there', function () {
    const sink = first.calls.find((c) => c.slice(0, 3).join(' ') === 'logging sinks create');
    assert.deepEqual(sink?.slice(3, 5), [
      'recdeploy-pipeline-job-succeeded',
      `pubsub.googleapis.com/projects/${PROJECT}/topics/${topics.trainingCompleted}`,
    ]);
    assert.equal(
      sink?.find((a) => a.startsWith('--log-filter=')),
      '--log-filter=' +
        `logName="projects/${PROJECT}/logs/aiplatform.googleapis.com%2Fpipeline_job_events"\n` +
        'AND resource.type="aiplatform.googleapis.com/PipelineJob"\n' +
        'AND jsonPayload.state="PIPELINE_STATE_SUCCEEDED"',
    );
    assert.ok(
      grantsOf(
        first,
        'serviceAccount:service-123456789012@gcp-sa-logging.iam.gserviceaccount.com',
      ).includes(`topic:${topics.trainingCompleted} roles/pubsub.publisher`),
    );
  });

  it('creates Artifact Registry, Firestore with its indexes and TTL, and the model bucket', async function () {
    assert.deepEqual(created(first, 'artifacts', 'repositories'), [ARTIFACT_REPOSITORY]);
    const db = first.calls.find((c) => c.slice(0, 3).join(' ') === 'firestore databases create');
    assert.deepEqual(db?.slice(3), [
      '--database=(default)',
      `--location=${REGION}`,
      '--type=firestore-native',
    ]);
    const file = JSON.parse(
      await readFile(new URL('../../../deploy/firestore.indexes.json', import.meta.url), 'utf8'),
    ) as { indexes: { collectionGroup: string; fields: { fieldPath: string; order: string }[] }[] };
    const indexCalls = first.calls
      .filter((c) => c.slice(0, 4).join(' ') === 'firestore indexes composite create')
      .map((c) => [
        c.find((a) => a.startsWith('--collection-group='))?.split('=')[1],
        ...c
          .filter((a) => a.startsWith('--field-config='))
          .map((a) => a.slice('--field-config='.length)),
      ]);
    assert.deepEqual(
      indexCalls,
      file.indexes.map((i) => [
        i.collectionGroup,
        ...i.fields.map((f) => `field-path=${f.fieldPath},order=${f.order.toLowerCase()}`),
      ]),
    );
    assert.ok(
      first.calls.some(
        (c) =>
          c.join(' ') ===
          'firestore fields ttls update expireAt --database=(default) --collection-group=rejected_events --enable-ttl --async',
      ),
    );
    assert.deepEqual(created(first, 'storage', 'buckets'), [`gs://${BUCKET}`]);
  });

  it("enables Cloud Scheduler and has it publish a tick to the reconcile function's topic every minute", function () {
    const reconcile = FUNCTION_DEPLOYMENTS.find((d) => d.workspace === 'reconcile');
    assert.equal(reconcile?.triggerTopic, topics.reconcileTick);
    const enable = first.calls.find((c) => c.slice(0, 2).join(' ') === 'services enable');
    assert.ok(enable?.includes('cloudscheduler.googleapis.com'), 'the Cloud Scheduler API');
    const jobs = first.calls.filter((c) => c.slice(0, 2).join(' ') === 'scheduler jobs');
    assert.deepEqual(
      jobs.map((c) => c.slice(2, 5).filter((a) => !a.startsWith('--'))),
      [
        ['describe', 'recdeploy-reconcile-tick'],
        ['create', 'pubsub', 'recdeploy-reconcile-tick'],
      ],
      'looked up, then created',
    );
    const create = jobs[1] ?? [];
    assert.equal(flagOf(create, 'location'), REGION);
    assert.equal(flagOf(create, 'schedule'), '* * * * *');
    assert.equal(flagOf(create, 'time-zone'), 'Etc/UTC');
    assert.equal(flagOf(create, 'topic'), topics.reconcileTick);
    // Pub/Sub needs data or attributes; the handler ignores what it is.
    assert.ok((flagOf(create, 'message-body') ?? '').length > 0);
    // The topic exists before the job that publishes to it.
    const topicCreated = first.calls.findIndex(
      (c) =>
        c.join(' ') ===
        `pubsub topics create ${topics.reconcileTick} --message-retention-duration=7d`,
    );
    assert.ok(topicCreated >= 0 && topicCreated < first.calls.indexOf(create));
  });

  it('imports one trigger per deployable with the placeholders filled in', function () {
    assert.deepEqual(
      first.imports.map((i) => i.file).sort(),
      DEPLOYABLES.map((d) => `${d.id}.yaml`).sort(),
    );
    for (const imported of first.imports) {
      const trigger = parse(imported.content) as {
        github: { owner: string; name: string; push: { branch: string } };
        serviceAccount: string;
        substitutions: { _REGION: string };
      };
      assert.deepEqual(trigger.github, { owner: 'acme', name: 'recs', push: { branch: '^main$' } });
      assert.equal(
        trigger.serviceAccount,
        `projects/${PROJECT}/serviceAccounts/${BUILD_SERVICE_ACCOUNT}@${PROJECT}.iam.gserviceaccount.com`,
      );
      assert.equal(trigger.substitutions._REGION, REGION);
      assert.doesNotMatch(JSON.stringify(trigger), /__[A-Z_]+__/, imported.file);
    }
  });
});
