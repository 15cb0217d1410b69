import assert from 'node:assert/strict';
import { describeExposure } from '../../../services/dashboard/src/listen-exposure.js';

describe('dashboard exposure (its listening line)', () => {
  it('says loopback is this machine only, and warns when every interface is bound outside Cloud Run', () => {
    assert.deepEqual(describeExposure('127.0.0.1', 8080, {}), {
      access: 'this machine only (loopback)',
    });
    assert.deepEqual(describeExposure('::1', 8080, {}), { access: 'this machine only (loopback)' });
    const open = describeExposure('0.0.0.0', 8080, {});
    assert.equal(open.access, 'network: every interface (0.0.0.0); unauthenticated');
    assert.match(open.warning ?? '', /port 8080 and has no login of its own/);
    assert.match(open.warning ?? '', /HOST=127\.0\.0\.1/);
    // On Cloud Run, binding every interface is expected; its IAM guards the service.
    const cloudRun = describeExposure('0.0.0.0', 8080, { K_SERVICE: 'recdeploy-dashboard' });
    assert.equal(cloudRun.warning, undefined);
    assert.match(cloudRun.access, /Cloud Run IAM decides who opens it/);
    assert.match(describeExposure('192.168.1.5', 8080, {}).access, /^network: 192\.168\.1\.5;/);
  });
});
