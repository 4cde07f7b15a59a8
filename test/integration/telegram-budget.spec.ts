// lib/telegram-budget.ts on real Redis: two budgets with separate Redis connections stand for two replicas. What
// they let through is replayed against the emulator's own flood control (Telegram's limits as token buckets: 30/s,
// 1/s per chat, 20/min per group, 1,000/s paid), so "under the limit" means what Telegram would accept. A private
// Redis is killed for the outage.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  RetryLaterError,
  TelegramBudget,
  type SendPriority,
  type TelegramBudgetOptions,
} from '../../lib/telegram-budget';
import { createRedis, type Redis } from '../../lib/redis';
import { startPrivateRedis } from '../support/private-servers';
import { deleteNamespaceKeys } from '../support/redis';
import { DEFAULT_RATE_LIMITS, FloodControl } from '../support/telegram-emulator/rate-limit';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, if need be, for the next slot of `slotMs` (slots count from the epoch), so `marginMs` of it remain. */
async function earlyInSlot(slotMs: number, marginMs: number): Promise<void> {
  const into = Date.now() % slotMs;
  if (into > slotMs - marginMs) await delay(slotMs - into + 10);
}

interface Grant {
  at: number;
  chat: number;
  paid?: boolean;
}

/** Takes slots as fast as `workers` loops can, each to a random one of `chats` chats, for `ms`. */
async function hammer(
  budget: TelegramBudget,
  ms: number,
  chats: number,
  { workers = 10, priority = 'transactional' as SendPriority, chatIds = (chat: number) => String(chat) } = {},
): Promise<Grant[]> {
  const grants: Grant[] = [];
  const end = Date.now() + ms;
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < end) {
        // Distinct chats in turn: with 1/s per chat, the global budget is what binds.
        const chat = 1 + (next++ % chats);
        try {
          await budget.take(chatIds(chat), priority);
          if (Date.now() < end) grants.push({ at: Date.now(), chat, paid: priority === 'paid' });
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
    if (!flood.acquire(grant.chat, grant.paid).ok) rejected++;
  }
  return rejected;
}

