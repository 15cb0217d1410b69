/**
 * The verify step's ID-token header source (shared/adapters/gcp/id-token-headers.ts)
 * with a stubbed token minter in place of google-auth-library's GoogleAuth: no
 * network, no credentials. Cloud Run accepts a token whose audience is the
 * service's *.run.app URL or one of its custom audiences, never a tag URL
 * (https://cloud.google.com/run/docs/configuring/custom-audiences).
 */
import assert from 'node:assert/strict';
import { TransientError } from '@recdeploy/shared';
import {
  idTokenHeaders,
  type IdTokenMinter,
} from '../../../shared/adapters/gcp/id-token-headers.js';

const SERVICE_URL = 'https://rec-home-abc123-uc.a.run.app';
const TAG_URL = 'https://run-00000007---rec-home-abc123-uc.a.run.app';
const OTHER_TAG_URL = 'https://run-00000008---rec-home-abc123-uc.a.run.app';

/** Records the audience of every ID-token client asked for; a token names its audience. */
class StubMinter implements IdTokenMinter {
  readonly audiences: string[] = [];
  failNext = false;

  getIdTokenClient(audience: string): Promise<{ getRequestHeaders(): Promise<unknown> }> {
    this.audiences.push(audience);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('no credentials'));
    }
    return Promise.resolve({
      // google-auth-library v10 answers a Headers object.
      getRequestHeaders: () =>
        Promise.resolve(new Headers({ authorization: `Bearer token-for ${audience}` })),
    });
  }
}

describe('idTokenHeaders (the ID token for a private Cloud Run service)', () => {
  it("mints a token for the service's URL when asked for one of its tag URLs, one client per audience", async () => {
    const minter = new StubMinter();
    const headers = idTokenHeaders({ minter: () => minter });
    assert.deepEqual(await headers(TAG_URL, SERVICE_URL), {
      authorization: `Bearer token-for ${SERVICE_URL}`,
    });
    await headers(OTHER_TAG_URL, SERVICE_URL);
    await headers(SERVICE_URL, SERVICE_URL);
    assert.deepEqual(minter.audiences, [SERVICE_URL], 'one client for the service, whatever URL');
  });

  it('mints a token for the custom audience when the service has one', async () => {
    const minter = new StubMinter();
    const headers = idTokenHeaders({ minter: () => minter });
    const custom = 'https://recs.example.com';
    assert.deepEqual(await headers(TAG_URL, custom), {
      authorization: `Bearer token-for ${custom}`,
    });
    assert.deepEqual(minter.audiences, [custom]);
  });

  it('fails as a passing failure when no token can be minted, and asks again next time', async () => {
    const minter = new StubMinter();
    minter.failNext = true;
    const headers = idTokenHeaders({ minter: () => minter });
    await assert.rejects(headers(TAG_URL, SERVICE_URL), (error: unknown) => {
      assert.ok(error instanceof TransientError);
      assert.match(error.message, /audience https:\/\/rec-home-abc123-uc\.a\.run\.app/);
      assert.match(error.message, /no credentials/);
      return true;
    });
    assert.ok((await headers(TAG_URL, SERVICE_URL)).authorization);
    assert.deepEqual(minter.audiences, [SERVICE_URL, SERVICE_URL]);
  });
});
