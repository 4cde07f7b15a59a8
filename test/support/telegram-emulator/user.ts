// A simulated Telegram user the test drives: writes to the bot, presses buttons, blocks it, and inspects what
// the bot sent to its private chat.
import { randomInt } from 'node:crypto';
import { describeButtons, inlineButtons, replyKeyboardTexts } from './markup';
import { formatText } from './formatting';
import { captionFields, formatCaption, mediaField, type FileStore } from './media';
import type {
  CallbackAnswer,
  CallbackQuery,
  InlineKeyboardButton,
  MediaKind,
  Message,
  MessageEntity,
  MessageMatcher,
  ParseMode,
  RecordedMessage,
  ReplyKeyboardMarkup,
  Update,
  UpdateType,
  User,
} from './types';
import { toRecorded, unixTime, type ChatState, type World } from './world';

/** What the user-side needs from the emulator. */
export interface UserHost {
  readonly world: World;
  readonly botUser: User;
  readonly stopSignal: AbortSignal;
  readonly files: FileStore;
  enqueue(payload: Partial<Record<UpdateType, unknown>>): Update | undefined;
}

/** A message given by id or as any object carrying message_id (RecordedMessage, Message). */
export type MessageRef = number | { message_id: number };

/** A file the user sends the bot (sendMedia). */
export interface UserMedia {
  /** The file's content; a few placeholder bytes by default. */
  bytes?: Buffer;
  fileName?: string;
  mimeType?: string;
  /** Plain text (a user's client sends entities, not markup), unless `markup` says how it is formatted. */
  caption?: string;
  /** The formatting the user applied in their client, written as this markup: it arrives as caption_entities. */
  markup?: ParseMode;
  /** Part of an album: the messages of one album share it (sendAlbum sets it). */
  mediaGroupId?: string;
}

/** How a text the user writes is formatted: written as `markup`, it arrives as plain text with entities. */
export interface UserText {
  markup?: ParseMode;
}

const COMMAND = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?=\s|$)/;

export class SimulatedUser {
  constructor(
    private readonly host: UserHost,
    private readonly state: ChatState,
  ) {}

  get id(): number {
    return this.state.user.id;
  }

  /** The Telegram User object the bot sees. */
  get info(): User {
    return { ...this.state.user };
  }

  get hasBlockedBot(): boolean {
    return this.state.blocked;
  }

  /**
   * Writes `text` to the bot: queues a `message` update (with a bot_command entity for "/command ...").
   * A user who blocked the bot unblocks it first, as the "Restart" button does.
   */
  sendText(source: string, { markup }: UserText = {}): Message {
    if (typeof source !== 'string' || source.trim() === '')
      throw new Error('sendText: Telegram does not send empty messages');
    if (this.state.blocked) this.unblockBot();
    this.state.started = true;
    const formatted = markup ? formatText(source, markup) : { text: source, entities: [] };
    const text = formatted.text;
    const command = COMMAND.exec(text);
    const entities: MessageEntity[] = command ? [{ type: 'bot_command', offset: 0, length: command[0].length }] : [];
    entities.push(...formatted.entities);
    return this.post({ text, ...(entities.length > 0 ? { entities } : {}) }, source);
  }

  /**
   * Sends the bot a photo, document, video, audio or voice message: the file is stored as if uploaded, so the bot
   * can getFile and download it, or send it on by its file_id.
   */
  sendMedia(kind: MediaKind, media: UserMedia = {}): Message {
    if (this.state.blocked) this.unblockBot();
    this.state.started = true;
    const file = this.host.files.add(kind, media.bytes ?? Buffer.from(`${kind} from user ${this.id}`), {
      ...(media.fileName !== undefined ? { fileName: media.fileName } : {}),
      ...(media.mimeType !== undefined ? { mimeType: media.mimeType } : {}),
    });
    const caption = formatCaption(media.caption, media.markup, undefined);
    const group = media.mediaGroupId !== undefined ? { media_group_id: media.mediaGroupId } : {};
    return this.post({ ...group, ...mediaField(file, undefined), ...captionFields(caption) }, caption.source);
  }

  /** Sends an album: 2–10 media messages sharing one new media_group_id, each its own update, as clients do. */
  sendAlbum(items: ReadonlyArray<UserMedia & { kind: MediaKind }>): Message[] {
    if (items.length < 2 || items.length > 10) throw new Error('sendAlbum: an album has 2-10 items');
    const mediaGroupId = String(randomInt(1e12, 2e14));
    return items.map(({ kind, ...media }) => this.sendMedia(kind, { ...media, mediaGroupId }));
  }

