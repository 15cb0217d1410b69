import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import {
  clientAddress,
  type ClientRequestLike,
} from '../../../services/dashboard/src/http/client-address.js';

function request(remoteAddress: string, headers: IncomingHttpHeaders = {}): ClientRequestLike {
  return { headers, socket: { remoteAddress } };
}

describe('dashboard client address (per-client stream limit key)', () => {
  it('is the socket peer without trusted proxies, whatever X-Forwarded-For says', () => {
    assert.equal(clientAddress(request('10.0.0.7'), 0), '10.0.0.7');
    assert.equal(
      clientAddress(request('10.0.0.7', { 'x-forwarded-for': '203.0.113.9' }), 0),
      '10.0.0.7',
    );
    // One spelling for an IPv4 client on a dual-stack socket.
    assert.equal(clientAddress(request('::FFFF:127.0.0.1'), 0), '127.0.0.1');
  });

  it('behind N proxies, is the N-th X-Forwarded-For entry from the right, never what the client wrote', () => {
    // Cloud Run (1 proxy): the last entry is the one the front end wrote.
    const spoofed = request('169.254.1.1', { 'x-forwarded-for': '1.2.3.4, 198.51.100.20' });
    assert.equal(clientAddress(spoofed, 1), '198.51.100.20');
    // A load balancer in front appends the client and its own address.
    const balanced = request('169.254.1.1', {
      'x-forwarded-for': '1.2.3.4,198.51.100.20 , 34.120.0.1',
    });
    assert.equal(clientAddress(balanced, 2), '198.51.100.20');
    // Fewer entries than proxies: the leftmost; no header: the peer.
    assert.equal(
      clientAddress(request('169.254.1.1', { 'x-forwarded-for': '::ffff:192.0.2.1' }), 3),
      '192.0.2.1',
    );
    assert.equal(clientAddress(request('169.254.1.1'), 1), '169.254.1.1');
    assert.equal(
      clientAddress(request('169.254.1.1', { 'x-forwarded-for': ' , ' }), 1),
      '169.254.1.1',
    );
  });
});
