// Sending one MessageContent to one chat with telegraf, for every sender of the bot (notifier, broadcaster): the
// right Bot API method per kind, a slot of the shared budget before every request, and a 429 answered by pausing
// every replica for its retry_after and trying again. Stored media are resolved by the caller (upload or file_id).
// One content may take several requests (a long text: one per part); a caller that records progress gets a hook
// right before each request leaves and after each is answered, and can start at a later request after a crash.
import type { Telegram } from 'telegraf';
import type { InputFile, Message } from 'telegraf/types';
import type { AlbumItem, MediaKind, MediaRef, MessageContent, UrlKeyboard } from './contracts';
import { splitHtml } from './telegram-text';

/** What a medium is sent as: a Telegram file_id, or bytes to upload (multipart). */
export type MediaSource = string | { source: Buffer; filename: string };

export interface SendHooks {
  /** Waits for a slot of the bot's budget for this chat; `messages` is how many the request sends (an album: each). */
  slot(messages: number): Promise<void>;
  /** Telegram answered 429: pause every sender for retry_after (TelegramBudget.pause). */
  paused(retryAfterSeconds: number): Promise<void>;
  /** The file_id or bytes of a medium, sent as `kind`. */
  media(ref: MediaRef, kind: MediaKind): Promise<MediaSource>;
  /** Paid broadcast (allow_paid_broadcast): up to 1,000 messages/s, paid in Stars. */
  paid?: boolean;
  /** 429s in a row one request waits out before the error is thrown to the caller (default 3). */
  max429s?: number;
  /** The first request to make (0 by default): those before it were made by an earlier attempt. */
  startAt?: number;
  /** After the slot, right before request `index` leaves (again, after a 429). */
  attempting?(index: number): Promise<void>;
  /** Request `index` was answered with these messages. */
  answered?(index: number, messageIds: number[]): Promise<void>;
}

/** The requests sending `content` takes: a text one per part (splitHtml), anything else one. */
export function requestsOf(content: MessageContent): number {
  return content.kind === 'text' ? splitHtml(content.text).length : 1;
}

export interface SentContent {
  /** Every message Telegram created, in order (a long text: one per part; an album: one per item). */
  messageIds: number[];
  /** The file_id Telegram gave each medium, in content order (a single medium: one; an album: one per item). */
  fileIds: string[];
}

/** The Bot API error of a telegraf failure, if Telegram answered. */
export function telegramError(
  error: unknown,
): { code: number; description: string; retryAfterSeconds?: number } | undefined {
  const e = error as {
    response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } };
  };
  const code = e?.response?.error_code;
  if (typeof code !== 'number') return undefined;
  return { code, description: e.response?.description ?? '', retryAfterSeconds: e.response?.parameters?.retry_after };
}

/** The system error code of a request that got no answer (ECONNREFUSED, ETIMEDOUT…), wherever the client put it. */
export function networkCodeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; errno?: unknown; cause?: { code?: unknown } };
  const code = e?.code ?? e?.errno ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors raised before a request can have reached Telegram: nothing was delivered. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether the request never left (no connection was made), so Telegram cannot have delivered it. A timeout or a
 * reset after the request was written is not that: its outcome is unknown.
 */
export function requestNeverLeft(error: unknown): boolean {
  const code = networkCodeOf(error);
  return code !== undefined && NEVER_SENT.has(code);
}

const keyboard = (buttons: UrlKeyboard | undefined) =>
  buttons ? { reply_markup: { inline_keyboard: buttons.map((row) => row.map((b) => ({ ...b }))) } } : {};

/** What a Telegram message may carry, any of them (a message the bot sent, or one a user sent it). */
export type MediaCarrier = Partial<
  Pick<Message.PhotoMessage, 'photo'> &
    Pick<Message.VideoMessage, 'video'> &
    Pick<Message.AudioMessage, 'audio'> &
    Pick<Message.VoiceMessage, 'voice'> &
    Pick<Message.DocumentMessage, 'document'> &
    Pick<Message.AnimationMessage, 'animation'>
>;