  /** Adds the user's message to the chat and queues its `message` update. */
  private post(content: Partial<Message>, sourceText: string): Message {
    const stored = this.state.add({ from: this.info, ...content }, { fromBot: false, sourceText });
    this.host.enqueue({ message: structuredClone(stored.message) });
    this.state.changed();
    return structuredClone(stored.message);
  }

  /** Presses the inline button with this callback_data under a message the bot sent to this user. */
  pressButton(message: MessageRef, callbackData: string): CallbackQuery {
    return this.press(
      message,
      (b) => b.callback_data === callbackData,
      `callback_data ${JSON.stringify(callbackData)}`,
    );
  }

  /**
   * What a modified client can do: a callback query with any callback_data under a bot message of this chat,
   * whether or not the message has such a button (forged or outdated data).
   */
  sendCallbackData(message: MessageRef, callbackData: string): CallbackQuery {
    return this.press(message, () => true, 'any data', callbackData);
  }

  /** Presses the inline callback button whose label is `text`. */
  pressButtonWithText(message: MessageRef, text: string): CallbackQuery {
    return this.press(message, (b) => b.text === text && b.callback_data !== undefined, `text ${JSON.stringify(text)}`);
  }

  /** Taps a button of the reply keyboard currently shown (sends its text as a message). */
  pressKeyboardButton(text: string): Message {
    const keyboard = this.state.replyKeyboard;
    if (!keyboard) throw new Error(`user ${this.id} has no reply keyboard shown`);
    const texts = replyKeyboardTexts(keyboard);
    if (!texts.includes(text)) {
      throw new Error(
        `reply keyboard has no button ${JSON.stringify(text)}; it has ${texts.map((t) => `[${t}]`).join(', ')}`,
      );
    }
    if (keyboard.one_time_keyboard) this.state.replyKeyboard = undefined;
    return this.sendText(text);
  }

  /** The reply keyboard (ReplyKeyboardMarkup) currently shown to the user, if any. */
  replyKeyboard(): ReplyKeyboardMarkup | undefined {
    return this.state.replyKeyboard ? structuredClone(this.state.replyKeyboard) : undefined;
  }

  /** From now on the bot's sends to this user fail with 403 "Forbidden: bot was blocked by the user". */
  blockBot(): void {
    if (this.state.blocked) return;
    this.state.blocked = true;
    this.enqueueMembership('member', 'kicked');
  }

  unblockBot(): void {
    if (!this.state.blocked) return;
    this.state.blocked = false;
    this.enqueueMembership('kicked', 'member');
  }

  /** The account is deleted: from now on the bot's sends to this user fail with 403 "Forbidden: user is deactivated". */
  deactivate(): void {
    this.state.deactivated = true;
  }

  /** What the bot sent to this chat, in order, with edits applied. Deleted messages only on request. */
  messages({ includeDeleted = false } = {}): RecordedMessage[] {
    return this.state.botMessages(includeDeleted).map(toRecorded);
  }

  /** Both sides of the chat in order, the user's messages and the bot's, latest versions (what a client shows). */
  transcript({ includeDeleted = false } = {}): { fromBot: boolean; deleted: boolean; message: Message }[] {
    return this.state.messages
      .filter((m) => includeDeleted || !m.deleted)
      .map((m) => ({ fromBot: m.fromBot, deleted: m.deleted, message: structuredClone(m.message) }));
  }

  lastMessage(): RecordedMessage | undefined {
    return this.messages().at(-1);
  }

  /** Whether a message of this chat, the user's own or the bot's, was deleted (deleteMessage). */
  wasDeleted(message: MessageRef): boolean {
    const messageId = typeof message === 'number' ? message : message.message_id;
    const stored = this.state.get(messageId);
    if (!stored) throw new Error(`user ${this.id}: no message #${messageId} in this chat`);
    return stored.deleted;
  }

  /** Answers the bot gave (answerCallbackQuery) to this user's button presses, in order. */
  callbackAnswers(): CallbackAnswer[] {
    return this.state.callbackAnswers.map((a) => ({ ...a }));
  }