/** Transactional takes one at a time every `everyMs` until `end`; each one's wait in ms. */
async function trickle(budget: TelegramBudget, everyMs: number, end: number, tag: string): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; Date.now() < end - everyMs; i++) {
    await delay(everyMs);
    const asked = Date.now();
    await budget.take(`${tag}${i}`);
    waits.push(Date.now() - asked);
  }
  return waits;
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

  it('broadcast traffic from two replicas fills the budget (>= 95% of 30/s) with zero sends Telegram would refuse', async () => {
    const [a, b] = await Promise.all([budget(), budget()]);
    const seconds = 4;
    const [ga, gb] = await Promise.all([
      hammer(a, seconds * 1000, 500, { workers: 15, priority: 'broadcast' }),
      hammer(b, seconds * 1000, 500, { workers: 15, priority: 'broadcast', chatIds: (c) => String(1000 + c) }),
    ]);
    const all = [...ga, ...gb.map((g) => ({ ...g, chat: 1000 + g.chat }))];
    expect(ga.length).to.be.above(10);
    expect(gb.length).to.be.above(10);
    // 10 per 334 ms slot, every slot: 29.9/s, and the slot that was open when the run started.
    expect(all.length / seconds, 'broadcast messages per second').to.be.at.least(28.5);
    expect(all.length).to.be.at.most(130);
    expect(floodRejections(all), 'sends Telegram would refuse').to.equal(0);
  });

  it('broadcasts give way while transactional messages wait, on whichever replica they wait', async () => {
    const [a, b] = await Promise.all([budget(), budget()]);
    const end = Date.now() + 3000;
    const [broadcast, waits] = await Promise.all([
      hammer(a, 3000, 500, { workers: 15, priority: 'broadcast' }),
      trickle(b, 300, end, 't-'),
    ]);
    expect(waits.length, String(waits)).to.be.at.least(6);
    // A transactional message waits at most for the next slot (334 ms), not behind the broadcast.
    expect(Math.max(...waits), String(waits)).to.be.below(1000);
    // Broadcasts still took the rest: each slot is 10, less the few given way.
    expect(broadcast.length + waits.length).to.be.at.least(3 * 28.5);

    // A burst of 25 transactional messages while the broadcast runs flat out: broadcasts step aside entirely, so
    // the burst is through in about 3 slots instead of one message per slot.
    const flooding = hammer(a, 3000, 500, { workers: 15, priority: 'broadcast', chatIds: (c) => String(2000 + c) });
    await delay(500);
    const asked = Date.now();
    await Promise.all(Array.from({ length: 25 }, (_, i) => b.take(`burst-${i}`)));
    const burstMs = Date.now() - asked;
    const during = (await flooding).filter((g) => g.at > asked && g.at < asked + burstMs);
    expect(burstMs, 'the burst of 25 took (ms)').to.be.below(2500);
    expect(during.length, 'broadcasts granted during the burst').to.be.at.most(15);
  });

  it('limits a group chat to 20 a minute (7 per 21 s slot) besides 1/s per chat', async () => {
    // A loose per-chat rate isolates the group's own limit.
    const a = await budget({ perChatRate: 100, maxWaitMs: 1000 });
    // The seven must fall in one 21 s slot: started near a slot's end, the eighth would find a fresh slot.
    await earlyInSlot(21_000, 5000);
    for (let i = 0; i < 7; i++) await a.take('-1001');
    const error = await a.take('-1001').then(
      () => expect.fail('expected RetryLaterError'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RetryLaterError);
    expect((error as RetryLaterError).retryAfterMs).to.be.within(1, 21_000);
    // Another group, and a private chat, are not held up by this one.
    await a.take('-1002');
    await a.take('1003');
  });

  it('counts paid broadcasts against the paid rate (1,000/s), not the free budget; per-chat still applies', async () => {
    const a = await budget();
    const started = Date.now();
    const [paid, free] = await Promise.all([
      hammer(a, 2000, 10_000, { workers: 100, priority: 'paid' }),
      hammer(a, 2000, 500, { workers: 10, chatIds: (c) => String(20_000 + c) }),
    ]);
    // Far above the free 30/s (how close to 1,000/s depends on the machine), and never over 334 per 334 ms slot:
    // 2 s touch 7 slots at most.
    expect(paid.length / ((Date.now() - started) / 1000), 'paid messages per second').to.be.at.least(200);
    expect(paid.length).to.be.at.most(7 * 334);
    // The free budget kept its own 30/s meanwhile.
    expect(free.length).to.be.within(50, 75);
    expect(floodRejections([...paid, ...free.map((g) => ({ ...g, chat: 20_000 + g.chat }))])).to.equal(0);
    // One chat: still one message a second, paid or not.
    const one = await budget({ maxWaitMs: 200 });
    // Both takes in one 1 s slot: a first take in a slot's last 200 ms would let the second wait into the next one.
    await earlyInSlot(1000, 400);
    await one.take('424242', 'paid');
    const again = await one.take('424242', 'paid').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(again).to.be.instanceOf(RetryLaterError);
    // A paid rate above Telegram's is refused at construction.
    expect(() => new TelegramBudget(clients[0]!, { namespace, botId: '777', paidRate: 5000 })).to.throw(/paidRate/);
  });

  it('counts no slot twice while its Redis connection is still opening (memory first, then Redis)', async () => {
    const redis = createRedis('redis://127.0.0.1:6379');
    clients.push(redis);
    expect(redis.status).to.not.equal('ready');
    const early = new TelegramBudget(redis, { namespace, botId: '777' });
    const grants = await hammer(early, 1500, 500, { workers: 30, priority: 'broadcast' });
    const perSlot = new Map<number, number>();
    for (const g of grants) perSlot.set(Math.floor(g.at / 334), (perSlot.get(Math.floor(g.at / 334)) ?? 0) + 1);
    expect(Math.max(...perSlot.values()), 'messages in one slot').to.be.at.most(10);
    expect(floodRejections(grants)).to.equal(0);
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
      // Broadcasts give way in-process to a transactional message of this process (a whole slot: the insurance
      // limiter cannot keep a place), and take the slots nobody waits for.
      const end = Date.now() + 2000;
      const [broadcast, waits] = await Promise.all([
        hammer(a, 2000, 40, { priority: 'broadcast', chatIds: (c) => String(100 + c) }),
        trickle(a, 300, end, 't-'),
      ]);
      expect(broadcast.length).to.be.above(10);
      expect(Math.max(...waits), String(waits)).to.be.below(1000);
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
