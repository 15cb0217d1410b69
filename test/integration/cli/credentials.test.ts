/**
 * A `--project` command on a machine without Application Default Credentials
 * says so in one line and exits 1: no MetadataLookupWarning, no stack trace.
 * The CLI runs as a real process with an empty HOME (no gcloud well-known
 * file), no GOOGLE_APPLICATION_CREDENTIALS, and the metadata server pointed at
 * a local HTTP server that answers as a host that is not a metadata server
 * (200 without `Metadata-Flavor: Google`, which gcp-metadata warns about).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MISSING_CREDENTIALS_LINE } from '../../../cli/src/cloud-credentials.js';
import { recdeployProcess } from './cli-harness.js';

/**
 * google-auth-library takes a Compute Engine VM (Google BIOS, or a 42:01 MAC
 * address) for one that has credentials, whatever its metadata server says.
 */
function looksLikeComputeEngine(): boolean {
  let vendor = '';
  try {
    vendor = fs.readFileSync('/sys/class/dmi/id/bios_vendor', 'utf8');
  } catch {
    // No DMI data: not a Linux VM with a BIOS of its own.
  }
  const macs = Object.values(os.networkInterfaces()).flatMap((list) =>
    (list ?? []).map((item) => item.mac),
  );
  return /Google/.test(vendor) || macs.some((mac) => /^42:01/i.test(mac));
}

describe('recdeploy --project without credentials', function () {
  this.timeout(60_000);
  let server: http.Server;
  let home: string;
  const asked: string[] = [];

  before(async function () {
    if (looksLikeComputeEngine()) this.skip();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-no-adc-home-'));
    server = http.createServer((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>not a metadata server</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    if (home) fs.rmSync(home, { recursive: true, force: true });
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it('runs --project prints one line naming the fix and exits 1', async () => {
    const { port } = server.address() as AddressInfo;
    const { code, stdout, stderr } = await recdeployProcess(['runs', '--project', 'my-proj'], {
      HOME: home,
      GCE_METADATA_HOST: `127.0.0.1:${port}`,
    });
    // The library did look for a metadata server, and got the answer it warns about.
    assert.ok(
      asked.some((url) => url.startsWith('/computeMetadata/v1/instance')),
      `metadata server asked for ${JSON.stringify(asked)}`,
    );
    assert.equal(stderr, `${MISSING_CREDENTIALS_LINE}\n`);
    assert.equal(stdout, '');
    assert.equal(code, 1);
  });
});
