// Inline keyboards. callback_data is at most 64 bytes (Telegram's limit; keyboards.spec.ts checks every button).
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'telegraf/types';
import { t, type Language } from '../../lib/i18n';

export const Buttons = {
  deposit: 'menu:deposit',
  balance: 'menu:balance',
  withdraw: 'menu:withdraw',
  wallet: 'menu:wallet',
  referrals: 'menu:referrals',
  help: 'menu:help',
  /** Under a screen opened from the menu: back to the menu, in the same message. */
  menu: 'menu:home',
  walletCancel: 'wallet:cancel',
} as const;
export type ButtonData = (typeof Buttons)[keyof typeof Buttons];

/** A button that carries an argument (a dialog id, a withdrawal id): `prefix:value`, matched by `pattern`. */
export interface ButtonWithArgument {
  data(value: string): string;
  /** Matches the whole callback_data; group 1 is the value. */
  pattern: RegExp;
}

const withArgument = (prefix: string, value: RegExp): ButtonWithArgument => ({
  data: (v) => `${prefix}:${v}`,
  pattern: new RegExp(`^${prefix}:(${value.source})$`),
});

/** The id of a withdrawal dialog (dialogId() in handlers/withdraw.ts). */
export const DIALOG_ID = /[A-Za-z0-9_-]{16}/;
const ROW_ID = /\d{1,19}/;

export const ArgumentButtons = {
  withdrawConfirm: withArgument('wd:ok', DIALOG_ID),
  withdrawCancel: withArgument('wd:no', DIALOG_ID),
  /** Cancels one of the user's withdrawals (by withdrawal id). */
  withdrawalCancel: withArgument('wl:cancel', ROW_ID),
  approve: withArgument('adm:ok', ROW_ID),
  reject: withArgument('adm:no', ROW_ID),
  /** An admin changed their mind about rejecting. */
  keep: withArgument('adm:keep', ROW_ID),
} as const;

const button = (lang: Language, key: string, data: string, params = {}): InlineKeyboardButton => ({
  text: t(lang, key, params),
  callback_data: data,
});

export function mainMenu(lang: Language): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [button(lang, 'menu.deposit', Buttons.deposit), button(lang, 'menu.balance', Buttons.balance)],
      [button(lang, 'menu.withdraw', Buttons.withdraw), button(lang, 'menu.wallet', Buttons.wallet)],
      [button(lang, 'menu.referrals', Buttons.referrals), button(lang, 'menu.help', Buttons.help)],
    ],
  };
}

/** Under a screen the menu opened: its own buttons (if any), then a row with the way back to the menu. */
export function withBackToMenu(lang: Language, keyboard?: InlineKeyboardMarkup): InlineKeyboardMarkup {
  return { inline_keyboard: [...(keyboard?.inline_keyboard ?? []), [button(lang, 'menu.back', Buttons.menu)]] };
}

export function walletPrompt(lang: Language): InlineKeyboardMarkup {
  return { inline_keyboard: [[button(lang, 'menu.cancel', Buttons.walletCancel)]] };
}

export function walletButton(lang: Language): InlineKeyboardMarkup {
  return { inline_keyboard: [[button(lang, 'menu.wallet', Buttons.wallet)]] };
}

/** Under every step of a withdrawal dialog before its confirmation. */
export function withdrawPrompt(lang: Language, dialogId: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[button(lang, 'menu.cancel', ArgumentButtons.withdrawCancel.data(dialogId))]] };
}

export function withdrawConfirmation(lang: Language, dialogId: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [
        button(lang, 'menu.confirm', ArgumentButtons.withdrawConfirm.data(dialogId)),
        button(lang, 'menu.cancel', ArgumentButtons.withdrawCancel.data(dialogId)),
      ],
    ],
  };
}

/** One cancel button per withdrawal that can still be cancelled. */
export function withdrawalsKeyboard(lang: Language, cancellable: readonly string[]): InlineKeyboardMarkup {
  return {
    inline_keyboard: cancellable.map((id) => [
      button(lang, 'withdrawals.cancel_button', ArgumentButtons.withdrawalCancel.data(id), { id }),
    ]),
  };
}

export function pendingKeyboard(lang: Language, ids: readonly string[]): InlineKeyboardMarkup {
  return {
    inline_keyboard: ids.map((id) => [
      button(lang, 'admin.cmd.approve_button', ArgumentButtons.approve.data(id), { id }),
      button(lang, 'admin.cmd.reject_button', ArgumentButtons.reject.data(id), { id }),
    ]),
  };
}

export function rejectPrompt(lang: Language, id: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[button(lang, 'menu.cancel', ArgumentButtons.keep.data(id))]] };
}

/** Every keyboard the bot sends, for tests (the longest ids each can carry). */
export const allKeyboards = (lang: Language): InlineKeyboardMarkup[] => {
  const dialog = 'A'.repeat(16);
  const ids = ['1', '9'.repeat(19)];
  return [
    mainMenu(lang),
    withBackToMenu(lang, walletButton(lang)),
    walletPrompt(lang),
    walletButton(lang),
    withdrawPrompt(lang, dialog),
    withdrawConfirmation(lang, dialog),
    withdrawalsKeyboard(lang, ids),
    pendingKeyboard(lang, ids),
    rejectPrompt(lang, ids[1]!),
  ];
};
