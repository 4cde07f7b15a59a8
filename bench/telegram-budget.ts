// The bot's rate budget against the emulator at Telegram's real limits (30/s, 1/s per chat, 1,000/s paid, 429 with
// retry_after): N broadcast sends through TelegramBudget + sendContent (priority broadcast) while transactional
// sends arrive meanwhile, about one a second; then N paid-broadcast sends (allow_paid_broadcast, the paid rate).
// Reports the sustained broadcast rate and its share of 30/s, the 429s, and how long transactional sends waited
// for their slot. TELEGRAM_BENCH_N (default 10,000), TELEGRAM_BENCH_PAID_N (default N; 0 skips the paid run),
// TELEGRAM_BENCH_CONCURRENCY (default 30), TELEGRAM_BENCH_PAID_CONCURRENCY (default 200),
// TELEGRAM_BENCH_TRANSACTIONAL_EVERY_MS (default 1,000).
import { randomBytes } from 'node:crypto';
import { Telegram } from 'telegraf';
import { createRedis } from '../lib/redis';
import { RetryLaterError, TelegramBudget, type SendPriority } from '../lib/telegram-budget';
import { sendContent, type SendHooks } from '../lib/telegram-send';
import { deleteNamespaceKeys } from '../test/support/redis';
import { TelegramEmulator } from '../test/support/telegram-emulator';
import { summarise, type LatencySummary } from './stats';

const GLOBAL_RATE = 30;
/** The budget's slot (lib/telegram-budget.ts): 10 messages per 334 ms at 30/s, 334 per 334 ms paid. */
const SLOT_SECONDS = 0.334;

export interface BudgetFigures {
  broadcast: {
    recipients: number;
    concurrency: number;
    seconds: number;
    perSecond: number;
    shareOf30: number;
    tooManyRequests: number;
  };
  transactional: { sent: number; everyMs: number; slotWaitMs: LatencySummary; sendMs: LatencySummary };
  paid?: { recipients: number; concurrency: number; seconds: number; perSecond: number; tooManyRequests: number };
}

const envInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number (got ${raw})`);
  return value;
};

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchTelegramBudget(): Promise<BudgetFigures> {
  const n = envInt('TELEGRAM_BENCH_N', 10_000);
  const paidN = envInt('TELEGRAM_BENCH_PAID_N', n);
  const concurrency = envInt('TELEGRAM_BENCH_CONCURRENCY', 30);
  const paidConcurrency = envInt('TELEGRAM_BENCH_PAID_CONCURRENCY', 200);
  const everyMs = envInt('TELEGRAM_BENCH_TRANSACTIONAL_EVERY_MS', 1000);
  const emulator = new TelegramEmulator();
  await emulator.start();
  const redis = createRedis('redis://127.0.0.1:6379');
  const namespace = `bench-tg-${randomBytes(4).toString('hex')}`;
  try {
    // Measured on the shared budget in Redis, not on the in-process fallback of a connection still opening.
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const telegram = new Telegram(emulator.token, { apiRoot: emulator.apiRoot });
    const budget = new TelegramBudget(redis, { namespace, botId: String(emulator.botInfo.id), maxWaitMs: 5000 });
    const started = (count: number) =>
      Array.from({ length: count }, () => {
        const user = emulator.user();
        user.sendText('/start');
        return String(user.id);
      });

    const send = async (chatId: string, priority: SendPriority, text: string) => {
      const hooks: SendHooks = {
        slot: (messages) => budget.take(chatId, priority, messages),
        paused: (seconds) => budget.pause(seconds),
        media: () => Promise.reject(new Error('text only')),
        paid: priority === 'paid',
      };
      // A wait longer than the budget's maxWaitMs (a long 429 pause) is rescheduled: here, simply tried again.
      for (;;) {
        try {
          return await sendContent(telegram, chatId, { kind: 'text', text }, hooks);
        } catch (error) {
          if (!(error instanceof RetryLaterError)) throw error;
          await delay(error.retryAfterMs);
        }
      }
    };

    /** Sends to every chat with `workers` loops; first and last answer times. */
    const broadcast = async (chats: string[], workers: number, priority: SendPriority) => {
      let next = 0;
      let first = Infinity;
      let last = 0;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          while (next < chats.length) {
            const chatId = chats[next++]!;
            await send(chatId, priority, `<b>News</b> for you, #${next}`);
            const at = Date.now();
            first = Math.min(first, at);
            last = Math.max(last, at);
          }
        }),
      );
      return { first, last };
    };

    const broadcastChats = started(n);
    const transactionalChats = started(Math.ceil(n / GLOBAL_RATE / (everyMs / 1000)) + 10);
    const slotWaits: number[] = [];
    const sendTimes: number[] = [];
    let done = false;
    const transactional = (async () => {
      for (let i = 0; !done && i < transactionalChats.length; i++) {
        // At random moments (mean everyMs), not in step with the budget's slots.
        await delay(everyMs * (0.5 + Math.random()));
        if (done) break;
        const chatId = transactionalChats[i]!;
        const asked = performance.now();
        let slotAt = asked;
        await sendContent(
          telegram,
          chatId,
          { kind: 'text', text: `Deposit credited #${i}` },
          {
            slot: async (messages) => {
              await budget.take(chatId, 'transactional', messages);
              slotAt = performance.now();
            },
            paused: (seconds) => budget.pause(seconds),
            media: () => Promise.reject(new Error('text only')),
          },
        );
        slotWaits.push(slotAt - asked);
        sendTimes.push(performance.now() - asked);
      }
    })();
    const free = await broadcast(broadcastChats, concurrency, 'broadcast');
    done = true;
    await transactional;
    const freeCalls = emulator.calls('sendMessage');
    // The first slot's sends answer at its start: its third of a second is counted too.
    const seconds = (free.last - free.first) / 1000 + SLOT_SECONDS;
    const perSecond = n / seconds;
    const figures: BudgetFigures = {
      broadcast: {
        recipients: n,
        concurrency,
        seconds: round(seconds),
        perSecond: round(perSecond),
        shareOf30: round(perSecond / GLOBAL_RATE),
        tooManyRequests: freeCalls.filter((c) => c.status === 429).length,
      },
      transactional: {
        sent: slotWaits.length,
        everyMs,
        slotWaitMs: summarise(slotWaits),
        sendMs: summarise(sendTimes),
      },
    };

    if (paidN > 0) {
      const paidChats = started(paidN);
      const paid = await broadcast(paidChats, paidConcurrency, 'paid');
      const paidSeconds = (paid.last - paid.first) / 1000 + SLOT_SECONDS;
      figures.paid = {
        recipients: paidN,
        concurrency: paidConcurrency,
        seconds: round(paidSeconds),
        perSecond: round(paidN / paidSeconds),
        tooManyRequests:
          emulator.calls('sendMessage').filter((c) => c.status === 429).length -
          freeCalls.filter((c) => c.status === 429).length,
      };
    }
    return figures;
  } finally {
    await deleteNamespaceKeys(redis, namespace).catch(() => undefined);
    redis.disconnect();
    await emulator.stop();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
