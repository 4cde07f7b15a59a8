// parse_mode handling (https://core.telegram.org/bots/api#formatting-options): turns the text the bot sent into
// the plain text the user sees plus entities, failing with Telegram's "can't parse entities" errors — most
// usefully for unescaped MarkdownV2 reserved characters, the classic production bug.
import { badRequest, type BotApiError } from './errors';
import type { MessageEntity, MessageEntityType, ParseMode } from './types';

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

export const PARSE_MODES: readonly ParseMode[] = ['HTML', 'Markdown', 'MarkdownV2'];

export function isParseMode(value: string): value is ParseMode {
  return (PARSE_MODES as readonly string[]).includes(value);
}

/** A text or caption as the Bot API receives it: the source, the parse_mode string, explicit entities. */
export function formatParam(
  source: string,
  mode: string | undefined,
  explicit: unknown,
): FormattedText & { parseMode: ParseMode | undefined } {
  if (mode !== undefined && mode !== '' && !isParseMode(mode)) throw badRequest(`unsupported parse_mode "${mode}"`);
  const parseMode = mode === '' ? undefined : (mode as ParseMode | undefined);
  const { text, entities } = formatText(
    source,
    parseMode,
    Array.isArray(explicit) ? (explicit as MessageEntity[]) : undefined,
  );
  return { text, entities, parseMode };
}

/** Applies parse_mode (or passes explicit entities through) and trims surrounding whitespace as Telegram does. */
export function formatText(
  source: string,
  parseMode: ParseMode | undefined,
  entities?: MessageEntity[],
): FormattedText {
  let parsed: FormattedText;
  switch (parseMode) {
    case 'HTML':
      parsed = parseHtml(source);
      break;
    case 'MarkdownV2':
      parsed = parseMarkdownV2(source);
      break;
    case 'Markdown':
      parsed = parseMarkdown(source);
      break;
    default:
      parsed = { text: source, entities: entities ? entities.map((e) => ({ ...e })) : [] };
  }
  return trim(parsed);
}

const cantParse = (detail: string): BotApiError => badRequest(`can't parse entities: ${detail}`);
const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index), 'utf8');

function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return entities.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset || b.length - a.length);
}

function trim({ text, entities }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const adjusted = entities.map((e) => {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(trimmed.length, e.offset + e.length - lead);
    return { ...e, offset: start, length: Math.max(0, end - start) };
  });
  return { text: trimmed, entities: sortEntities(adjusted) };
}

// ---- HTML -------------------------------------------------------------------------------------------------

const HTML_TAGS: Record<string, MessageEntityType> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  tag: string;
  entity: MessageEntity;
  attrs: Record<string, string>;
}

