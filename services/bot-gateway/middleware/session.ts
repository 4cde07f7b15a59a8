// A small per-user dialog state in Redis (JSON with a TTL), e.g. "the next message is the wallet address".
import type { MiddlewareFn } from 'telegraf';
import { z } from 'zod';
import { Id, MessageContent, Units } from '../../../lib/contracts';
import type { Redis } from '../../../lib/redis';
import type { BotContext, Session } from '../context';
import { DIALOG_ID } from '../keyboards';
import type { GatewayKeys } from '../redis-keys';

export const SESSION_TTL_SECONDS = 15 * 60;

const SessionSchema = z.object({
  awaiting: z
    .enum([
      'wallet',
      'withdraw_amount',
      'withdraw_new_password',
      'withdraw_repeat_password',
      'withdraw_password',
      'reject_reason',
      'broadcast',
    ])
    .optional(),
  withdrawal: z
    .object({
      id: z.string().regex(new RegExp(`^${DIALOG_ID.source}$`)),
      amount: Units.optional(),
      verified: z.boolean().optional(),
      newPassword: z.object({ salt: z.string().max(64), digest: z.string().max(128) }).optional(),
      withdrawalId: Id.optional(),
    })
    .optional(),
  rejecting: Id.optional(),
  broadcast: z
    .object({
      id: z.string().regex(new RegExp(`^${DIALOG_ID.source}$`)),
      step: z.enum(['content', 'buttons', 'audience', 'confirm']),
      paid: z.boolean().optional(),
      content: MessageContent.optional(),
      campaignId: Id.optional(),
      recipients: z.number().int().min(0).optional(),
    })
    .optional(),
}) satisfies z.ZodType<Session>;

/** Only what a session may hold: anything else (a corrupt or older shape) is an empty session. */
export function parseSession(raw: string | null): Session {
  if (!raw) return {};
  try {
    const parsed = SessionSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data as Session;
  } catch {
    // a corrupt session is an empty one
  }
  return {};
}

export function sessions(redis: Redis, keys: GatewayKeys): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.from) return next();
    const key = keys.session(ctx.from.id);
    let before: string | null;
    try {
      before = await redis.get(key);
    } catch (error) {
      // Without Redis the dialog has no memory, but commands still work.
      ctx.gateway.log.warn({ err: error }, 'session unavailable');
      ctx.gateway.session = {};
      return next();
    }
    ctx.gateway.session = parseSession(before);
    await next();
    const after = JSON.stringify(ctx.gateway.session);
    if (after === JSON.stringify(parseSession(before))) return;
    if (after === '{}') await redis.del(key);
    else await redis.set(key, after, 'EX', SESSION_TTL_SECONDS);
  };
}
