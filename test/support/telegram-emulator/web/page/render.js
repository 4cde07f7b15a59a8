// Renders a Telegram message's text from its entities (https://core.telegram.org/bots/api#messageentity) as a
// Telegram client does, with DOM nodes only: the text is never parsed as HTML, so nothing in it can run.
// Offsets are UTF-16 code units, as JavaScript strings count them.
/* global document, URL -- a browser module */

const TX_HASH = /0x[0-9a-fA-F]{64}/g;
// Bare links and transaction hashes in plain text become clickable, as clients linkify URLs.
const AUTO_LINK = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)])|(0x[0-9a-fA-F]{64})/g;

/** A URL safe to put in href: http(s), tg:// and mailto only. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'tg:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function link(href, text, className) {
  const a = document.createElement('a');
  const safe = safeUrl(href);
  if (safe) a.href = safe;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  if (className) a.className = className;
  a.textContent = text;
  return a;
}

function txLink(hash) {
  const a = document.createElement('a');
  a.href = '#tx-' + hash;
  a.className = 'tx-link';
  a.dataset.tx = hash;
  a.textContent = hash;
  return a;
}

/** Plain text, with bare URLs and transaction hashes linkified unless inside a link already. */
function appendText(parent, text, { linkify }) {
  if (!linkify) {
    parent.append(document.createTextNode(text));
    return;
  }
  let pos = 0;
  for (const match of text.matchAll(AUTO_LINK)) {
    if (match.index > pos) parent.append(document.createTextNode(text.slice(pos, match.index)));
    parent.append(match[1] ? link(match[1], match[1]) : txLink(match[2]));
    pos = match.index + match[0].length;
  }
  if (pos < text.length) parent.append(document.createTextNode(text.slice(pos)));
}

/** The element for one entity: `outer` goes into the parent, nested entities go into `inner`. */
function elementFor(entity, content) {
  const make = (tag, className) => {
    const el = document.createElement(tag);
    if (className) el.className = className;
    return { outer: el, inner: el, linkify: true };
  };
  switch (entity.type) {
    case 'bold':
      return make('b');
    case 'italic':
      return make('i');
    case 'underline':
      return make('u');
    case 'strikethrough':
      return make('s');
    case 'spoiler': {
      const el = make('span', 'spoiler');
      el.outer.title = 'Spoiler: click to reveal';
      el.outer.addEventListener('click', () => el.outer.classList.add('revealed'));
      return el;
    }
    case 'code':
      return { ...make('code'), linkify: content.match(TX_HASH) !== null };
    case 'pre': {
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      if (entity.language) {
        code.dataset.language = entity.language;
        code.className = 'language';
      }
      pre.append(code);
      return { outer: pre, inner: code, linkify: false };
    }
    case 'text_link':
      return { ...withChildren(link(entity.url, '')), linkify: false };
    case 'url':
      return {
        ...withChildren(link(/^[a-z][\w+.-]*:/i.test(content) ? content : 'http://' + content, '')),
        linkify: false,
      };
    case 'email':
      return { ...withChildren(link('mailto:' + content, '')), linkify: false };
    case 'blockquote':
      return make('blockquote');
    case 'expandable_blockquote': {
      const el = make('blockquote', 'expandable');
      el.outer.addEventListener('click', () => el.outer.classList.toggle('expanded'));
      return el;
    }
    case 'bot_command':
      return { ...make('span', 'command'), linkify: false };
    case 'mention':
    case 'hashtag':
    case 'cashtag':
    case 'text_mention':
    case 'phone_number':
      return { ...make('span', entity.type.replace('_', '-')), linkify: false };
    default:
      return { ...make('span'), linkify: true }; // custom_emoji and future types: the text as is
  }
}

function withChildren(el) {
  return { outer: el, inner: el };
}

function build(parent, text, start, end, entities, options) {
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, pos);
    const to = Math.min(entity.offset + entity.length, end);
    if (from > pos) appendText(parent, text.slice(pos, from), options);
    let j = i + 1;
    const nested = [];
    while (j < entities.length && entities[j].offset < to) nested.push(entities[j++]);
    if (to > from) {
      const el = elementFor(entity, text.slice(from, to));
      build(el.inner, text, from, to, nested, { linkify: options.linkify && el.linkify });
      parent.append(el.outer);
    }
    pos = Math.max(pos, to);
    i = j;
  }
  if (pos < end) appendText(parent, text.slice(pos, end), options);
}

/** A DocumentFragment with `text` formatted by `entities`. */
export function renderText(text, entities = []) {
  const fragment = document.createDocumentFragment();
  const valid = entities
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0 && e.offset >= 0)
    .filter((e) => e.offset < text.length)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(fragment, text, 0, text.length, valid, { linkify: true });
  return fragment;
}

/** `https://t.me/<bot>?start=<code>` for this bot: the start code, else null. */
export function deepLinkCode(href, botUsername) {
  const safe = safeUrl(href);
  if (!safe) return null;
  const url = new URL(safe);
  if (!['t.me', 'telegram.me'].includes(url.hostname)) return null;
  if (url.pathname.replace(/^\//, '').toLowerCase() !== String(botUsername).toLowerCase()) return null;
  const code = url.searchParams.get('start');
  return code && /^[A-Za-z0-9_-]{1,64}$/.test(code) ? code : null;
}
