// Inline keyboards. callback_data is at most 64 bytes (Telegram's limit; keyboards.spec.ts checks every button).
import type { InlineKeyboardMarkup } from 'telegraf/types';
import { t, type Language } from '../../lib/i18n';

export const Buttons = {
  deposit: 'menu:deposit',
  balance: 'menu:balance',
  wallet: 'menu:wallet',
  referrals: 'menu:referrals',
  help: 'menu:help',
  walletCancel: 'wallet:cancel',
} as const;
export type ButtonData = (typeof Buttons)[keyof typeof Buttons];

const button = (lang: Language, key: string, data: ButtonData) => ({ text: t(lang, key), callback_data: data });

export function mainMenu(lang: Language): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [button(lang, 'menu.deposit', Buttons.deposit), button(lang, 'menu.balance', Buttons.balance)],
      [button(lang, 'menu.wallet', Buttons.wallet), button(lang, 'menu.referrals', Buttons.referrals)],
      [button(lang, 'menu.help', Buttons.help)],
    ],
  };
}

export function walletPrompt(lang: Language): InlineKeyboardMarkup {
  return { inline_keyboard: [[button(lang, 'menu.cancel', Buttons.walletCancel)]] };
}

/** Every keyboard the bot sends, for tests. */
export const allKeyboards = (lang: Language): InlineKeyboardMarkup[] => [mainMenu(lang), walletPrompt(lang)];
