// Splitting a Telegram-HTML text longer than one message into parts that each render on their own. Telegram
// counts the limit (4,096) in UTF-16 code units of the text after its entities are parsed, so tags do not count
// and an entity counts as what it stands for (&amp; one unit, &#x1F600; two). A part ends on the last paragraph
// break, else line break, that leaves it at least half full, else on the last space, else (one unbroken run) hard —
// never inside a tag, an entity or a surrogate pair. Tags still open at a cut are closed there and opened again at
// the start of the next part; a cut never leaves an empty element (`<b></b>`) on either side, nor a part with
// nothing visible. No library does this for Telegram's HTML subset with its counting rules.
import { TEXT_LIMIT } from './contracts';

interface Atom {
  /** As written: a tag, an entity, one code point. */
  raw: string;
  /** A tag's lower-case name, and whether it closes. */
  tag?: { name: string; closing: boolean };
  /** Visible length in UTF-16 units (0 for tags). */
  length: number;
  /** Whitespace: a part may end after it. */
  space?: 'paragraph' | 'line' | 'space';
}

const TOKEN = /<\/?([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^>]*)?>|&(#\d+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);|[\s\S]/gu;
/** The only named entities Telegram knows; any other is shown as written. */
const NAMED = new Set(['lt', 'gt', 'amp', 'quot']);

function entityLength(name: string, raw: string): number {
  if (!name.startsWith('#')) return NAMED.has(name.toLowerCase()) ? 1 : raw.length;
  const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
  return code > 0xffff ? 2 : 1;
}

function atoms(html: string): Atom[] {
  const out: Atom[] = [];
  for (const match of html.matchAll(TOKEN)) {
    const raw = match[0];
    if (match[1]) {
      out.push({ raw, tag: { name: match[1].toLowerCase(), closing: raw.startsWith('</') }, length: 0 });
    } else if (match[2]) {
      out.push({ raw, length: entityLength(match[2], raw) });
    } else if (raw === '\n') {
      // A line break right after another makes the pair a paragraph break.
      const previous = out[out.length - 1];
      out.push({ raw, length: 1, space: previous?.raw === '\n' ? 'paragraph' : 'line' });
    } else {
      out.push({ raw, length: raw.length, ...(/\s/.test(raw) ? { space: 'space' as const } : {}) });
    }
  }
  return out;
}

/** Whether a tag opens an element that needs a closing tag. */
const opens = (atom: Atom) => atom.tag !== undefined && !atom.tag.closing && !atom.raw.endsWith('/>');

function applyTag(open: Atom[], atom: Atom): void {
  if (!atom.tag) return;
  if (atom.tag.closing) {
    const at = open.map((t) => t.tag!.name).lastIndexOf(atom.tag.name);
    if (at >= 0) open.splice(at, 1);
  } else if (opens(atom)) open.push(atom);
}

interface Cut {
  /** The part takes atoms before this index. */
  at: number;
  /** Visible length of the part up to here. */
  length: number;
  kind: NonNullable<Atom['space']> | 'hard';
}

export function splitHtml(html: string, limit = TEXT_LIMIT): string[] {
  const all = atoms(html);
  if (all.reduce((sum, a) => sum + a.length, 0) <= limit) return [html];
  const parts: string[] = [];
  let open: Atom[] = []; // tags open where the current part starts
  let start = 0;
  while (start < all.length) {
    // Walk forward until the part is full, remembering where it could end.
    const cuts: Cut[] = [];
    let length = 0;
    let end = start;
    for (; end < all.length; end++) {
      const atom = all[end]!;
      if (length + atom.length > limit) break;
      length += atom.length;
      if (atom.space) cuts.push({ at: end + 1, length, kind: atom.space });
    }
    let at = end;
    if (end < all.length) {
      const half = limit / 2;
      const last = (kinds: Cut['kind'][], min = 0) => cuts.findLast((c) => kinds.includes(c.kind) && c.length >= min);
      const cut =
        last(['paragraph'], half) ?? last(['paragraph', 'line'], half) ?? last(['paragraph', 'line', 'space']);
      at = cut ? cut.at : end;
      // Opening tags right before a hard cut would be empty here: they start the next part instead.
      while (!cut && at > start && opens(all[at - 1]!)) at--;
      if (at === start) at = end; // nothing fits before them: keep them (a part cannot be empty)
    }
    if (at === start) at = start + 1; // one atom wider than the limit (only with a tiny limit)
    // Closing tags right after the cut end their elements here, rather than as empty ones in the next part.
    while (at < all.length && all[at]!.tag?.closing) at++;

    const body = all.slice(start, at);
    const stack = [...open];
    for (const atom of body) applyTag(stack, atom);
    const visible = body.some((a) => a.length > 0 && !a.space);
    if (visible) {
      const closers = [...stack].reverse().map((t) => `</${t.tag!.name}>`);
      parts.push(open.map((t) => t.raw).join('') + body.map((a) => a.raw).join('') + closers.join(''));
    }
    open = stack;
    start = at;
  }
  return parts.length ? parts : [html];
}
