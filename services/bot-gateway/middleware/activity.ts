// Every update from a user reports their activity to users (activity.ts throttles it per user in Redis). The report
// runs beside the update and never holds it up or fails it: a users or Redis outage is only logged.
import type { MiddlewareFn } from 'telegraf';
import type { Logger } from '../../../lib/logger';
import { OutageLog } from '../../../lib/outage-log';
import type { Redis } from '../../../lib/redis';
import { forgetReport, noteActivity } from '../activity';
import type { Backend } from '../backend';
import type { BotContext } from '../context';
import type { GatewayKeys } from '../redis-keys';

export function reportActivity(
  redis: Redis,
  keys: GatewayKeys,
  backend: Pick<Backend, 'seen'>,
  log: Logger,
): MiddlewareFn<BotContext> {
  const outage = new OutageLog(log, "reporting users' activity");

  async function report(telegramId: string, requestId: string): Promise<void> {
    let due = true;
    try {
      due = await noteActivity(redis, keys, telegramId);
    } catch {
      // Without Redis there is no throttle: every update reports.
    }
    if (!due) return;
    try {
      await backend.seen(telegramId, requestId);
      outage.succeeded();
    } catch (error) {
      outage.failed(error, { telegram_id: telegramId });
      await forgetReport(redis, keys, telegramId).catch(() => undefined);
    }
  }

  return (ctx, next) => {
    const from = ctx.from;
    if (from && !from.is_bot) void report(String(from.id), ctx.gateway.requestId);
    return next();
  };
}
