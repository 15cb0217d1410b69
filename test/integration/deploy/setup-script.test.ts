/**
 * deploy/setup.sh run by bash against a recording stand-in for gcloud
 * (gcloud-stub.cjs): what it creates, who gets which role, the log sink,
 * the dead-letter topics, and that a second run creates nothing. Names are
 * checked against the code's configuration defaults and the descriptors.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { loadRuntimeConfig, topicNames } from '@recdeploy/shared';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import {
  BUILD_SERVICE_ACCOUNT,
  TRIGGER_SERVICE_ACCOUNT,
  deadLetterTopicFor,
} from '../../../deploy/function-deployment.js';
import {
  ARTIFACT_REPOSITORY,
  DASHBOARD_SERVICE,
  DEPLOYABLES,
  INDEX_BUILD_JOB,
  SERVING_SERVICE_ACCOUNT,
} from '../../../deploy/cloudbuild-plan.js';
import {
  BUCKET,
  PROJECT,
  REGION,
  SetupBench,
  created,
  flagOf,
  grantsOf,
  type SetupRun,
} from './setup-bench.js';

const topics = loadRuntimeConfig({}).topics;

describe('deploy/setup.sh (against a recording gcloud)', function () {
  this.timeout(60_000);
  let bench: SetupBench | undefined;
  let first: SetupRun;
  let second: SetupRun;

  const inputs = {
    PROJECT,
    REGION,
    MODEL_BUCKET: `gs://${BUCKET}/`,
    GITHUB_OWNER: 'acme',
    GITHUB_REPO: 'recs',
  };

  before(async function () {
    bench = await SetupBench.create();
    first = await bench.run(inputs);
    // The second run also lets the deploy function make public services.
    second = await bench.run({ ...inputs, DEPLOY_ALLOW_PUBLIC: 'true' });
  });

  after(async function () {
    await bench?.remove();
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

  it('creates one service account per function, job, serving, dashboard, trigger and build identity', function () {
    assert.deepEqual(
      created(first, 'iam', 'service-accounts').sort(),
      [
        ...FUNCTION_DEPLOYMENTS.map((d) => d.serviceAccount),
        INDEX_BUILD_JOB.serviceAccount,
        SERVING_SERVICE_ACCOUNT,
        DASHBOARD_SERVICE.serviceAccount,
        TRIGGER_SERVICE_ACCOUNT,
        BUILD_SERVICE_ACCOUNT,
      ].sort(),
    );
  });

  it('grants each identity exactly the roles of the permissions table', function () {
    const sa = (id: string) => `serviceAccount:${id}@${PROJECT}.iam.gserviceaccount.com`;
    const expected: Record<string, string[]> = {
      'recdeploy-register': [
        'project roles/aiplatform.user',
        'project roles/datastore.user',
        'bucket roles/storage.objectViewer',
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      'recdeploy-deploy': [
        'project roles/run.developer',
        'project roles/datastore.user',
        'bucket roles/storage.objectAdmin',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `sa:${INDEX_BUILD_JOB.serviceAccount} roles/iam.serviceAccountUser`,
        `topic:${topics.modelDeployed} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      'recdeploy-verify': [
        'project roles/run.developer',
        'project roles/run.invoker',
        'project roles/datastore.user',
        'bucket roles/storage.objectViewer',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
      ],
      // Reads what serves and index-build executions; moves canary traffic (a service
      // update: run.developer and act-as on the serving identity); reads live-traffic
      // metrics; no bucket; publishes every hand-off it may re-drive, and outcomes.
      'recdeploy-reconcile': [
        'project roles/datastore.user',
        'project roles/run.developer',
        'project roles/monitoring.viewer',
        `sa:${SERVING_SERVICE_ACCOUNT} roles/iam.serviceAccountUser`,
        `topic:${topics.trainingCompleted} roles/pubsub.publisher`,
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
        `topic:${topics.modelDeployed} roles/pubsub.publisher`,
        `topic:${topics.deploymentFinished} roles/pubsub.publisher`,
        `topic:${topics.freshnessAlert} roles/pubsub.publisher`,
      ],
      [INDEX_BUILD_JOB.serviceAccount]: [
        'bucket roles/storage.objectAdmin',
        `topic:${topics.modelRegistered} roles/pubsub.publisher`,
      ],
      // Reads its model; writes its replay sample, under replay/ only (the condition is checked below).
      [SERVING_SERVICE_ACCOUNT]: [
        'bucket roles/storage.objectViewer',
        'bucket roles/storage.objectUser',
      ],
      [DASHBOARD_SERVICE.serviceAccount]: ['project roles/datastore.viewer'],
      [TRIGGER_SERVICE_ACCOUNT]: [],
      [BUILD_SERVICE_ACCOUNT]: [
        'project roles/cloudbuild.builds.builder',
        'project roles/cloudfunctions.developer',
        'project roles/run.admin',
        'project roles/eventarc.viewer',
        'project roles/pubsub.editor',
        ...[
          ...FUNCTION_DEPLOYMENTS.map((d) => d.serviceAccount),
          INDEX_BUILD_JOB.serviceAccount,
          DASHBOARD_SERVICE.serviceAccount,
          TRIGGER_SERVICE_ACCOUNT,
          BUILD_SERVICE_ACCOUNT,
        ].map((id) => `sa:${id} roles/iam.serviceAccountUser`),
      ],
    };
    for (const [id, roles] of Object.entries(expected)) {
      assert.deepEqual(grantsOf(first, sa(id)).sort(), [...roles].sort(), id);
    }
    // The descriptors run as accounts this table covers.
    for (const d of FUNCTION_DEPLOYMENTS) assert.ok(d.serviceAccount in expected, d.name);
    // The serving identity may write under replay/ only, never the bundles beside it.
    const write = first.calls.find(
      (c) =>
        c.includes(`--member=${sa(SERVING_SERVICE_ACCOUNT)}`) &&
        c.includes('--role=roles/storage.objectUser'),
    );
    assert.equal(
      flagOf(write ?? [], 'condition'),
      `expression=resource.name.startsWith("projects/_/buckets/${BUCKET}/objects/replay/"),title=replay-samples,description=ann-serving writes its sample of live queries here`,
    );
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

  it('creates nothing on a second run and still applies every binding and setting', function () {
    assert.equal(second.code, 0, second.stderr);
    const creates = second.calls.filter((c) => c.includes('create'));
    // Index creation is attempted and its ALREADY_EXISTS tolerated.
    assert.ok(creates.every((c) => c.slice(0, 3).join(' ') === 'firestore indexes composite'));
    const bindings = (run: SetupRun) =>
      run.calls.filter((c) => c.includes('add-iam-policy-binding'));
    // DEPLOY_ALLOW_PUBLIC=true adds exactly one: deploy may turn the invoker check off.
    const deploy = `serviceAccount:recdeploy-deploy@${PROJECT}.iam.gserviceaccount.com`;
    const isPublicGrant = (c: readonly string[]) =>
      c.includes(`--member=${deploy}`) && c.includes('--role=roles/run.admin');
    assert.equal(bindings(second).filter(isPublicGrant).length, 1);
    assert.deepEqual(
      bindings(second).filter((c) => !isPublicGrant(c)),
      bindings(first),
    );
    assert.ok(second.calls.some((c) => c.slice(0, 3).join(' ') === 'logging sinks update'));
    // The scheduler job is found and its schedule, topic and body applied again.
    const update = second.calls.find(
      (c) => c.slice(0, 4).join(' ') === 'scheduler jobs update pubsub',
    );
    assert.equal(update?.[4], 'recdeploy-reconcile-tick');
    const firstCreate = first.calls.find(
      (c) => c.slice(0, 4).join(' ') === 'scheduler jobs create pubsub',
    );
    assert.deepEqual(update?.slice(5), firstCreate?.slice(5), 'the same settings');
  });

  it('refuses to start without its inputs, naming each', async function () {
    const run = await bench!.run({ PROJECT: 'Bad_Project', DEPLOY_ALLOW_PUBLIC: 'yes' });
    assert.equal(run.code, 2);
    assert.equal(run.calls.length, 0, 'no gcloud call');
    assert.match(run.stderr, /PROJECT "Bad_Project" is not a project id/);
    assert.match(run.stderr, /DEPLOY_ALLOW_PUBLIC must be true or false \(got "yes"\)/);
    assert.match(run.stderr, /REGION is required/);
    assert.match(run.stderr, /MODEL_BUCKET is required/);
  });
});
