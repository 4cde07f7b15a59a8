// /wallet: with an address registers it; without, shows the current one and takes the next message as the address.
import { Errors } from 'moleculer';
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu, walletPrompt } from '../keyboards';
import { currentUserRecord, replaceMessage, say, showScreen, type BotDeps } from './common';

export async function showWallet(ctx: BotContext, deps: BotDeps): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  const current = user.walletAddress
    ? t(lang, 'wallet.current', { address: user.walletAddress })
    : t(lang, 'wallet.none');
  ctx.gateway.session.awaiting = 'wallet';
  // Its Cancel button is the way back to the menu.
  await showScreen(ctx, `${current}\n\n${t(lang, 'wallet.ask')}`, walletPrompt(lang), { back: false });
}

/** Registers `address` for the sender; on a refusal says why and keeps waiting for another address. */
export async function registerWallet(ctx: BotContext, deps: BotDeps, address: string): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  try {
    const saved = await deps.backend.setWallet(user.id, address.trim(), ctx.gateway.requestId);
    ctx.gateway.session.awaiting = undefined;
    await say(ctx, t(lang, 'wallet.saved', { address: saved.address }), mainMenu(lang));
  } catch (error) {
    const key = refusalKey(error);
    if (!key) throw error;
    ctx.gateway.log.info({ refusal: key }, 'wallet refused');
    await say(ctx, t(lang, key), ctx.gateway.session.awaiting === 'wallet' ? walletPrompt(lang) : undefined);
  }
}

/** The wallet prompt's Cancel: the prompt becomes the answer and the menu, in the same message. */
export async function cancelWallet(ctx: BotContext): Promise<void> {
  ctx.gateway.session.awaiting = undefined;
  await replaceMessage(ctx, t(ctx.gateway.lang, 'wallet.cancelled'), mainMenu(ctx.gateway.lang));
}

/** The message key for a refusal by users.setWallet; undefined for anything that is not a refusal. */
export function refusalKey(error: unknown): string | undefined {
  if (!(error instanceof Errors.MoleculerError) || error.code >= 500) return undefined;
  const { type, data } = error;
  switch (type) {
    case 'INVALID_ADDRESS': {
      const reason = (data as { reason?: string } | undefined)?.reason;
      return reason === 'checksum'
        ? 'wallet.invalid_checksum'
        : reason === 'zero'
          ? 'wallet.invalid_zero'
          : 'wallet.invalid_format';
    }
    case 'WALLET_TAKEN':
      return 'wallet.taken';
    case 'ADDRESS_IS_SYSTEM_WALLET':
      return 'wallet.system';
    case 'VALIDATION_ERROR':
      return 'wallet.invalid_format';
    default:
      return undefined;
  }
}
