// What broadcaster specs and benches share: many registered users who started the bot (the emulator's simulated
// users, written to the users table in bulk, as thousands of users.register calls would be slow), a consumer of
// the audit channel, and reads of a campaign's recipients.
import type pg from 'pg';
import { AuditChannels, consume, type AuditEntry } from '../../lib/contracts';
import { defineConfig } from '../../lib/config';
import type { ServiceDefinition } from '../../lib/runtime';
import type { SimulatedUser, TelegramEmulator } from './telegram-emulator';

export interface AudienceMember {
  tg: SimulatedUser;
  userId: string;
  telegramId: string;
}

/** `count` users who started the bot, registered with `languageCode` (a spec's own code keeps audiences apart). */
export async function registerAudience(
  emulator: TelegramEmulator,
  pool: pg.Pool,
  count: number,
  languageCode = 'en',
): Promise<AudienceMember[]> {
  const members: AudienceMember[] = [];
  for (let start = 0; start < count; start += 1000) {
    const batch: SimulatedUser[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const tg = emulator.user({ first_name: `R${i}`, language_code: languageCode });
      tg.sendText('/start'); // Telegram lets a bot write only to users who started it
      batch.push(tg);
    }
    const { rows } = await pool.query<{ id: string; telegram_id: string }>(
      `INSERT INTO users (telegram_id, first_name, language_code, referral_code)
       SELECT t, 'R', $2, 'b' || md5(t::text || random()::text) FROM unnest($1::bigint[]) AS x(t)
       RETURNING id, telegram_id`,
      [batch.map((tg) => String(tg.id)), languageCode],
    );
    const byTelegram = new Map(rows.map((r) => [String(r.telegram_id), String(r.id)]));
    for (const tg of batch) members.push({ tg, userId: byTelegram.get(String(tg.id))!, telegramId: String(tg.id) });
  }
  return members;
}

/** A service that collects every audit entry from the durable `audit` channel, as the auditor will. */
export function auditProbe(entries: AuditEntry[]): ServiceDefinition {
  return {
    name: 'audit-probe',
    config: defineConfig({}),
    create: () => ({
      name: 'audit-probe',
      channels: consume(AuditChannels.entry, { group: 'audit-probe' }, async (entry) => {
        entries.push(entry);
      }),
    }),
  };
}

export async function recipientStatuses(pool: pg.Pool, campaignId: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ telegram_id: string; status: string }>(
    'SELECT telegram_id, status FROM broadcast_recipients WHERE broadcast_id = $1',
    [campaignId],
  );
  return new Map(rows.map((r) => [String(r.telegram_id), r.status]));
}

export async function statusCounts(pool: pg.Pool, campaignId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM broadcast_recipients WHERE broadcast_id = $1 GROUP BY status',
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
