import { expect } from 'chai';
import { TelegramError } from 'telegraf';
import { rootLogger } from '../../../lib/logger';
import type { BotContext } from '../context';
import { retryAfterSeconds, waitOutFloodLimits } from './flood-wait';

const tooMany = (seconds: number) =>
  new TelegramError({
    error_code: 429,
    description: `Too Many Requests: retry after ${seconds}`,
    parameters: { retry_after: seconds },
  });

function fakeContext(results: (Error | string)[]) {
  const calls: string[] = [];
  const telegram = {
    async callApi(method: string) {
      calls.push(method);
      const next = results.shift();
      if (next instanceof Error) throw next;
      return next;
    },
  };
  const ctx = { telegram, gateway: { log: rootLogger().child({}, { level: 'silent' }) } } as unknown as BotContext;
  return { ctx, calls };
}

async function wrapped(results: (Error | string)[], sleeps: number[]) {
  const { ctx, calls } = fakeContext(results);
  const middleware = waitOutFloodLimits({ maxWaitSeconds: 5, attempts: 3, sleep: async (ms) => void sleeps.push(ms) });
  await middleware(ctx, async () => undefined);
  const call = () => (ctx.telegram.callApi as unknown as (m: string) => Promise<unknown>)('sendMessage');
  return { call, calls };
}

describe('waitOutFloodLimits', () => {
  it('reads retry_after from a 429 only', () => {
    expect(retryAfterSeconds(tooMany(3))).to.equal(3);
    expect(retryAfterSeconds(new TelegramError({ error_code: 400, description: 'Bad Request' }))).to.equal(undefined);
    expect(retryAfterSeconds(new Error('network'))).to.equal(undefined);
  });

  it('waits as long as Telegram asks and calls again', async () => {
    const sleeps: number[] = [];
    const { call, calls } = await wrapped([tooMany(1), tooMany(2), 'ok'], sleeps);
    expect(await call()).to.equal('ok');
    expect(calls).to.have.length(3);
    expect(sleeps).to.deep.equal([1000, 2000]);
  });

  it('gives up after the attempts, on a long wait, and on other errors', async () => {
    const sleeps: number[] = [];
    const limited = await wrapped([tooMany(1), tooMany(1), tooMany(1), 'never'], sleeps);
    await limited.call().then(
      () => expect.fail('should have failed'),
      (error) => expect(retryAfterSeconds(error)).to.equal(1),
    );
    expect(limited.calls).to.have.length(3);

    const long = await wrapped([tooMany(30), 'never'], sleeps);
    await long.call().then(
      () => expect.fail('should have failed'),
      (error) => expect(retryAfterSeconds(error)).to.equal(30),
    );
    expect(long.calls).to.have.length(1);

    const other = await wrapped([new Error('boom'), 'never'], sleeps);
    await other.call().then(
      () => expect.fail('should have failed'),
      (error: Error) => expect(error.message).to.equal('boom'),
    );
    expect(other.calls).to.have.length(1);
  });

  it('lets the calls for one chat take turns', async () => {
    const middleware = waitOutFloodLimits({ maxWaitSeconds: 5, attempts: 3, sleep: async () => undefined });
    const order: string[] = [];
    const contextFor = (name: string, chatId: number, ms: number) => {
      const telegram = {
        async callApi() {
          order.push(`${name} start`);
          await new Promise((resolve) => setTimeout(resolve, ms));
          order.push(`${name} end`);
          return name;
        },
      };
      return { telegram, chat: { id: chatId }, gateway: { log: rootLogger() } } as unknown as BotContext;
    };
    const slow = contextFor('slow', 1, 30);
    const fast = contextFor('fast', 1, 0);
    const other = contextFor('other', 2, 0);
    for (const ctx of [slow, fast, other]) await middleware(ctx, async () => undefined);
    const call = (ctx: BotContext) =>
      (ctx.telegram.callApi as unknown as (m: string) => Promise<string>)('sendMessage');
    expect(await Promise.all([call(slow), call(fast), call(other)])).to.deep.equal(['slow', 'fast', 'other']);
    expect(order.indexOf('fast start')).to.be.greaterThan(order.indexOf('slow end'));
    expect(order.indexOf('other end')).to.be.lessThan(order.indexOf('slow end'));
  });
});
