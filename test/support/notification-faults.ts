// What the Telegram fault specs (429 storm, outage) share: registered recipients who started the bot, credit
// notices for them, and reading the emulator's call record as Telegram would count it.
import { randomBytes } from 'node:crypto';
import type { FaultBed } from './fault-bed';
import type { ApiCall, SimulatedUser } from './telegram-emulator';

export interface Recipient {
  tg: SimulatedUser;
  userId: string;
}

/** `count` users registered with users and started in the emulator (a bot may write only to those). */
export async function recipients(bed: FaultBed, count: number, tag: string): Promise<Recipient[]> {
  await bed.client.waitForServices(['users'], 30_000);
  const result: Recipient[] = [];
  for (let i = 0; i < count; i++) {
    const tg = bed.emulator.user({ first_name: `${tag}${i}`, language_code: 'en' });
    tg.sendText('/start');
    const { user } = await bed.client.call<{ user: { id: string } }, object>(
      'users.register',
      { telegramId: String(tg.id), firstName: `${tag}${i}`, languageCode: 'en' },
      { retries: 5, timeout: 5000 },
    );
    result.push({ tg, userId: user.id });
  }
  return result;
}

/** A deposit.credited notification (sent again after an unknown outcome, so "exactly once" is checked hard). */
export const creditNotice = (userId: string, n: number) => ({
  id: `deposit-credited:${randomBytes(6).toString('hex')}`,
  userId,
  template: 'deposit.credited',
  params: { amount: `${n}000000000000000000`, level: 1 },
});

/** The most calls answered 200 within any window of `ms` starting at a call (a sliding window over the record). */
export function maxInWindow(calls: ApiCall[], ms: number): number {
  const times = calls
    .filter((c) => c.status === 200)
    .map((c) => c.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - ms + 1) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** The retry_after (seconds) of a call answered 429, if any. */
export function retryAfterOf(call: ApiCall): number | undefined {
  const response = call.response as { parameters?: { retry_after?: number } };
  return call.status === 429 ? response.parameters?.retry_after : undefined;
}
