/**
 * What a rejected delivery was, said first: the log entries a sink or
 * trigger wired to the wrong topic delivers, JSON of no known shape, and
 * envelopes that are not Pub/Sub deliveries.
 */
import assert from 'node:assert/strict';
import {
  decodeHttpDelivery,
  explainHttpRejection,
  parseModelDeployed,
  parseTrainingCompleted,
  type EventRejection,
} from '@recdeploy/events';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { rejectionOf } from '../../fixtures/events/results.js';

const auditEntry = {
  insertId: '1x2y3z',
  logName: 'projects/recs-prod/logs/cloudaudit.googleapis.com%2Factivity',
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    serviceName: 'aiplatform.googleapis.com',
    methodName: 'google.cloud.aiplatform.v1.PipelineService.CreatePipelineJob',
    resourceName: 'projects/recs-prod/locations/europe-west1/pipelineJobs/p-1',
  },
  resource: { type: 'audited_resource', labels: { service: 'aiplatform.googleapis.com' } },
  severity: 'NOTICE',
  timestamp: '2026-01-19T16:49:47.012Z',
};

const mlJobEntry = {
  insertId: 'a1',
  logName: 'projects/recs-prod/logs/ml.googleapis.com%2Ftrain-42',
  resource: { type: 'ml_job', labels: { job_id: 'train_42', project_id: 'recs-prod' } },
  textPayload: 'Job completed successfully.',
  severity: 'INFO',
};

const k8sEntry = {
  insertId: 'k1',
  logName: 'projects/recs-prod/logs/stdout',
  resource: {
    type: 'k8s_container',
    labels: { namespace_name: 'kubeflow', container_name: 'main', pod_name: 'p-1' },
  },
  textPayload: 'done',
};

function rejected(payload: unknown): EventRejection {
  return rejectionOf(parseTrainingCompleted(messagePublished(payload)));
}

describe('rejections say what arrived', () => {
  it('a Cloud Audit Log entry, with its log name and method, then the schema details', () => {
    const rejection = rejected(auditEntry);
    assert.equal(rejection.code, 'EVENT.INVALID');
    assert.equal(rejection.kind, 'Cloud Audit Log entry');
    assert.match(
      rejection.reason,
      /^a Cloud Audit Log entry \(logName projects\/recs-prod\/logs\/cloudaudit\.googleapis\.com%2Factivity, method google\.cloud\.aiplatform\.v1\.PipelineService\.CreatePipelineJob\) is not a training-completed message: \/schema_version: is required/,
    );
    assert.equal(rejection.eventId, '9812345678901234');
  });

  it('a legacy AI Platform ml_job entry, a Kubernetes entry, another LogEntry', () => {
    const ml = rejected(mlJobEntry);
    assert.equal(ml.kind, 'legacy AI Platform ml_job log entry');
    assert.match(ml.reason, /^a legacy AI Platform ml_job log entry \(job_id train_42, logName /);
    const k8s = rejected(k8sEntry);
    assert.equal(k8s.kind, 'Kubernetes log entry');
    assert.match(
      k8s.reason,
      /^a Kubernetes log entry \(resource\.type k8s_container, container kubeflow\/main, logName projects\/recs-prod\/logs\/stdout\) is not a training-completed message: /,
    );
    const other = rejected({
      logName: 'projects/p/logs/syslog',
      resource: { type: 'gce_instance' },
    });
    assert.equal(other.kind, 'Cloud Logging LogEntry');
    assert.match(other.reason, /^a Cloud Logging LogEntry \(resource\.type gce_instance, logName /);
  });

  it('JSON of no known shape names its first keys; a message of ours is "invalid"', () => {
    const unknown = rejected({ hello: 'world', n: 1 });
    assert.equal(unknown.kind, 'unrecognised JSON');
    assert.match(
      unknown.reason,
      /^JSON object with keys hello, n is not a training-completed message: /,
    );
    const own = rejected({ schema_version: '1' });
    assert.equal(own.kind, 'training-completed message');
    assert.match(own.reason, /^invalid training-completed message: \/training_run_id: is required/);
    const handOff = rejectionOf(parseModelDeployed(messagePublished(auditEntry)));
    assert.equal(handOff.kind, 'Cloud Audit Log entry');
    assert.match(handOff.reason, /is not a model-deployed message: /);
  });

  it('an Eventarc audit-log trigger, another CloudEvent type, a broken Pub/Sub envelope', () => {
    const trigger = {
      ...messagePublished({}),
      type: 'google.cloud.audit.log.v1.written',
      data: auditEntry,
    };
    const audit = rejectionOf(parseTrainingCompleted(trigger));
    assert.equal(audit.kind, 'Cloud Audit Log entry');
    assert.match(
      audit.reason,
      /^a Cloud Audit Log entry \(logName .*, method .*\), delivered by an Eventarc audit-log trigger, is not a training-completed message: CloudEvent type/,
    );
    const storage = rejectionOf(
      parseTrainingCompleted({
        ...messagePublished({}),
        type: 'google.cloud.storage.object.v1.finalized',
      }),
    );
    assert.equal(storage.kind, 'CloudEvent that is not a Pub/Sub message');
    const broken = rejectionOf(
      parseTrainingCompleted(messagePublished({}, { message: { data: '%%%' } })),
    );
    assert.equal(broken.kind, 'malformed Pub/Sub delivery');
    assert.match(broken.reason, /^a malformed Pub\/Sub delivery: .*base64/);
  });

  it('an HTTP body that is JSON but not a CloudEvent, such as a message posted to the function itself', () => {
    const body = JSON.stringify({ schema_version: '1', training_run_id: 'r-1' });
    const decoded = decodeHttpDelivery({ 'content-type': 'application/json' }, body);
    assert.ok(!decoded.ok);
    const explained = explainHttpRejection(decoded, body, 'training-completed');
    assert.equal(explained.rejection.kind, 'JSON that is not a CloudEvent');
    assert.match(
      explained.rejection.reason,
      /^a training-completed message is not a CloudEvent \(publish training-completed messages to the topic; Eventarc delivers them\): /,
    );
  });
});
