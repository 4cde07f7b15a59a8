import { expect } from 'chai';
import { rateDecision, windowOf } from './rate-limit';

describe('rate limit decision', () => {
  it('allows up to the limit, warns once on the first update over it, then drops', () => {
    const max = 3;
    expect([1, 2, 3, 4, 5, 6].map((count) => rateDecision(count, max))).to.deep.equal([
      'allow',
      'allow',
      'allow',
      'warn',
      'drop',
      'drop',
    ]);
  });

  it('counts in fixed windows', () => {
    expect(windowOf(0, 60_000)).to.equal(0);
    expect(windowOf(59_999, 60_000)).to.equal(0);
    expect(windowOf(60_000, 60_000)).to.equal(1);
    expect(windowOf(1_700_000_000_123, 1000)).to.equal(1_700_000_000);
  });
});
