// The emulator's model of Telegram's side: private chats with simulated users (and groups the bot is in), the messages in them, pending
// callback queries and the bot's command lists.
import { randomBytes } from 'node:crypto';
import { mediaOf } from './media';
import type {
  BotCommand,
  CallbackAnswer,
  CallbackQuery,
  Chat,
  Message,
  ParseMode,
  RecordedMessage,
  ReplyKeyboardMarkup,
  ReplyMarkup,
  User,
} from './types';

export interface StoredMessage {
  /** The Telegram object, latest version. */
  message: Message;
  fromBot: boolean;
  sourceText: string;
  parseMode?: ParseMode;
  sentMarkup?: ReplyMarkup;
  edits: number;
  deleted: boolean;
}

export const unixTime = (): number => Math.floor(Date.now() / 1000);

export class ChatState {
  readonly chat: Chat;
  /** Has sent the bot anything (a user must start the bot before it may write to them). */
  started = false;
  blocked = false;
  /** A deleted account: every send answers 403 "Forbidden: user is deactivated". */
  deactivated = false;
  replyKeyboard: ReplyKeyboardMarkup | undefined;
  readonly messages: StoredMessage[] = [];
  readonly callbackAnswers: CallbackAnswer[] = [];
  readonly chatInstance = BigInt.asIntN(64, randomBytes(8).readBigInt64BE()).toString();
  private nextMessageId = 1;
  private readonly byId = new Map<number, StoredMessage>();
  private readonly listeners = new Set<() => void>();

  /** A private chat with `user`, or (given `chat`) a group, whose `user` then stands for the group itself. */
  constructor(
    readonly user: User,
    chat?: Chat,
  ) {
    this.chat = chat ?? {
      id: user.id,
      type: 'private',
      first_name: user.first_name,
      ...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
      ...(user.username !== undefined ? { username: user.username } : {}),
    };
  }

  /** Message ids are per chat and shared by both sides, as in a Telegram private chat. */
  add(
    message: Omit<Message, 'message_id' | 'chat' | 'date'>,
    extra: Omit<StoredMessage, 'message' | 'edits' | 'deleted'>,
  ): StoredMessage {
    const stored: StoredMessage = {
      message: { message_id: this.nextMessageId++, ...message, chat: { ...this.chat }, date: unixTime() },
      edits: 0,
      deleted: false,
      ...extra,
    };
    // Keep Telegram's key order (message_id, from, chat, date, ...).
    const { message_id, from, chat, date, ...rest } = stored.message;
    stored.message = { message_id, ...(from ? { from } : {}), chat, date, ...rest };
    this.messages.push(stored);
    this.byId.set(stored.message.message_id, stored);
    return stored;
  }

  get(messageId: number): StoredMessage | undefined {
    return this.byId.get(messageId);
  }

  botMessages(includeDeleted: boolean): StoredMessage[] {
    return this.messages.filter((m) => m.fromBot && (includeDeleted || !m.deleted));
  }

  /** Notifies waiters (waitForMessage) that something in this chat changed. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface PendingCallbackQuery {
  query: CallbackQuery;
  chatId: number;
  answered: boolean;
}

export class World {
  readonly chats = new Map<number, ChatState>();
  /** Every message the bot sent, all chats, in send order. */
  readonly botMessages: StoredMessage[] = [];
  readonly callbackQueries = new Map<string, PendingCallbackQuery>();
  readonly commands = new Map<string, BotCommand[]>();
  private nextCallbackId = BigInt(randomBytes(6).readUIntBE(0, 6)) * 1000n;

  newCallbackQueryId(): string {
    this.nextCallbackId += 1n;
    return this.nextCallbackId.toString();
  }
}

export function toRecorded(stored: StoredMessage): RecordedMessage {
  const message = structuredClone(stored.message);
  const media = mediaOf(message);
  return {
    message_id: message.message_id,
    chat_id: message.chat.id,
    date: message.date,
    ...(message.edit_date !== undefined ? { edit_date: message.edit_date } : {}),
    text: message.text ?? message.caption ?? '',
    entities: message.entities ?? message.caption_entities ?? [],
    source_text: stored.sourceText,
    ...(media !== undefined ? { media } : {}),
    ...(message.media_group_id !== undefined ? { media_group_id: message.media_group_id } : {}),
    ...(stored.parseMode !== undefined ? { parse_mode: stored.parseMode } : {}),
    ...(stored.sentMarkup !== undefined ? { reply_markup: structuredClone(stored.sentMarkup) } : {}),
    edits: stored.edits,
    deleted: stored.deleted,
    raw: message,
  };
}
