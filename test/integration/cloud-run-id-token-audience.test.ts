/**
 * CloudRunPlatform reports the ID-token audience of a service over real gRPC
 * to the Cloud Run fake: its first custom audience when an operator set one
 * (`gcloud run services update --add-custom-audiences`), else nothing, and
 * callers use the service URL. Cloud Run accepts a token for either, never
 * one for a tag URL (https://cloud.google.com/run/docs/configuring/custom-audiences).
 */
import assert from 'node:assert/strict';
import { ServicesClient } from '@google-cloud/run';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';
import {
  PlatformFixture,
  SERVICE_NAME,
  SERVICE_URL,
  spec,
} from './support/cloud-run-platform-fixture.js';

describe('CloudRunPlatform: the ID-token audience of a service', function () {
  this.timeout(30_000);
  let fixture: PlatformFixture;

  before(async () => {
    fixture = await PlatformFixture.start();
    await fixture.platform.deployRevision(spec(1));
  });

  after(async () => {
    await fixture?.stop();
  });

  it('names no audience besides the service URL for a service without custom audiences', async () => {
    const traffic = await fixture.platform.describe('rec-shop');
    assert.equal(traffic?.serviceUrl, SERVICE_URL);
    assert.equal(traffic?.idTokenAudience, undefined);
  });

  it('names the custom audience an operator set on the service', async () => {
    const client = new ServicesClient(fakeClientOptions(fixture.fake.port));
    try {
      const [service] = await client.getService({ name: SERVICE_NAME });
      const [operation] = await client.updateService({
        service: { ...service, customAudiences: ['https://recs.example.com'] },
      });
      await operation.promise();
    } finally {
      await client.close();
    }
    const traffic = await fixture.platform.describe('rec-shop');
    assert.equal(traffic?.idTokenAudience, 'https://recs.example.com');
  });
});
