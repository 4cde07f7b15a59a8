// What an admin sends while composing a broadcast, read into the broadcaster's contracts: a message into
// MessageContent (media by the file_id Telegram gave the admin's message, so nothing is uploaded again), button
// lines into a UrlKeyboard, a typed audience into an Audience. Each refusal says what is wrong.
import type { Message } from 'telegraf/types';
import {
  ALBUM_MAX,
  ALBUM_MIN,
  Audience,
  CAPTION_LIMIT,
  MessageContent,
  UrlButton,
  UrlKeyboard,
  type AlbumItem,
} from '../../lib/contracts';
import { mediumOf } from '../../lib/telegram-send';
import { entitiesToHtml } from './entities-html';

export type Refusal = { ok: false; key: string; params?: Record<string, string | number> };
export type Read<T> = { ok: true; value: T } | Refusal;

const refuse = (key: string, params?: Record<string, string | number>): Refusal => ({
  ok: false,
  key,
  ...(params ? { params } : {}),
});

type Incoming = Partial<
  Message.TextMessage & Message.PhotoMessage & Message.VideoMessage & Message.AudioMessage & Message.VoiceMessage
> &
  Partial<Message.DocumentMessage & Message.AnimationMessage> & { media_group_id?: string };

/** One media item of an admin's message: kind, file_id and caption (Telegram HTML). */
export interface MediaPart {
  kind: AlbumItem['kind'] | 'voice';
  fileId: string;
  caption?: string;
}

/** The media a message carries (a photo's largest size), or undefined for a text or an unsupported kind. */
export function mediaPartOf(message: Incoming): MediaPart | undefined {
  const medium = mediumOf(message);
  if (!medium) return undefined;
  const caption = message.caption ? entitiesToHtml(message.caption, message.caption_entities) : '';
  return { kind: medium.kind, fileId: medium.fileId, ...(caption ? { caption } : {}) };
}

/** A text or a single media message as broadcast content. */
export function contentOf(message: Incoming): Read<MessageContent> {
  let content: MessageContent;
  if (typeof message.text === 'string') {
    content = { kind: 'text', text: entitiesToHtml(message.text, message.entities) };
  } else {
    const part = mediaPartOf(message);
    if (!part) return refuse('broadcast.compose.unsupported');
    if ((part.caption?.length ?? 0) > CAPTION_LIMIT)
      return refuse('broadcast.compose.caption_too_long', { limit: CAPTION_LIMIT });
    content = { kind: part.kind, media: { fileId: part.fileId }, ...(part.caption ? { caption: part.caption } : {}) };
  }
  return MessageContent.safeParse(content).success
    ? { ok: true, value: content }
    : refuse('broadcast.compose.unsupported');
}

/** The items of one album, in the order they were sent, as broadcast content. */
export function albumOf(parts: readonly MediaPart[]): Read<MessageContent> {
  if (parts.length < ALBUM_MIN) return refuse('broadcast.compose.album_too_small', { min: ALBUM_MIN });
  if (parts.length > ALBUM_MAX) return refuse('broadcast.compose.album_too_big', { max: ALBUM_MAX });
  if (parts.some((p) => (p.caption?.length ?? 0) > CAPTION_LIMIT))
    return refuse('broadcast.compose.caption_too_long', { limit: CAPTION_LIMIT });
  const items: AlbumItem[] = [];
  for (const part of parts) {
    if (part.kind === 'voice') return refuse('broadcast.compose.album_mixed');
    items.push({ kind: part.kind, media: { fileId: part.fileId }, ...(part.caption ? { caption: part.caption } : {}) });
  }
  const content: MessageContent = { kind: 'album', items };
  return MessageContent.safeParse(content).success
    ? { ok: true, value: content }
    : refuse('broadcast.compose.album_mixed');
}

const BUTTON_LINE = /^(.+?)\s+-\s+(\S+)$/;
const MAX_ROWS = 10;
const MAX_PER_ROW = 8;

/** A link Telegram will accept on a button: the contract's shape, and a URL with a host (or a tg:// link). */
function isLink(url: string): boolean {
  if (!UrlButton.shape.url.safeParse(url).success) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'tg:' || parsed.hostname.length > 0;
  } catch {
    return false;
  }
}

/**
 * Lines of `Text - https://link`, several buttons of one row separated by `|` (which is therefore not allowed
 * inside a button's text or link); empty lines are ignored. The first problem found is the answer.
 */
export function parseButtons(input: string): Read<UrlKeyboard> {
  const lines = input
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return refuse('broadcast.compose.buttons_empty');
  if (lines.length > MAX_ROWS) return refuse('broadcast.compose.buttons_too_many_rows', { max: MAX_ROWS });
  const rows: UrlKeyboard = [];
  for (const [index, line] of lines.entries()) {
    const row = [];
    const parts = line.split('|').map((p) => p.trim());
    if (parts.length > MAX_PER_ROW)
      return refuse('broadcast.compose.buttons_too_many_in_row', { line: index + 1, max: MAX_PER_ROW });
    for (const part of parts) {
      const match = BUTTON_LINE.exec(part);
      if (!match) return refuse('broadcast.compose.button_format', { line: index + 1, part });
      const [, text, url] = match as unknown as [string, string, string];
      if (text.length > UrlButton.shape.text.maxLength!)
        return refuse('broadcast.compose.button_text_too_long', {
          line: index + 1,
          max: UrlButton.shape.text.maxLength!,
        });
      if (!isLink(url)) return refuse('broadcast.compose.button_link', { line: index + 1, url });
      const button = UrlButton.safeParse({ text, url });
      if (!button.success) return refuse('broadcast.compose.button_format', { line: index + 1, part });
      row.push(button.data);
    }
    rows.push(row);
  }
  const keyboard = UrlKeyboard.safeParse(rows);
  return keyboard.success ? { ok: true, value: keyboard.data } : refuse('broadcast.compose.buttons_empty');
}

/** A typed audience: a number of days (active within them) or a language code. */
export function parseAudience(input: string): Read<Audience> {
  const text = input.trim().toLowerCase();
  const candidate: unknown = /^\d{1,6}$/.test(text)
    ? { kind: 'active', days: Number(text) }
    : /^[a-z]{2,3}$/.test(text)
      ? { kind: 'language', language: text }
      : undefined;
  if (candidate === undefined) return refuse('broadcast.compose.audience_format');
  const audience = Audience.safeParse(candidate);
  return audience.success ? { ok: true, value: audience.data } : refuse('broadcast.compose.audience_days');
}
