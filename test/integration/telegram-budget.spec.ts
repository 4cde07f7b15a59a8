// lib/telegram-budget.ts on real Redis: two budgets with separate Redis connections stand for two replicas. What
// they let through is replayed against the emulator's own flood control (Telegram's limits as token buckets), so
// "under the limit" means what Telegram would accept. A private Redis is killed for the outage.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { RetryLaterError, TelegramBudget, type TelegramBudgetOptions } from '../../lib/telegram-budget';
import { createRedis, type Redis } from '../../lib/redis';
import { startPrivateRedis } from '../support/private-servers';
import { deleteNamespaceKeys } from '../support/redis';
import { DEFAULT_RATE_LIMITS, FloodControl } from '../support/telegram-emulator/rate-limit';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Grant {
  at: number;
  chat: number;
}

/** Takes slots as fast as `workers` loops can, each to a random one of `chats` chats, for `ms`. */
async function hammer(budget: TelegramBudget, ms: number, chats: number, workers = 10): Promise<Grant[]> {
  const grants: Grant[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < end) {
        const chat = 1 + Math.floor(Math.random() * chats);
        try {
          await budget.take(String(chat));
          if (Date.now() < end) grants.push({ at: Date.now(), chat });
        } catch (error) {
          if (!(error instanceof RetryLaterError)) throw error;
        }
      }
    }),
  );
  return grants;
}

/** The grants Telegram's flood control (as the emulator models it) would have answered with 429. */
function floodRejections(grants: Grant[]): number {
  const sorted = [...grants].sort((a, b) => a.at - b.at);
  let now = sorted[0]?.at ?? 0;
  const flood = new FloodControl(DEFAULT_RATE_LIMITS, () => now);
  let rejected = 0;
  for (const grant of sorted) {
    now = grant.at;
    if (!flood.acquire(grant.chat).ok) rejected++;
  }
  return rejected;
}

describe('Telegram budget (lib/telegram-budget.ts)', function () {
  this.timeout(30_000);
  let namespace: string;
  const clients: Redis[] = [];

  /** A budget on its own connection, once that is ready (before, the budget counts in-process only). */
  const budget = async (options: Partial<TelegramBudgetOptions> = {}, url = 'redis://127.0.0.1:6379') => {
    const redis = createRedis(url);
    clients.push(redis);
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    return new TelegramBudget(redis, { namespace, botId: '777', ...options });
  };

  beforeEach(() => {
    namespace = `tg-budget-${randomBytes(4).toString('hex')}`;
  });

  afterEach(async () => {
    const redis = createRedis('redis://127.0.0.1:6379');
    await deleteNamespaceKeys(redis, namespace);
    await redis.quit();
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  });

  it('keeps two replicas sending flat out under 30/s together and 1/s per chat', async () => {
    const [a, b] = await Promise.all([budget(), budget()]);
    const [ga, gb] = await Promise.all([hammer(a, 3000, 40), hammer(b, 3000, 40)]);
    const all = [...ga, ...gb];
    // Both replicas got slots: the budget is shared, not one replica's.
    expect(ga.length).to.be.above(10);
    expect(gb.length).to.be.above(10);
    // 30/s over 3 s, and the slot that was open when the run started.
    expect(all.length).to.be.within(75, 100);
    expect(floodRejections(all), 'sends Telegram would refuse').to.equal(0);
    const perChat = new Map<number, number[]>();
    for (const g of all) perChat.set(g.chat, [...(perChat.get(g.chat) ?? []), g.at]);
    for (const times of perChat.values()) expect(times.length).to.be.at.most(4);
  });

  it('a 429 with retry_after=2 pauses every replica: no slot is granted during the pause', async () => {
    const [a, b] = await Promise.all([budget(), budget()]);
    await a.take('1');
    const pausedAt = Date.now();
    await a.pause(2);
    const granted = await Promise.all([a.take('2').then(() => Date.now()), b.take('3').then(() => Date.now())]);
    for (const at of granted) expect(at - pausedAt).to.be.at.least(1950);
    // A wait longer than the caller may sleep is answered "retry later", with how long.
    await b.pause(10);
    const short = await budget({ maxWaitMs: 1000 });
    const error = await short.take('4').then(
      () => expect.fail('expected RetryLaterError'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RetryLaterError);
    expect((error as RetryLaterError).retryAfterMs).to.be.within(8000, 10_000);
  });

  it('broadcast traffic leaves each slot a reserve for transactional messages', async () => {
    const a = await budget();
    const broadcast: number[] = [];
    const transactionalWaits: number[] = [];
    const started = Date.now();
    const end = started + 2000;
    const broadcasting = Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; Date.now() < end; i++) {
          await a.take(`b-${w}-${i}`, 'broadcast');
          if (Date.now() < end) broadcast.push(Date.now());
        }
      }),
    );
    for (let i = 0; Date.now() < end - 400; i++) {
      await delay(400);
      const asked = Date.now();
      await a.take(`t-${i}`);
      transactionalWaits.push(Date.now() - asked);
    }
    await broadcasting;
    // 9 of each slot's 10 messages (27/s), over the 6 or 7 slots the 2 s touched.
    expect(broadcast.length).to.be.within(45, 63);
    // While broadcasts take everything they may, a transactional message still finds room in its own slot.
    expect(transactionalWaits.length, String(transactionalWaits)).to.be.at.least(3);
    expect(Math.max(...transactionalWaits)).to.be.below(100);
  });

  it('keeps sending at the in-process limit while Redis is down', async () => {
    const server = await startPrivateRedis();
    try {
      const a = await budget({}, server.url);
      await a.take('1');
      await server.kill();
      await delay(300);
      const grants = await hammer(a, 2000, 40);
      expect(grants.length).to.be.within(45, 80);
      expect(floodRejections(grants)).to.equal(0);
      // The pause is honoured in-process too.
      await a.pause(1);
      const pausedAt = Date.now();
      await a.take('2');
      expect(Date.now() - pausedAt).to.be.at.least(950);
    } finally {
      await server.destroy();
    }
  });
});
