// What a message to one chat can be, for the notifier (one user) and the broadcaster (many): a text, one media item
// with a caption, or an album, with optional buttons. Texts and captions are Telegram HTML. Media are referred to by
// a Telegram file_id (everything an admin sends the bot already has one) or by a stored media id (bytes kept by the
// notifier, uploaded to Telegram once and sent by file_id from then on).
import { z } from 'zod';
import { Id } from './primitives';

/** Telegram's limits (https://core.telegram.org/bots/api): longer texts are split by the notifier, captions not. */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const ALBUM_MIN = 2;
export const ALBUM_MAX = 10;
/** The longest text a message may carry before splitting (about 25 Telegram messages). */
export const LONG_TEXT_LIMIT = 100_000;

export const MediaKind = z.enum(['photo', 'video', 'audio', 'voice', 'document']);
export type MediaKind = z.infer<typeof MediaKind>;

export const MediaRef = z.union([
  z.object({ fileId: z.string().min(1).max(300) }).strict(),
  z.object({ mediaId: Id }).strict(),
]);
export type MediaRef = z.infer<typeof MediaRef>;

/** An inline keyboard of URL buttons (callback buttons belong to the bot-gateway's own dialogs). */
export const UrlButton = z.object({
  text: z.string().min(1).max(64),
  url: z
    .string()
    .max(2048)
    .regex(/^(https?|tg):\/\//, 'must be an http(s):// or tg:// link'),
});
export const UrlKeyboard = z.array(z.array(UrlButton).min(1).max(8)).min(1).max(10);
export type UrlKeyboard = z.infer<typeof UrlKeyboard>;

const Caption = z.string().max(CAPTION_LIMIT);

export const AlbumItem = z.object({
  kind: z.enum(['photo', 'video', 'audio', 'document']),
  media: MediaRef,
  caption: Caption.optional(),
});
export type AlbumItem = z.infer<typeof AlbumItem>;

export const MessageContent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().min(1).max(LONG_TEXT_LIMIT), buttons: UrlKeyboard.optional() }),
  ...MediaKind.options.map((kind) =>
    z.object({ kind: z.literal(kind), media: MediaRef, caption: Caption.optional(), buttons: UrlKeyboard.optional() }),
  ),
  // Telegram cannot attach a keyboard to an album; audio and documents group only with their own kind.
  z
    .object({ kind: z.literal('album'), items: z.array(AlbumItem).min(ALBUM_MIN).max(ALBUM_MAX) })
    .refine(
      ({ items }) =>
        items.every((i) => i.kind === 'photo' || i.kind === 'video') || items.every((i) => i.kind === items[0]!.kind),
      { message: 'an album mixes only photos with videos; audio and documents group with their own kind' },
    ),
]) as z.ZodType<MessageContentShape>;

type Media = { media: MediaRef; caption?: string; buttons?: UrlKeyboard };
type MessageContentShape =
  | { kind: 'text'; text: string; buttons?: UrlKeyboard }
  | ({ kind: MediaKind } & Media)
  | { kind: 'album'; items: AlbumItem[] };
export type MessageContent = MessageContentShape;