function parseHtml(source: string): FormattedText {
  let out = '';
  const stack: OpenTag[] = [];
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '<') {
      const at = byteOffset(source, i);
      if (source[i + 1] === '/') {
        const end = source.indexOf('>', i);
        if (end < 0) throw cantParse(`Unclosed end tag at byte offset ${at}`);
        const name = source
          .slice(i + 2, end)
          .trim()
          .toLowerCase();
        const open = stack.pop();
        if (!open) throw cantParse(`Unexpected end tag at byte offset ${at}`);
        if (name !== open.tag) {
          throw cantParse(`Unmatched end tag at byte offset ${at}, expected "</${open.tag}>", found "</${name}>"`);
        }
        open.entity.length = out.length - open.entity.offset;
        const parent = stack[stack.length - 1];
        const language = open.attrs['class']?.match(/^language-(.+)$/)?.[1];
        if (open.tag === 'code' && parent?.tag === 'pre' && language !== undefined) {
          parent.entity.language = language; // <pre><code class="language-x"> is one pre entity
        } else if (open.tag !== 'a' || open.entity.url !== undefined) {
          entities.push(open.entity);
        }
        i = end + 1;
        continue;
      }
      const tag = readStartTag(source, i);
      if (!tag)
        throw cantParse(`Unsupported start tag "${source.slice(i + 1).split(/[\s>]/)[0]}" at byte offset ${at}`);
      const type = HTML_TAGS[tag.name];
      if (!type || (tag.name === 'span' && tag.attrs['class'] !== 'tg-spoiler')) {
        throw cantParse(`Unsupported start tag "${tag.name}" at byte offset ${at}`);
      }
      const entity: MessageEntity = { type, offset: out.length, length: 0 };
      if (type === 'text_link' && tag.attrs['href'] !== undefined) entity.url = tag.attrs['href'];
      if (type === 'custom_emoji' && tag.attrs['emoji-id'] !== undefined)
        entity.custom_emoji_id = tag.attrs['emoji-id'];
      stack.push({ tag: tag.name, entity, attrs: tag.attrs });
      i = tag.end;
      continue;
    }
    if (ch === '&') {
      const m = /^&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/i.exec(source.slice(i, i + 12));
      if (m) {
        const name = m[1]!;
        const decoded = name.startsWith('#')
          ? String.fromCodePoint(
              name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10),
            )
          : NAMED_ENTITIES[name.toLowerCase()];
        out += decoded ?? m[0]; // unsupported named entities stay as written
        i += m[0].length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  const unclosed = stack.pop();
  if (unclosed) throw cantParse(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  return { text: out, entities };
}

function readStartTag(
  source: string,
  start: number,
): { name: string; attrs: Record<string, string>; end: number } | undefined {
  const nameMatch = /^<([a-z][a-z0-9-]*)/i.exec(source.slice(start, start + 40));
  if (!nameMatch) return undefined;
  const attrs: Record<string, string> = {};
  const attr = /\s*([a-z][a-z0-9-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/iy;
  let pos = start + nameMatch[0].length;
  for (;;) {
    while (source[pos] === ' ' || source[pos] === '\n' || source[pos] === '\t') pos += 1;
    if (source[pos] === '>') return { name: nameMatch[1]!.toLowerCase(), attrs, end: pos + 1 };
    if (source[pos] === '/' && source[pos + 1] === '>')
      return { name: nameMatch[1]!.toLowerCase(), attrs, end: pos + 2 };
    attr.lastIndex = pos;
    const m = attr.exec(source);
    if (!m || m[0].length === 0) return undefined;
    attrs[m[1]!.toLowerCase()] = decodeHtmlAttr(m[2] ?? m[3] ?? m[4] ?? '');
    pos = attr.lastIndex;
  }
}

function decodeHtmlAttr(value: string): string {
  return value.replace(/&(lt|gt|amp|quot);/g, (_, name: string) => NAMED_ENTITIES[name]!);
}

// ---- MarkdownV2 -------------------------------------------------------------------------------------------

const MDV2_RESERVED = '_*[]()~`>#+-=|{}.!';

const ENTITY_NAMES: Partial<Record<MessageEntityType, string>> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  code: 'Code',
  pre: 'Pre',
  text_link: 'TextUrl',
  blockquote: 'BlockQuote',
};

interface OpenMarker {
  marker: string;
  entity: MessageEntity;
  sourceIndex: number;
}

function parseMarkdownV2(source: string): FormattedText {
  let out = '';
  const stack: OpenMarker[] = [];
  const entities: MessageEntity[] = [];
  let quote: MessageEntity | undefined;
  let lineStart = true;
  let i = 0;

  const toggle = (marker: string, type: MessageEntityType): void => {
    const index = stack.findLastIndex((m) => m.marker === marker);
    if (index >= 0) {
      const [open] = stack.splice(index, 1);
      open!.entity.length = out.length - open!.entity.offset;
      entities.push(open!.entity);
    } else {
      stack.push({ marker, entity: { type, offset: out.length, length: 0 }, sourceIndex: i });
    }
    i += marker.length;
  };

  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source.charCodeAt(i + 1);
      if (next >= 1 && next <= 126) {
        out += source[i + 1];
        i += 2;
        lineStart = false;
        continue;
      }
    }
    if (ch === '`') {
      const fence = source.startsWith('```', i);
      const close = findUnescaped(source, fence ? '```' : '`', i + (fence ? 3 : 1));
      if (close < 0)
        throw cantParse(`Can't find end of ${fence ? 'Pre' : 'Code'} entity at byte offset ${byteOffset(source, i)}`);
      let body = source.slice(i + (fence ? 3 : 1), close);
      const entity: MessageEntity = { type: fence ? 'pre' : 'code', offset: out.length, length: 0 };
      if (fence) {
        const firstLine = /^([^\s`]+)\n/.exec(body);
        if (firstLine) {
          entity.language = firstLine[1]!;
          body = body.slice(firstLine[0].length);
        } else if (body.startsWith('\n')) {
          body = body.slice(1);
        }
      }
      out += unescapeMarkdownV2(body);
      entity.length = out.length - entity.offset;
      entities.push(entity);
      i = close + (fence ? 3 : 1);
      lineStart = false;
      continue;
    }
    if (ch === '>' && lineStart) {
      quote ??= { type: 'blockquote', offset: out.length, length: 0 };
      i += 1;
      lineStart = false;
      continue;
    }
    if (ch === '\n') {
      if (quote && source[i + 1] !== '>') {
        quote.length = out.length - quote.offset;
        entities.push(quote);
        quote = undefined;
      }
      out += '\n';
      i += 1;
      lineStart = true;
      continue;
    }
    lineStart = false;
    if (ch === '*') {
      toggle('*', 'bold');
      continue;
    }
    if (ch === '_') {
      if (source[i + 1] === '_') toggle('__', 'underline');
      else toggle('_', 'italic');
      continue;
    }
    if (ch === '~') {
      toggle('~', 'strikethrough');
      continue;
    }
    if (ch === '|' && source[i + 1] === '|') {
      toggle('||', 'spoiler');
      continue;
    }
    if (ch === '[') {
      stack.push({ marker: '[', entity: { type: 'text_link', offset: out.length, length: 0 }, sourceIndex: i });
      i += 1;
      continue;
    }
    if (ch === ']' && stack[stack.length - 1]?.marker === '[' && source[i + 1] === '(') {
      const close = findUnescaped(source, ')', i + 2);
      if (close < 0) throw cantParse(`Can't find end of a URL at byte offset ${byteOffset(source, i + 1)}`);
      const open = stack.pop()!;
      open.entity.length = out.length - open.entity.offset;
      open.entity.url = source.slice(i + 2, close).replace(/\\([)\\])/g, '$1');
      entities.push(open.entity);
      i = close + 1;
      continue;
    }
    if (MDV2_RESERVED.includes(ch)) {
      throw cantParse(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    }
    out += ch;
    i += 1;
  }
  if (quote) {
    quote.length = out.length - quote.offset;
    entities.push(quote);
  }
  const unclosed = stack[0];
  if (unclosed) {
    const name = ENTITY_NAMES[unclosed.entity.type] ?? unclosed.entity.type;
    throw cantParse(`Can't find end of ${name} entity at byte offset ${byteOffset(source, unclosed.sourceIndex)}`);
  }
  return { text: out, entities };
}

/** Drops the backslash before any escaped ASCII character (codes 1-126), as inside MarkdownV2 code spans. */
function unescapeMarkdownV2(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const next = text.charCodeAt(i + 1);
    if (text[i] === '\\' && next >= 1 && next <= 126) i += 1;
    out += text[i];
  }
  return out;
}

/** Index of the next `needle` at or after `from` that is not preceded by a backslash escape, or -1. */
function findUnescaped(source: string, needle: string, from: number): number {
  for (let i = from; i < source.length; i += 1) {
    if (source[i] === '\\') {
      i += 1;
      continue;
    }
    if (source.startsWith(needle, i)) return i;
  }
  return -1;
}

// ---- Markdown (legacy) ------------------------------------------------------------------------------------

function parseMarkdown(source: string): FormattedText {
  let out = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  const unclosed = (at: number): BotApiError =>
    cantParse(`Can't find end of the entity starting at byte offset ${byteOffset(source, at)}`);

  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\' && '_*`['.includes(source[i + 1] ?? '')) {
      out += source[i + 1];
      i += 2;
      continue;
    }
    if (ch === '*' || ch === '_' || ch === '`') {
      const fence = ch === '`' && source.startsWith('```', i);
      const marker = fence ? '```' : ch;
      const close = source.indexOf(marker, i + marker.length);
      if (close < 0) throw unclosed(i);
      let body = source.slice(i + marker.length, close);
      const type: MessageEntityType = fence ? 'pre' : ch === '*' ? 'bold' : ch === '_' ? 'italic' : 'code';
      const entity: MessageEntity = { type, offset: out.length, length: 0 };
      if (fence) {
        const firstLine = /^([^\s`]+)\n/.exec(body);
        if (firstLine) {
          entity.language = firstLine[1]!;
          body = body.slice(firstLine[0].length);
        }
      }
      out += body;
      entity.length = body.length;
      entities.push(entity);
      i = close + marker.length;
      continue;
    }
    if (ch === '[') {
      const m = /^\[([^\]]*)\]\(([^)]*)\)/.exec(source.slice(i));
      if (!m) throw unclosed(i);
      entities.push({ type: 'text_link', offset: out.length, length: m[1]!.length, url: m[2]! });
      out += m[1];
      i += m[0].length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return { text: out, entities };
}
