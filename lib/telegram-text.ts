// Splitting a Telegram-HTML text longer than one message into parts that each render on their own. Telegram
// counts the limit (4,096) in UTF-16 code units of the text after its entities are parsed, so tags do not count
// and an entity (&amp;) counts as one. A part ends on the last paragraph break, else line break, else space that
// fits, never inside a tag, an entity or a surrogate pair; tags still open at a cut are closed there and opened
// again at the start of the next part. No library does this for Telegram's HTML subset with its counting rules.
import { TEXT_LIMIT } from './contracts';

interface Token {
  /** A tag (`<b>`, `</b>`, `<a href="…">`) or a run of text (entities included). */
  raw: string;
  tag?: { name: string; closing: boolean };
  /** Visible length in UTF-16 units (0 for tags). */
  length: number;
}

const TOKEN = /<\/?([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^>]*)?>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[^<&]+|[<&]/g;

function tokens(html: string): Token[] {
  const out: Token[] = [];
  for (const match of html.matchAll(TOKEN)) {
    const raw = match[0];
    if (match[1]) out.push({ raw, tag: { name: match[1].toLowerCase(), closing: raw.startsWith('</') }, length: 0 });
    else if (raw.startsWith('&') && raw.length > 1) out.push({ raw, length: 1 });
    else out.push({ raw, length: raw.length });
  }
  return out;
}

/** The last index (exclusive) in `text` at which a part may end, with at most `room` units taken. */
function cutPoint(text: string, room: number): number {
  const window = text.slice(0, room);
  for (const boundary of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(boundary);
    if (at > 0) return at + boundary.length;
  }
  // No boundary: a hard cut, but not between the halves of a surrogate pair.
  const code = text.charCodeAt(room - 1);
  return code >= 0xd800 && code <= 0xdbff ? room - 1 : room;
}

export function splitHtml(html: string, limit = TEXT_LIMIT): string[] {
  const parts: string[] = [];
  const open: Token[] = [];
  let current = '';
  let length = 0;
  const finish = () => {
    const closers = [...open].reverse().map((t) => `</${t.tag!.name}>`);
    const text = current + closers.join('');
    if (length > 0) parts.push(text.trim() === '' ? text : text);
    current = open.map((t) => t.raw).join('');
    length = 0;
  };
  const queue = tokens(html);
  while (queue.length) {
    const token = queue.shift()!;
    if (token.tag) {
      current += token.raw;
      if (token.tag.closing) {
        const at = open.map((t) => t.tag!.name).lastIndexOf(token.tag.name);
        if (at >= 0) open.splice(at, 1);
      } else if (!token.raw.endsWith('/>')) open.push(token);
      continue;
    }
    if (length + token.length <= limit) {
      current += token.raw;
      length += token.length;
      continue;
    }
    const room = limit - length;
    // An entity never splits; a text run splits at its best boundary, unless the part has room for nothing.
    if (token.raw.startsWith('&') && token.length === 1) {
      finish();
      queue.unshift(token);
      continue;
    }
    const at = room > 0 ? cutPoint(token.raw, room) : 0;
    const boundaryInRun = at > 0 && /\s$/.test(token.raw.slice(0, at));
    if (at > 0 && (boundaryInRun || length === 0 || !/\s/.test(current))) {
      current += token.raw.slice(0, at);
      length += at;
      queue.unshift({ raw: token.raw.slice(at), length: token.raw.length - at });
    } else if (length === 0) {
      current += token.raw.slice(0, room);
      length += room;
      queue.unshift({ raw: token.raw.slice(room), length: token.raw.length - room });
    } else {
      queue.unshift(token);
    }
    finish();
  }
  if (length > 0) finish();
  return parts.length ? parts : [html];
}
