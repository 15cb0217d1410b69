/**
 * The rehearsal's ID tokens and metadata server without revisions: what a
 * token check refuses (expired, another key, malformed) and what the
 * metadata server refuses (no Metadata-Flavor header, no audience). The
 * happy paths run through the simulator in cloud-run-simulator.test.ts.
 */
import assert from 'node:assert/strict';
import { IdTokenIssuer } from '../../support/rehearsal/id-token.js';
import {
  startMetadataServer,
  type MetadataServer,
} from '../../support/rehearsal/metadata-server.js';

const AUDIENCE = 'http://127.0.0.1:1';

describe('rehearsal ID tokens', () => {
  const issuer = new IdTokenIssuer('caller@test-project.iam.gserviceaccount.com');

  it('accepts its own token for a listed audience, with Google ID token claims', () => {
    const check = issuer.check(issuer.mint(AUDIENCE), ['https://other', AUDIENCE]);
    assert.ok(check.valid, JSON.stringify(check));
    assert.equal(check.claims.iss, 'https://accounts.google.com');
    assert.equal(check.claims.email, 'caller@test-project.iam.gserviceaccount.com');
    assert.equal(check.claims.exp - check.claims.iat, 3600);
  });

  it('refuses an expired token, one signed by another key, and a malformed one', () => {
    const twoHoursAgo = Date.now() - 2 * 3600_000;
    assert.deepEqual(issuer.check(issuer.mint(AUDIENCE, twoHoursAgo), [AUDIENCE]), {
      valid: false,
      reason: 'expired',
    });
    const stranger = new IdTokenIssuer('caller@test-project.iam.gserviceaccount.com');
    assert.deepEqual(issuer.check(stranger.mint(AUDIENCE), [AUDIENCE]), {
      valid: false,
      reason: 'signature does not verify',
    });
    assert.equal(issuer.check('not-a-token', [AUDIENCE]).valid, false);
  });
});

describe('rehearsal metadata server', () => {
  const issuer = new IdTokenIssuer('caller@test-project.iam.gserviceaccount.com');
  let server: MetadataServer;
  const get = (path: string, headers: Record<string, string> = { 'Metadata-Flavor': 'Google' }) =>
    fetch(`http://${server.host}/computeMetadata/v1/${path}`, { headers });

  before(async () => {
    server = await startMetadataServer({ projectId: 'test-project', issuer });
  });
  after(() => server?.close());

  it('answers the project id and the account e-mail, always with Metadata-Flavor: Google', async () => {
    const project = await get('project/project-id');
    assert.equal(project.headers.get('metadata-flavor'), 'Google');
    assert.equal(await project.text(), 'test-project');
    const email = await get('instance/service-accounts/default/email');
    assert.equal(await email.text(), 'caller@test-project.iam.gserviceaccount.com');
  });

  it('refuses a request without Metadata-Flavor, and an identity request without an audience', async () => {
    const bare = await get('instance/service-accounts/default/identity?audience=x', {});
    assert.equal(bare.status, 403);
    const noAudience = await get('instance/service-accounts/default/identity?format=full');
    assert.equal(noAudience.status, 400);
    assert.equal(
      (await get('instance/service-accounts/someone-else/identity?audience=x')).status,
      404,
    );
  });
});
