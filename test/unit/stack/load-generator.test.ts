/**
 * The load generator's refusals, which happen before any socket opens (this
 * tier is hermetic); its behaviour against a real server is in
 * test/integration/local-load-generator.test.ts.
 */
import assert from 'node:assert/strict';
import { startLoad } from '../../support/stack/load-generator.js';

const VALID = { ratePerSecond: 10, durationMs: 100, timeoutMs: 1000 };

describe('startLoad refusals', () => {
  for (const url of [
    'http://example.com/v1/models/recs:predict',
    'http://10.0.0.1:8080/',
    'http://127.0.0.1.example.com/',
    'https://127.0.0.1:8443/',
    'http://[::2]:80/',
  ]) {
    it(`refuses ${url}: loopback http only`, () => {
      assert.throws(() => startLoad({ url, ...VALID }), {
        message: `startLoad: only http on loopback is allowed, not ${url}`,
      });
    });
  }

  it('refuses a rate, duration, time-out or in-flight cap that is not positive', () => {
    const url = 'http://127.0.0.1:1/';
    for (const [name, value] of [
      ['ratePerSecond', 0],
      ['durationMs', -1],
      ['timeoutMs', Number.NaN],
      ['maxInFlight', 0],
    ] as const) {
      assert.throws(() => startLoad({ url, ...VALID, [name]: value }), {
        message: `startLoad: ${name} must be > 0, got ${value}`,
      });
    }
  });
});
