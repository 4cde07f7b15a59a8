import { expect } from 'chai';
import { Errors } from 'moleculer';
import { isPermanent, retryTransient } from './retry';

describe('retryTransient', () => {
  it('retries a transient failure until it succeeds', async () => {
    let calls = 0;
    const retried: number[] = [];
    const result = await retryTransient(
      async () => {
        calls++;
        if (calls < 3) throw new Errors.ServiceNotAvailableError({ action: 'users.uplines' });
        return 'ok';
      },
      { baseDelayMs: 1, onRetry: (_error, attempt) => retried.push(attempt) },
    );
    expect(result).to.equal('ok');
    expect(calls).to.equal(3);
    expect(retried).to.deep.equal([1, 2]);
  });

  it('does not retry a bad message', async () => {
    let calls = 0;
    const error = await retryTransient(async () => {
      calls++;
      throw new Errors.ValidationError('bad payload', 'VALIDATION_ERROR', {});
    }).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Errors.ValidationError);
    expect(calls).to.equal(1);
  });

  it('gives up when its time budget is spent, with the last error', async () => {
    let calls = 0;
    const started = Date.now();
    const error = await retryTransient(
      async () => {
        calls++;
        throw new Error(`down ${calls}`);
      },
      { budgetMs: 60, baseDelayMs: 10, maxDelayMs: 20 },
    ).catch((e: Error) => e);
    expect((error as Error).message).to.equal(`down ${calls}`);
    expect(calls).to.be.greaterThan(1);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('treats client errors as permanent unless they say they are retryable', () => {
    expect(isPermanent(new Errors.MoleculerClientError('no such user', 404, 'USER_NOT_FOUND'))).to.equal(true);
    expect(isPermanent(new Errors.RequestTimeoutError({ action: 'users.uplines', nodeID: 'x' }))).to.equal(false);
    expect(isPermanent(new Error('connection reset'))).to.equal(false);
  });
});