/**
 * The medium a message carries, by one of the kinds the platform sends (a photo: its largest size), or undefined:
 * a text, or a GIF (which also carries `document`, but is not one of those kinds).
 */
export function mediumOf(message: MediaCarrier): { kind: MediaKind; fileId: string } | undefined {
  const medium = message.photo
    ? { kind: 'photo' as const, fileId: message.photo.at(-1)?.file_id }
    : message.animation
      ? undefined
      : message.video
        ? { kind: 'video' as const, fileId: message.video.file_id }
        : message.audio
          ? { kind: 'audio' as const, fileId: message.audio.file_id }
          : message.voice
            ? { kind: 'voice' as const, fileId: message.voice.file_id }
            : message.document
              ? { kind: 'document' as const, fileId: message.document.file_id }
              : undefined;
  return medium?.fileId ? { kind: medium.kind, fileId: medium.fileId } : undefined;
}

const asInput = (source: MediaSource): string | InputFile =>
  typeof source === 'string' ? source : { source: source.source, filename: source.filename };

export async function sendContent(
  telegram: Telegram,
  chatId: string,
  content: MessageContent,
  hooks: SendHooks,
): Promise<SentContent> {
  const paid = hooks.paid ? { allow_paid_broadcast: true } : {};
  const html = { parse_mode: 'HTML' as const };
  const attempt = async <T>(index: number, messages: number, request: () => Promise<T>): Promise<T> => {
    for (let tooMany = 0; ;) {
      await hooks.slot(messages);
      await hooks.attempting?.(index);
      try {
        return await request();
      } catch (error) {
        const failure = telegramError(error);
        if (failure?.code !== 429) throw error;
        await hooks.paused(failure.retryAfterSeconds ?? 1);
        if (++tooMany >= (hooks.max429s ?? 3)) throw error;
      }
    }
  };

  if (content.kind === 'text') {
    const parts = splitHtml(content.text);
    const messageIds: number[] = [];
    for (const [i, part] of parts.entries()) {
      if (i < (hooks.startAt ?? 0)) continue;
      const last = i === parts.length - 1;
      const sent = await attempt(i, 1, () =>
        telegram.sendMessage(chatId, part, {
          ...html,
          ...paid,
          link_preview_options: { is_disabled: true },
          // Buttons go under the last part, where the reader ends.
          ...(last ? keyboard(content.buttons) : {}),
        }),
      );
      messageIds.push(sent.message_id);
      await hooks.answered?.(i, [sent.message_id]);
    }
    return { messageIds, fileIds: [] };
  }

  if (content.kind === 'album') {
    const media = await Promise.all(
      content.items.map(async (item: AlbumItem) => ({
        type: item.kind,
        media: asInput(await hooks.media(item.media, item.kind)),
        ...(item.caption ? { caption: item.caption, ...html } : {}),
      })),
    );
    const sent = await attempt(0, content.items.length, () =>
      telegram.sendMediaGroup(chatId, media as Parameters<Telegram['sendMediaGroup']>[1], paid as object),
    );
    await hooks.answered?.(
      0,
      sent.map((m) => m.message_id),
    );
    return {
      messageIds: sent.map((m) => m.message_id),
      fileIds: sent.map((m) => mediumOf(m)?.fileId ?? ''),
    };
  }

  const input = asInput(await hooks.media(content.media, content.kind));
  const extra = {
    ...paid,
    ...keyboard(content.buttons),
    ...(content.caption ? { caption: content.caption, ...html } : {}),
  };
  const senders: Record<typeof content.kind, () => Promise<{ message_id: number } & MediaCarrier>> = {
    photo: () => telegram.sendPhoto(chatId, input, extra),
    video: () => telegram.sendVideo(chatId, input, extra),
    audio: () => telegram.sendAudio(chatId, input, extra),
    voice: () => telegram.sendVoice(chatId, input, extra),
    document: () => telegram.sendDocument(chatId, input, extra),
  };
  const sent = await attempt(0, 1, senders[content.kind]);
  await hooks.answered?.(0, [sent.message_id]);
  const fileId = mediumOf(sent)?.fileId;
  return { messageIds: [sent.message_id], fileIds: fileId ? [fileId] : [] };
}
