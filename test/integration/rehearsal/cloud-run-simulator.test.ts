/**
 * The rehearsal's Cloud Run simulator through the real CloudRunPlatform
 * adapter (real gRPC to the Admin API fake), with revisions that really run
 * services/ann-serving on a real sample bundle: tag and service URLs answer
 * predicts, a revision whose process fails is reported failed while the
 * previous one keeps serving, and a private service checks real ID tokens
 * minted by the metadata server, which google-auth-library uses unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudRunPlatform } from '../../../shared/adapters/gcp/cloud-run-platform.js';
import { RecordingLogger } from '../../../shared/logging/recording-logger.js';
import type { RevisionSpec } from '../../../shared/ports/serving-platform.port.js';
import { startupProbePathFor } from '../../../shared/usecases/serving-container.js';
import { sampleBundle, type SampleBundle } from '../../support/ann-serving/sample-bundle.js';
import { fakeClientOptions } from '../../support/fakes/grpc-fake-server.js';
import {
  startCloudRunSimulator,
  type CloudRunSimulator,
} from '../../support/rehearsal/cloud-run-simulator.js';
import { REPO_ROOT } from '../../support/service-process.js';
import { rejection, spec } from '../support/cloud-run-platform-fixture.js';

const MODEL = 'shop';
const ANN_IMAGE = 'us-docker.pkg.dev/test-project/serving/ann-serving:latest';

describe('Cloud Run simulator: real revisions behind the real CloudRunPlatform', function () {
  this.timeout(120_000);
  let bundle: SampleBundle;
  let simulator: CloudRunSimulator;
  let platform: CloudRunPlatform;
  let serviceUrl = '';

  /** An ann-serving revision of the sample bundle (or of `modelPath`). */
  const annSpec = (n: number, modelPath = `file://${bundle.dir}`): RevisionSpec =>
    spec(n, {
      runtime: 'ann-serving',
      image: ANN_IMAGE,
      env: { MODEL_PATH: modelPath, MODEL_NAME: MODEL, TRAINING_RUN_ID: `run-${n}` },
      startupProbePath: startupProbePathFor('ann-serving', MODEL),
    });

  /** An ID token from the metadata server, as a Cloud Run caller gets one. */
  const idToken = async (audience: string): Promise<string> => {
    const url = `http://${simulator.metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`;
    const response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
    assert.equal(response.status, 200);
    return response.text();
  };

  const predict = (baseUrl: string, token?: string) =>
    fetch(`${baseUrl}/v1/models/${MODEL}:predict`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ instances: bundle.examples.slice(0, 2) }),
    });

  /** The run id of the revision that answered a 200 predict. */
  const answeredBy = async (response: Response): Promise<string | null> => {
    const body = await response.text();
    assert.equal(response.status, 200, body);
    const predictions = (JSON.parse(body) as { predictions: unknown[] }).predictions;
    assert.equal(predictions.length, 2);
    return response.headers.get('x-recdeploy-run-id');
  };

  before(async () => {
    bundle = await sampleBundle();
    simulator = await startCloudRunSimulator({
      projectId: 'test-project',
      region: 'us-central1',
      probeScale: 0.05,
    });
    platform = new CloudRunPlatform({
      projectId: 'test-project',
      region: 'us-central1',
      logger: new RecordingLogger(),
      clientOptions: fakeClientOptions(simulator.port),
      pollIntervalMs: 50,
      readyTimeoutMs: 60_000,
    });
  });

  after(async () => {
    await platform?.close();
    await simulator?.close();
  });

  it('deploys a revision that answers on its tag URL, for a token whose audience is the service URL', async () => {
    const deployed = await platform.deployRevision(annSpec(1));
    serviceUrl = deployed.serviceUrl;
    assert.match(deployed.tagUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(serviceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(deployed.tagUrl, serviceUrl);
    const stored = simulator.fake.service('rec-shop');
    assert.deepEqual(stored?.urls, [serviceUrl]);

    const anonymous = await predict(deployed.tagUrl);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /Your client does not have permission to get URL/);
    // Cloud Run accepts the service's URL (or a custom audience) as `aud`, not a tag URL.
    const tagAudience = await predict(deployed.tagUrl, await idToken(deployed.tagUrl));
    assert.equal(tagAudience.status, 401);
    assert.match(await tagAudience.text(), /Error: Unauthorized/);
    const forged = (await idToken(serviceUrl)).replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
    assert.equal((await predict(deployed.tagUrl, forged)).status, 401);

    assert.equal(
      await answeredBy(await predict(deployed.tagUrl, await idToken(serviceUrl))),
      'run-1',
    );
  });

  it('serves the promoted revision on the service URL, to google-auth-library ID tokens', async () => {
    const traffic = await platform.promote('rec-shop', 'rec-shop-r1');
    assert.equal(traffic.liveRevision, 'rec-shop-r1');
    assert.equal(await answeredBy(await predict(serviceUrl, await idToken(serviceUrl))), 'run-1');

    // A process configured only with the metadata env, as a function on Cloud Run is.
    const answer = await googleAuthRequest(simulator, serviceUrl, `/v1/models/${MODEL}`);
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /"state"\s*:\s*"AVAILABLE"/);
  });

  it('reports a revision whose process fails as failed, and the live one keeps serving', async () => {
    const missing = path.join(os.tmpdir(), `no-such-bundle-${process.pid}`);
    const error = await rejection(platform.deployRevision(annSpec(2, `file://${missing}`)));
    assert.match(
      String(error),
      /Revision 'rec-shop-r2' is not ready and cannot serve traffic\. The user-provided container failed to start and listen on the port/,
    );
    const described = await platform.describe('rec-shop');
    assert.equal(described?.liveRevision, 'rec-shop-r1');
    assert.equal(await answeredBy(await predict(serviceUrl, await idToken(serviceUrl))), 'run-1');
  });

  it('fails a TF Serving revision with the reason: the rehearsal has no TF Serving binary', async () => {
    const error = await rejection(platform.deployRevision(spec(3)));
    assert.match(String(error), /cannot run image us-docker\.pkg\.dev\/p\/serving\/tf:3/);
    assert.equal(await answeredBy(await predict(serviceUrl, await idToken(serviceUrl))), 'run-1');
  });

  it('splits the service URL by the traffic percents, while each tag URL keeps its revision', async () => {
    const token = await idToken(serviceUrl);
    const second = await platform.deployRevision(annSpec(4));
    assert.equal(await answeredBy(await predict(second.tagUrl, token)), 'run-4');
    assert.equal(await answeredBy(await predict(serviceUrl, token)), 'run-1', 'new revision: 0%');

    await platform.splitTraffic('rec-shop', [
      { revision: 'rec-shop-r1', percent: 50 },
      { revision: 'rec-shop-r4', percent: 50 },
    ]);
    const seen = new Set<string | null>();
    // Both halves answer within 40 requests unless the split is broken (chance 2 × 0.5^40).
    for (let i = 0; i < 40 && seen.size < 2; i += 1) {
      seen.add(await answeredBy(await predict(serviceUrl, token)));
    }
    assert.deepEqual([...seen].sort(), ['run-1', 'run-4']);
    assert.equal(await answeredBy(await predict(second.tagUrl, token)), 'run-4');
  });
});

/**
 * GETs `url + path` from a separate Node process with google-auth-library's
 * getIdTokenClient(url), its only configuration the simulator's metadata env
 * (and a gcloud config folder that holds no credentials, so the library can
 * only find the metadata server).
 */
async function googleAuthRequest(
  simulator: CloudRunSimulator,
  url: string,
  requestPath: string,
): Promise<{ status: number; body: string }> {
  const script = `
    import { GoogleAuth } from 'google-auth-library';
    const client = await new GoogleAuth().getIdTokenClient(process.env.AUDIENCE);
    const res = await client.request({ url: process.env.AUDIENCE + process.env.REQUEST_PATH, responseType: 'text', validateStatus: () => true });
    process.stdout.write(JSON.stringify({ status: res.status, body: res.data }));`;
  const gcloudConfig = await mkdtemp(path.join(os.tmpdir(), 'empty-gcloud-'));
  try {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: gcloudConfig,
        CLOUDSDK_CONFIG: gcloudConfig,
        AUDIENCE: url,
        REQUEST_PATH: requestPath,
        ...simulator.metadataEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, err);
    return JSON.parse(out) as { status: number; body: string };
  } finally {
    await rm(gcloudConfig, { recursive: true, force: true });
  }
}
