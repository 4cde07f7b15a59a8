import { expect } from 'chai';
import { RetryLaterError } from '../../lib/telegram-budget';
import { failureOutcome, MAX_ATTEMPTS } from './outcome';

const telegram = (code: number, description: string, retryAfter?: number) =>
  Object.assign(new Error(description), {
    response: {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter ? { parameters: { retry_after: retryAfter } } : {}),
    },
  });

describe('broadcaster: what a failed send means for its recipient', () => {
  it('blocks on 403 and on the 400s that mean nobody is there', () => {
    expect(failureOutcome('1', 1, telegram(403, 'Forbidden: bot was blocked by the user')).status).to.equal('blocked');
    expect(failureOutcome('1', 1, telegram(403, 'Forbidden: user is deactivated')).status).to.equal('blocked');
    expect(failureOutcome('1', 1, telegram(400, 'Bad Request: chat not found')).status).to.equal('blocked');
  });

  it('fails for good on a 400 about the content itself', () => {
    expect(failureOutcome('1', 1, telegram(400, "Bad Request: can't parse entities"))).to.include({ status: 'failed' });
  });

  it('gives a 429 or a full budget back to pending without counting an attempt', () => {
    const tooMany = failureOutcome('1', 1, telegram(429, 'Too Many Requests: retry after 7', 7));
    expect(tooMany).to.include({ status: 'pending', release: true });
    expect(tooMany.retryAt!.getTime() - Date.now()).to.be.within(6000, 7100);
    expect(failureOutcome('1', 1, new RetryLaterError(2000))).to.include({ status: 'pending', release: true });
  });

  it('retries a 5xx or a refused connection a few times, then fails', () => {
    expect(failureOutcome('1', 1, telegram(502, 'Bad Gateway'))).to.include({ status: 'pending' });
    expect(failureOutcome('1', MAX_ATTEMPTS, telegram(502, 'Bad Gateway'))).to.include({ status: 'failed' });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(failureOutcome('1', 1, refused)).to.include({ status: 'pending' });
  });

  it('takes a timeout or a reset after the request left as ambiguous: a broadcast is never sent twice', () => {
    for (const code of ['ETIMEDOUT', 'ECONNRESET', undefined]) {
      const error = Object.assign(new Error('socket hang up'), code ? { code } : {});
      expect(failureOutcome('1', 1, error).status, String(code)).to.equal('ambiguous');
    }
  });
});
