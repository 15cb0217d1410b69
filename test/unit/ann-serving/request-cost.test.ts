import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_REQUEST_COST,
  checkRequestCost,
  requestCost,
  requestCostError,
} from '../../../services/ann-serving/src/protocol/request-cost.js';
import { TfStatusError } from '../../../services/ann-serving/src/protocol/tf-status.js';

describe('ann-serving request cost', () => {
  it('is instances × k', () => {
    assert.equal(requestCost(1, 100), 100);
    assert.equal(requestCost(256, 1000), 256_000);
    assert.equal(requestCost(0, 1000), 0);
  });

  it('refuses a request above the ceiling with a 400 naming the limit, the request and the fix', () => {
    assert.throws(
      () => checkRequestCost(256, 1000, 32_768),
      (error: unknown) => {
        assert.ok(error instanceof TfStatusError);
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.equal(error.httpStatus, 400);
        assert.equal(
          error.message,
          'Request cost 256000 (256 instances × k 1000) exceeds the limit of 32768 (MAX_REQUEST_COST); send fewer instances or a smaller k',
        );
        return true;
      },
    );
  });

  it('admits a request exactly at the ceiling and refuses one unit above it', () => {
    assert.doesNotThrow(() => checkRequestCost(32, 1024, 32_768));
    assert.equal(requestCostError(32, 1024, 32_768), undefined);
    assert.match(
      requestCostError(1, 32_769, 32_768)?.message ?? '',
      /^Request cost 32769 \(1 instance × k 32769\) exceeds the limit of 32768/,
    );
  });

  it('the default admits 32 instances at k 1000 and 256 at k 128, not 256 at k 1000', () => {
    assert.equal(requestCostError(32, 1000, DEFAULT_MAX_REQUEST_COST), undefined);
    assert.equal(requestCostError(256, 128, DEFAULT_MAX_REQUEST_COST), undefined);
    assert.ok(requestCostError(256, 1000, DEFAULT_MAX_REQUEST_COST));
    assert.ok(requestCostError(33, 1000, DEFAULT_MAX_REQUEST_COST));
  });
});
