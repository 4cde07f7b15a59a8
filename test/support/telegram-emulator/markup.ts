// reply_markup validation with Telegram's limits (callback_data 1-64 bytes, one action per inline button).
import { badRequest } from './errors';
import type {
  InlineKeyboardButton,
  InlineKeyboardMarkup,
  KeyboardButton,
  ReplyKeyboardMarkup,
  ReplyMarkup,
} from './types';

const INLINE_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
] as const;

const MAX_CALLBACK_DATA_BYTES = 64;
const MAX_INLINE_BUTTONS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function isInlineKeyboard(markup: ReplyMarkup | undefined): markup is InlineKeyboardMarkup {
  return markup !== undefined && 'inline_keyboard' in markup;
}

export function isReplyKeyboard(markup: ReplyMarkup | undefined): markup is ReplyKeyboardMarkup {
  return markup !== undefined && 'keyboard' in markup;
}

/** Validates a reply_markup parameter (already JSON-decoded). `inlineOnly` for edit methods. */
export function parseReplyMarkup(value: unknown, { inlineOnly = false } = {}): ReplyMarkup | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw badRequest("can't parse reply keyboard markup JSON object");
  if ('inline_keyboard' in value) return parseInlineKeyboard(value);
  if (inlineOnly) throw badRequest('inline keyboard expected');
  if ('keyboard' in value) return parseReplyKeyboard(value);
  if ('remove_keyboard' in value) {
    if (value['remove_keyboard'] !== true) throw badRequest('field "remove_keyboard" must be true');
    return value as unknown as ReplyMarkup;
  }
  if ('force_reply' in value) {
    if (value['force_reply'] !== true) throw badRequest('field "force_reply" must be true');
    return value as unknown as ReplyMarkup;
  }
  throw badRequest("can't parse reply keyboard markup JSON object");
}

function parseInlineKeyboard(value: Record<string, unknown>): InlineKeyboardMarkup {
  const rows = value['inline_keyboard'];
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');
  let count = 0;
  const keyboard: InlineKeyboardButton[][] = [];
  for (const row of rows) {
    if (!Array.isArray(row))
      throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    keyboard.push(
      row.map((button: unknown) => {
        count += 1;
        validateInlineButton(button);
        return sanitizeButton(button);
      }),
    );
  }
  if (count > MAX_INLINE_BUTTONS) throw badRequest('REPLY_MARKUP_TOO_LONG');
  return { inline_keyboard: keyboard };
}

/** Keeps only fields Telegram knows, as it does (telegraf's Markup adds e.g. `hide: false`). */
function sanitizeButton(button: InlineKeyboardButton): InlineKeyboardButton {
  const clean: InlineKeyboardButton = { text: button.text };
  for (const key of INLINE_ACTIONS) {
    if (button[key] !== undefined && button[key] !== null) Object.assign(clean, { [key]: button[key] });
  }
  return clean;
}

function validateInlineButton(button: unknown): asserts button is InlineKeyboardButton {
  if (!isObject(button)) throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  if (typeof button['text'] !== 'string') throw badRequest("can't parse inline keyboard button: Text must be a String");
  if (button['text'].trim() === '') throw badRequest('BUTTON_TEXT_EMPTY');
  const actions = INLINE_ACTIONS.filter((key) => button[key] !== undefined && button[key] !== null);
  if (actions.length === 0) throw badRequest('text buttons are unallowed in the inline keyboard');
  if (actions.length > 1) {
    throw badRequest(
      "can't parse inline keyboard button: InlineKeyboardButton must have exactly one of the optional fields",
    );
  }
  const data = button['callback_data'];
  if (data !== undefined) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : 0;
    if (bytes < 1 || bytes > MAX_CALLBACK_DATA_BYTES) throw badRequest('BUTTON_DATA_INVALID');
  }
  const url = button['url'];
  if (url !== undefined && (typeof url !== 'string' || !/^(https?|tg):\/\/\S+$/i.test(url))) {
    throw badRequest(`inline keyboard button URL '${String(url)}' is invalid: Wrong HTTP URL`);
  }
}

function parseReplyKeyboard(value: Record<string, unknown>): ReplyKeyboardMarkup {
  const rows = value['keyboard'];
  if (!Array.isArray(rows)) throw badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array');
  for (const row of rows) {
    if (!Array.isArray(row)) throw badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays');
    for (const button of row) {
      const text = typeof button === 'string' ? button : isObject(button) ? button['text'] : undefined;
      if (typeof text !== 'string') throw badRequest("can't parse keyboard button: Text must be a String");
      if (text.trim() === '') throw badRequest('keyboard button text must be non-empty');
    }
  }
  return value as unknown as ReplyKeyboardMarkup;
}

export function inlineButtons(markup: InlineKeyboardMarkup | undefined): InlineKeyboardButton[] {
  return markup ? markup.inline_keyboard.flat() : [];
}

export function replyKeyboardTexts(markup: ReplyKeyboardMarkup): string[] {
  return markup.keyboard.flat().map((b: KeyboardButton | string) => (typeof b === 'string' ? b : b.text));
}

/** Human-readable list of a message's inline buttons, for error messages. */
export function describeButtons(markup: InlineKeyboardMarkup | undefined): string {
  const buttons = inlineButtons(markup);
  if (buttons.length === 0) return 'no inline buttons';
  return buttons
    .map(
      (b) => `[${b.text}]${b.callback_data !== undefined ? ` (callback_data ${JSON.stringify(b.callback_data)})` : ''}`,
    )
    .join(', ');
}
