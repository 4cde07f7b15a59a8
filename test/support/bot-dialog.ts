// Talking to the bot as a simulated user: a message or a button press, and the bot's answer to it.
import type { RecordedMessage, SimulatedUser } from './telegram-emulator';

/** Sends `text` and resolves with the first bot message after it (that matches, if a matcher is given). */
export async function send(user: SimulatedUser, text: string, matcher?: RegExp): Promise<RecordedMessage> {
  const sent = user.sendText(text);
  return user.waitForMessage((m) => m.message_id > sent.message_id && (!matcher || matcher.test(m.text)));
}

/** Presses a button and resolves with the first bot message sent after it. */
export async function press(
  user: SimulatedUser,
  message: RecordedMessage,
  data: string,
  matcher?: RegExp,
): Promise<RecordedMessage> {
  const last = Math.max(0, ...user.messages({ includeDeleted: true }).map((m) => m.message_id));
  user.pressButton(message, data);
  return user.waitForMessage((m) => m.message_id > last && (!matcher || matcher.test(m.text)));
}

/** Presses a button and resolves with the message it is on once the bot edited it (into a match, if given). */
export async function pressInPlace(
  user: SimulatedUser,
  message: RecordedMessage,
  data: string,
  matcher?: RegExp,
): Promise<RecordedMessage> {
  const edits = user.messages({ includeDeleted: true }).find((m) => m.message_id === message.message_id)!.edits;
  user.pressButton(message, data);
  return user.waitForMessage(
    (m) => m.message_id === message.message_id && m.edits > edits && (!matcher || matcher.test(m.text)),
  );
}

export function buttonsOf(message: RecordedMessage): string[] {
  const markup = message.reply_markup;
  return markup && 'inline_keyboard' in markup ? markup.inline_keyboard.flat().map((b) => b.callback_data ?? '') : [];
}