  /**
   * Resolves with the first bot message to this chat that matches (already received, received later, or edited
   * into matching). A RegExp or string is tested against the text the user sees.
   */
  waitForMessage(matcher: MessageMatcher, timeoutMs = 10_000): Promise<RecordedMessage> {
    const matches = toPredicate(matcher);
    const find = (): RecordedMessage | undefined => this.state.botMessages(true).map(toRecorded).find(matches);
    const found = find();
    if (found) return Promise.resolve(found);

    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.host.stopSignal.removeEventListener('abort', onStop);
      };
      const unsubscribe = this.state.subscribe(() => {
        const message = find();
        if (!message) return;
        cleanup();
        resolve(message);
      });
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.describeWait(matcher)} within ${timeoutMs} ms. ${this.describeReceived()}`));
      }, timeoutMs);
      const onStop = (): void => {
        cleanup();
        reject(new Error(`${this.describeWait(matcher)}: the emulator was stopped. ${this.describeReceived()}`));
      };
      this.host.stopSignal.addEventListener('abort', onStop, { once: true });
    });
  }

  private press(
    ref: MessageRef,
    pick: (button: InlineKeyboardButton) => boolean,
    what: string,
    forgedData?: string,
  ): CallbackQuery {
    if (this.state.blocked) throw new Error(`user ${this.id} has blocked the bot and cannot press its buttons`);
    const messageId = typeof ref === 'number' ? ref : ref.message_id;
    const stored = this.state.get(messageId);
    if (!stored || !stored.fromBot || stored.deleted) {
      throw new Error(
        `user ${this.id}: no message #${messageId} from the bot in this chat${stored?.deleted ? ' (it was deleted)' : ''}`,
      );
    }
    const button =
      forgedData !== undefined
        ? { text: '', callback_data: forgedData }
        : inlineButtons(stored.message.reply_markup).find(pick);
    if (!button) {
      throw new Error(
        `message #${messageId} has no inline button with ${what}; it has ${describeButtons(stored.message.reply_markup)}`,
      );
    }
    const query: CallbackQuery = {
      id: this.host.world.newCallbackQueryId(),
      from: this.info,
      message: structuredClone(stored.message),
      chat_instance: this.state.chatInstance,
      data: button.callback_data!,
    };
    this.host.world.callbackQueries.set(query.id, { query, chatId: this.id, answered: false });
    this.host.enqueue({ callback_query: structuredClone(query) });
    return query;
  }

  private enqueueMembership(from: 'member' | 'kicked', to: 'member' | 'kicked'): void {
    const bot = this.host.botUser;
    this.host.enqueue({
      my_chat_member: {
        chat: { ...this.state.chat },
        from: this.info,
        date: unixTime(),
        old_chat_member: { status: from, user: bot, ...(from === 'kicked' ? { until_date: 0 } : {}) },
        new_chat_member: { status: to, user: bot, ...(to === 'kicked' ? { until_date: 0 } : {}) },
      },
    });
  }

  private describeWait(matcher: MessageMatcher): string {
    const what =
      typeof matcher === 'function'
        ? `predicate ${matcher.name || '(anonymous)'}`
        : matcher instanceof RegExp
          ? String(matcher)
          : JSON.stringify(matcher);
    const name = this.state.user.username ? ` (@${this.state.user.username})` : '';
    return `No bot message to user ${this.id}${name} matched ${what}`;
  }

  private describeReceived(): string {
    const received = this.state.botMessages(true);
    if (received.length === 0) return 'The bot sent this chat nothing.';
    const lines = received.map((m) => {
      const flags = [m.edits > 0 ? `edited ${m.edits}x` : '', m.deleted ? 'deleted' : ''].filter(Boolean).join(', ');
      const buttons = m.message.reply_markup ? ` buttons: ${describeButtons(m.message.reply_markup)}` : '';
      return `  #${m.message.message_id}${flags ? ` (${flags})` : ''}: ${JSON.stringify(m.message.text ?? '')}${buttons}`;
    });
    return `Received ${received.length} message(s):\n${lines.join('\n')}`;
  }
}

function toPredicate(matcher: MessageMatcher): (message: RecordedMessage) => boolean {
  if (typeof matcher === 'function') return matcher;
  if (typeof matcher === 'string') return (m) => m.text.includes(matcher);
  return (m) => {
    matcher.lastIndex = 0; // a /g or /y RegExp is stateful
    return matcher.test(m.text);
  };
}
