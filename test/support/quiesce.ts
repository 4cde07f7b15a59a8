// Waiting for quiet instead of for time: a spec that shows "nothing else happened" first waits until every outbox
// is drained, every consumer group has settled each message, and the Bot API emulator has no update pending, twice
// in a row (work can cause more work: a credit enqueues notifications). Then whatever was going to happen has.
import type pg from 'pg';
import { consumerSettled } from './jetstream';
import type { TelegramEmulator } from './telegram-emulator';

export interface QuietParts {
  pool?: Pick<pg.Pool, 'query'>;
  /** Outbox tables that must be empty. */
  outboxes?: readonly string[];
  namespace?: string;
  /** [channel, consumer group] pairs that must have nothing pending and nothing awaiting an ack. */
  consumers?: readonly (readonly [string, string])[];
  emulator?: TelegramEmulator;
  /** Anything else that must hold, such as "the chain is scanned up to its head". */
  also?: () => Promise<boolean>;
}

/** What the whole system consumes and drains (test/support/system.ts). */
export const SYSTEM_OUTBOXES = ['users_outbox', 'chain_outbox', 'ledger_outbox', 'payout_outbox'] as const;
export const SYSTEM_CONSUMERS = [
  ['deposits.confirmed', 'ledger'],
  ['deposits.reorged', 'ledger'],
  ['notifications.requested', 'notifier'],
  ['alerts.raised', 'notifier'],
  ['users.ban-changed', 'bot-gateway'],
  ['withdrawals.approved', 'payout'],
  ['payouts.completed', 'ledger'],
] as const;

async function settled(namespace: string, channel: string, group: string): Promise<boolean> {
  try {
    return await consumerSettled(namespace, channel, group);
  } catch (error) {
    if (/not found/i.test(String((error as Error).message))) return true; // nobody consumes it in this spec
    throw error;
  }
}

async function isQuiet(parts: QuietParts): Promise<boolean> {
  for (const table of parts.outboxes ?? []) {
    const { rows } = await parts.pool!.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
    if (rows[0]!.n !== '0') return false;
  }
  for (const [channel, group] of parts.consumers ?? []) {
    if (!(await settled(parts.namespace!, channel, group))) return false;
  }
  if (parts.emulator && parts.emulator.pendingUpdateCount > 0) return false;
  return parts.also ? parts.also() : true;
}

export async function quiesce(parts: QuietParts, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (quietRounds < 2) {
    quietRounds = (await isQuiet(parts)) ? quietRounds + 1 : 0;
    if (quietRounds === 0 && Date.now() > deadline) throw new Error(`still busy after ${timeoutMs} ms`);
    await parts.emulator?.waitForIdle(timeoutMs).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
