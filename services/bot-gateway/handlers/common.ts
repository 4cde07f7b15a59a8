// What every handler needs: the backend, the config, and replies in the user's language.
import type { InlineKeyboardMarkup } from 'telegraf/types';
import type { UserRecord } from '../../../lib/contracts';
import type { Backend } from '../backend';
import type { BotContext } from '../context';
import type { BotGatewayConfig } from '../config';

export interface BotDeps {
  backend: Backend;
  config: BotGatewayConfig;
}

/** Sends an HTML text (every t() text is HTML with escaped parameters). */
export async function say(ctx: BotContext, html: string, keyboard?: InlineKeyboardMarkup): Promise<void> {
  await ctx.reply(html, {
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
    ...(keyboard ? { reply_markup: keyboard } : {}),
  });
}

/** The sender's user record, registering them if they never sent /start (e.g. pressed an old button). */
export async function currentUser(ctx: BotContext, deps: BotDeps, referralCode?: string) {
  const from = ctx.from!;
  const registration = await deps.backend.register(
    {
      telegramId: String(from.id),
      username: from.username ?? null,
      firstName: from.first_name,
      languageCode: from.language_code ?? null,
      ...(referralCode ? { referralCode } : {}),
    },
    ctx.gateway.requestId,
  );
  ctx.gateway.log = ctx.gateway.log.child({ user_id: registration.user.id });
  return registration;
}

export async function currentUserRecord(ctx: BotContext, deps: BotDeps): Promise<UserRecord> {
  return (await currentUser(ctx, deps)).user;
}

/** Ledger answers are optional extras: a failure becomes undefined and a friendly note, never an error. */
export async function optional<T>(ctx: BotContext, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    ctx.gateway.log.warn({ call: what, error: `${name}: ${message}` }, 'call failed; answering without it');
    return undefined;
  }
}
