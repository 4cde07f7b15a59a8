// What every handler needs: the backend, the config, and replies in the user's language.
import { TelegramError } from 'telegraf';
import type { InlineKeyboardMarkup } from 'telegraf/types';
import type { UserRecord } from '../../../lib/contracts';
import { t } from '../../../lib/i18n';
import { mainMenu, withBackToMenu } from '../keyboards';
import type { Backend } from '../backend';
import type { BotContext } from '../context';
import type { BotGatewayConfig } from '../config';
import type { DialogOutcome } from '../dialog-outcome';

export interface BotDeps {
  backend: Backend;
  config: BotGatewayConfig;
  /** Settles a withdrawal dialog of this Telegram user once: the first of Confirm and Cancel wins. */
  settleDialog(telegramId: number, dialogId: string, outcome: DialogOutcome): Promise<DialogOutcome>;
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

/**
 * Replaces the text (and buttons) of the message whose button was pressed; sends it anew if that message cannot be
 * edited (too old, deleted, or the edit failed otherwise). A concurrent press that already made the same edit is
 * no failure.
 */
export async function replaceMessage(ctx: BotContext, html: string, keyboard?: InlineKeyboardMarkup): Promise<void> {
  try {
    await ctx.editMessageText(html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(keyboard ? { reply_markup: keyboard } : {}),
    });
  } catch (error) {
    if (error instanceof TelegramError && /message is not modified/i.test(error.description)) return;
    ctx.gateway.log.info({ err: error }, 'could not edit the message; sending it anew');
    await say(ctx, html, keyboard);
  }
}

/**
 * One screen of the menu (balance, deposit, wallet, referrals, help). Opened by a button, it takes the place of the
 * message the button is on, with `keyboard`'s buttons and one back to the menu (`back: false` when `keyboard`
 * has its own way back, like the wallet prompt's Cancel); typed as a command, it is a new message with `keyboard`,
 * or the menu.
 */
export async function showScreen(
  ctx: BotContext,
  html: string,
  keyboard?: InlineKeyboardMarkup,
  { back = true } = {},
): Promise<void> {
  const lang = ctx.gateway.lang;
  if (!ctx.callbackQuery) return say(ctx, html, keyboard ?? mainMenu(lang));
  await replaceMessage(ctx, html, back ? withBackToMenu(lang, keyboard) : keyboard);
}

/** Takes the buttons off the message whose button was pressed, so it cannot be pressed again. */
export async function removeButtons(ctx: BotContext): Promise<void> {
  try {
    await ctx.editMessageReplyMarkup(undefined);
  } catch (error) {
    ctx.gateway.log.debug({ err: error }, 'could not remove the buttons');
  }
}

export async function answerUnknownCommand(ctx: BotContext, text: string): Promise<void> {
  const lang = ctx.gateway.lang;
  await say(ctx, t(lang, 'common.unknown_command', { command: text.split(/\s/, 1)[0]!.slice(0, 64) }), mainMenu(lang));
}
