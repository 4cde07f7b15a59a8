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
export const SYSTEM_OUTBOXES = [
  'users_outbox',
  'chain_outbox',
  'ledger_outbox',
  'payout_outbox',
  'broadcaster_outbox',
] as const;
export const SYSTEM_CONSUMERS = [
  ['deposits.confirmed', 'ledger'],
  ['deposits.reorged', 'ledger'],
  ['notifications.requested', 'notifier'],
  ['alerts.raised', 'notifier'],
  ['users.ban-changed', 'bot-gateway'],
  ['users.reachability-changed', 'bot-gateway'],
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

/** Undefined when quiet, else what is still busy (named in the timeout error). */
async function busyPart(parts: QuietParts): Promise<string | undefined> {
  for (const table of parts.outboxes ?? []) {
    const { rows } = await parts.pool!.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
    if (rows[0]!.n !== '0') return `${rows[0]!.n} rows in ${table}`;
  }
  for (const [channel, group] of parts.consumers ?? []) {
    if (!(await settled(parts.namespace!, channel, group))) return `${channel} for ${group}`;
  }
  if (parts.emulator && parts.emulator.pendingUpdateCount > 0) return 'updates pending in the Bot API emulator';
  if (parts.also && !(await parts.also())) return "the spec's own condition";
  return undefined;
}

export async function quiesce(parts: QuietParts, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (quietRounds < 2) {
    const busy = await busyPart(parts);
    quietRounds = busy === undefined ? quietRounds + 1 : 0;
    if (busy !== undefined && Date.now() > deadline) throw new Error(`still busy after ${timeoutMs} ms: ${busy}`);
    await parts.emulator?.waitForIdle(timeoutMs).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
