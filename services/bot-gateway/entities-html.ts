// A message as the admin formatted it in their client (plain text plus Telegram's entities) turned back into
// Telegram HTML, so a broadcast looks the way it was typed. Every piece of text is escaped; entities the Bot API
// re-detects by itself (links, mentions, hashtags, commands) stay plain text.
import type { MessageEntity } from 'telegraf/types';
import { escapeHtml } from '../../lib/i18n';

type Tag = { open: string; close: string };

const simple = (name: string): Tag => ({ open: `<${name}>`, close: `</${name}>` });

function tagOf(entity: MessageEntity): Tag | undefined {
  switch (entity.type) {
    case 'bold':
      return simple('b');
    case 'italic':
      return simple('i');
    case 'underline':
      return simple('u');
    case 'strikethrough':
      return simple('s');
    case 'spoiler':
      return simple('tg-spoiler');
    case 'code':
      return simple('code');
    case 'pre':
      return entity.language
        ? { open: `<pre><code class="language-${escapeHtml(entity.language)}">`, close: '</code></pre>' }
        : simple('pre');
    case 'blockquote':
      return simple('blockquote');
    case 'text_link':
      return { open: `<a href="${escapeHtml(entity.url)}">`, close: '</a>' };
    case 'text_mention':
      return { open: `<a href="tg://user?id=${entity.user.id}">`, close: '</a>' };
    case 'custom_emoji':
      return { open: `<tg-emoji emoji-id="${escapeHtml(entity.custom_emoji_id)}">`, close: '</tg-emoji>' };
    default:
      // newer than the typings
      return (entity.type as string) === 'expandable_blockquote'
        ? { open: '<blockquote expandable>', close: '</blockquote>' }
        : undefined;
  }
}

interface Span {
  start: number;
  end: number;
  tag: Tag;
}

/**
 * `text` with its entities as Telegram HTML. Offsets are UTF-16 code units, as JavaScript strings count them.
 * Telegram's entities nest properly; should two ever overlap, the inner one is closed and reopened around the
 * boundary, so the HTML is always well formed.
 */
export function entitiesToHtml(text: string, entities: readonly MessageEntity[] = []): string {
  const spans: Span[] = entities
    .filter((e) => e.length > 0 && e.offset >= 0 && e.offset + e.length <= text.length)
    .flatMap((e) => {
      const tag = tagOf(e);
      return tag ? [{ start: e.offset, end: e.offset + e.length, tag }] : [];
    })
    // outer entities first where several start together
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const points = [...new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  const open: Span[] = [];
  let out = '';
  let next = 0;
  for (let i = 0; i < points.length; i += 1) {
    const at = points[i]!;
    // Close what ends here; anything opened inside it that goes on is closed with it and reopened.
    for (let depth = open.findIndex((s) => s.end <= at); depth !== -1; depth = open.findIndex((s) => s.end <= at)) {
      const above = open.splice(depth);
      for (const span of [...above].reverse()) out += span.tag.close;
      for (const span of above.slice(1)) {
        if (span.end > at) {
          out += span.tag.open;
          open.push(span);
        }
      }
    }
    while (next < spans.length && spans[next]!.start === at) {
      const span = spans[next]!;
      out += span.tag.open;
      open.push(span);
      next += 1;
    }
    const until = points[i + 1];
    if (until !== undefined) out += escapeHtml(text.slice(at, until));
  }
  return out;
}
