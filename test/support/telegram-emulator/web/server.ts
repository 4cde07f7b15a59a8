// The sandbox's web chat, served by the Bot API emulator beside the API: a page that shows every simulated user's
// chat as a Telegram client would and lets a person type, press buttons and send files as any of them, with live
// updates over server-sent events; plus the local-chain panel's routes when a SandboxChain is attached.
//
//   attachWebChat(emulator, { chain, adminIds: [700000001] });
//   console.log(webChatUrl(emulator)); // http://127.0.0.1:<port>/
//
// Hand-written on node:http rather than a web framework: a dozen JSON routes on the emulator's own server, with
// the emulator's existing request handling; a framework would bring a second server and nothing the page needs.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimulatedUser, TelegramEmulator } from '../../telegram-emulator';
import { inlineButtons, replyKeyboardTexts } from '../markup';
import { mediaOf } from '../media';
import type { MediaKind, Message } from '../types';
import type { SandboxChain } from './chain';

export type { SandboxChain, SandboxChainInfo, SandboxTransaction, SandboxWallet } from './chain';

export interface WebChatOptions {
  /** The local-chain panel's backend; without it the page shows no chain panel. */
  chain?: SandboxChain;
  /** Telegram ids of the sandbox's admins (ADMIN_TELEGRAM_IDS): "new user" can then create one of them. */
  adminIds?: readonly number[];
  /** Largest file a user may send from the page. Default 10 MB. */
  maxUploadBytes?: number;
}

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/sandbox/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/sandbox/render.js': { file: 'render.js', type: 'text/javascript; charset=utf-8' },
  '/sandbox/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const MAX_JSON_BYTES = 64 * 1024;
const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const MAX_NAME_LENGTH = 64;
const LANGUAGES = new Set(['en', 'ru']);
const START_CODE = /^[A-Za-z0-9_-]{1,64}$/;
const USDT_AMOUNT = /^\d{1,9}(\.\d{1,18})?$/;
const MAX_DEPOSIT = 1_000_000;
const MAX_BLOCKS = 100;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
const UPLOAD_KINDS = new Set<MediaKind>(['photo', 'document']);

/** An answer the page shows as is: a 4xx for bad input (nothing changed), 502 when the chain failed. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The web chat's address on a started emulator. */
export function webChatUrl(emulator: TelegramEmulator): string {
  return `${emulator.apiRoot}/`;
}

/** Serves the web chat (and, given a chain, its chain panel) from the emulator's HTTP server. */
export function attachWebChat(emulator: TelegramEmulator, options: WebChatOptions = {}): void {
  const chat = new WebChat(emulator, options);
  emulator.extendHttp((req, res, url) => chat.handle(req, res, url));
}

class WebChat {
  private readonly adminIds: readonly number[];
  private readonly maxUpload: number;

  constructor(
    private readonly emulator: TelegramEmulator,
    private readonly options: WebChatOptions,
  ) {
    this.adminIds = options.adminIds ?? [];
    this.maxUpload = options.maxUploadBytes ?? 10 * 1024 * 1024;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    const page = STATIC[url.pathname];
    if (page && req.method === 'GET') {
      const body = readFileSync(path.join(PAGE_DIR, page.file));
      res.writeHead(200, {
        'Content-Type': page.type,
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        'Content-Security-Policy': "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:",
      });
      res.end(body);
      return true;
    }
    if (!url.pathname.startsWith('/sandbox/')) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, `${req.method} is not supported`);
      // Only this machine's own names: a page of another site whose name resolves to 127.0.0.1 (DNS rebinding)
      // arrives with its own Host, and is refused.
      if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(req.headers.host ?? ''))
        throw new HttpError(403, 'the sandbox answers only at 127.0.0.1 or localhost');
      // A page of another origin must not drive the sandbox: browsers send Origin on cross-origin requests.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host}`)
        throw new HttpError(403, 'requests from other origins are refused');
      await this.route(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) sendJson(res, error.status, { error: error.message });
      else sendJson(res, 502, { error: error instanceof Error ? error.message : String(error) });
    }
    return true;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent); // after "sandbox"
    const get = req.method === 'GET';
    const [area, fileId] = parts;
    if (area === 'events' && get && parts.length === 1) return this.events(req, res);
    if (area === 'files' && get && parts.length === 2) return this.serveFile(res, fileId!);
    if (area !== 'api') throw new HttpError(404, `no such page: ${url.pathname}`);
    const [, resource, key, verb] = parts;
    if (resource === 'state' && get && parts.length === 2) return sendJson(res, 200, this.state());
    if (resource === 'users' && !get && parts.length === 2)
      return sendJson(res, 201, this.newUser(await readJson(req)));
    if (resource === 'chats' && key !== undefined) {
      const user = this.user(key);
      if (get && verb === undefined) return sendJson(res, 200, this.chatView(user));
      if (!get && verb === 'text') return sendJson(res, 200, this.sendText(user, await readJson(req)));
      if (!get && verb === 'press') return sendJson(res, 200, this.press(user, await readJson(req)));
      if (!get && verb === 'key') return sendJson(res, 200, this.pressKey(user, await readJson(req)));
      if (!get && verb === 'media') return sendJson(res, 200, await this.sendMedia(user, req, url));
      if (!get && verb === 'register-wallet') return sendJson(res, 200, await this.registerWallet(user));
    }
    if (resource === 'chain') return this.chainRoute(req, res, parts.slice(2), get);
    throw new HttpError(404, `no such route: ${req.method} ${url.pathname}`);
  }

  // ---- Chats -----------------------------------------------------------------------------------------------

  private state(): unknown {
    const bot = this.emulator.botInfo;
    return {
      bot: { username: bot.username, name: bot.first_name },
      adminIds: this.adminIds,
      freeAdminIds: this.adminIds.filter((id) => !this.emulator.findUser(id)),
      chain: this.options.chain !== undefined,
      chats: this.emulator.simulatedUsers().map((user) => this.summary(user)),
    };
  }

  /** `transcript`: the chat's messages when the caller has them already (each read clones every message). */
  private summary(user: SimulatedUser, transcript = user.transcript()): unknown {
    const info = user.info;
    const last = transcript.at(-1)?.message;
    return {
      id: info.id,
      name: [info.first_name, info.last_name].filter(Boolean).join(' '),
      language: info.language_code ?? 'en',
      admin: this.adminIds.includes(info.id),
      blocked: user.hasBlockedBot,
      last: last ? previewOf(last) : '',
      messages: transcript.length,
    };
  }

  private chatView(user: SimulatedUser): unknown {
    const keyboard = user.replyKeyboard();
    const transcript = user.transcript();
    return {
      ...(this.summary(user, transcript) as object),
      messages: transcript.map(({ fromBot, message }) => messageView(fromBot, message)),
      replyKeyboard: keyboard
        ? keyboard.keyboard.map((row) => row.map((b) => (typeof b === 'string' ? b : b.text)))
        : null,
      placeholder: keyboard?.input_field_placeholder ?? null,
      callbackAnswers: user.callbackAnswers().slice(-5),
    };
  }

  private user(rawId: string): SimulatedUser {
    const id = /^\d{1,16}$/.test(rawId) ? Number(rawId) : NaN;
    const user = Number.isSafeInteger(id) ? this.emulator.findUser(id) : undefined;
    if (!user) throw new HttpError(404, `unknown user ${rawId}`);
    return user;
  }

  private newUser(body: Record<string, unknown>): unknown {
    const name = typeof body['name'] === 'string' ? body['name'].trim() : '';
    if (name === '' || name.length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name))
      throw new HttpError(400, `a name is 1-${MAX_NAME_LENGTH} printable characters`);
    const language = body['language'] ?? 'en';
    if (typeof language !== 'string' || !LANGUAGES.has(language)) throw new HttpError(400, 'language is "en" or "ru"');
    const start = body['start'];
    if (start !== undefined && (typeof start !== 'string' || !START_CODE.test(start)))
      throw new HttpError(400, 'a start code is 1-64 letters, digits, "_" or "-"');
    let id: number | undefined;
    if (body['admin'] === true) {
      if (this.adminIds.length === 0) throw new HttpError(400, 'this sandbox has no admin ids (ADMIN_TELEGRAM_IDS)');
      id = this.adminIds.find((adminId) => !this.emulator.findUser(adminId));
      if (id === undefined) throw new HttpError(409, 'every admin id of the sandbox already has a chat');
    } else if (body['admin'] !== undefined && body['admin'] !== false) {
      throw new HttpError(400, 'admin is true or false');
    }
    const user = this.emulator.user({ ...(id !== undefined ? { id } : {}), first_name: name, language_code: language });
    user.sendText(start ? `/start ${start}` : '/start');
    return { id: user.id };
  }

  private sendText(user: SimulatedUser, body: Record<string, unknown>): unknown {
    const text = body['text'];
    if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'the message is empty');
    if (text.length > MAX_TEXT_LENGTH) throw new HttpError(400, `a message is at most ${MAX_TEXT_LENGTH} characters`);
    return { message_id: user.sendText(text).message_id };
  }

  private press(user: SimulatedUser, body: Record<string, unknown>): unknown {
    const messageId = body['messageId'];
    const data = body['data'];
    if (!Number.isSafeInteger(messageId) || typeof data !== 'string')
      throw new HttpError(400, 'a press names messageId (a number) and data (the button callback_data)');
    try {
      return { callback_query_id: user.pressButton(messageId as number, data).id };
    } catch (error) {
      throw new HttpError(400, (error as Error).message); // no such message or button: nothing was sent
    }
  }

  private pressKey(user: SimulatedUser, body: Record<string, unknown>): unknown {
    const text = body['text'];
    if (typeof text !== 'string') throw new HttpError(400, 'a key press names the button text');
    const keyboard = user.replyKeyboard();
    if (!keyboard || !replyKeyboardTexts(keyboard).includes(text))
      throw new HttpError(400, `no reply keyboard button ${JSON.stringify(text)} is shown`);
    return { message_id: user.pressKeyboardButton(text).message_id };
  }

  private async sendMedia(user: SimulatedUser, req: http.IncomingMessage, url: URL): Promise<unknown> {
    const kind = url.searchParams.get('kind') as MediaKind;
    if (!UPLOAD_KINDS.has(kind)) throw new HttpError(400, 'kind is "photo" or "document"');
    const fileName = url.searchParams.get('name') ?? (kind === 'photo' ? 'photo.jpg' : 'file');
    if (fileName.length > 255 || /[\p{Cc}/\\]/u.test(fileName)) throw new HttpError(400, 'bad file name');
    const caption = url.searchParams.get('caption') ?? '';
    if (caption.length > MAX_CAPTION_LENGTH)
      throw new HttpError(400, `a caption is at most ${MAX_CAPTION_LENGTH} characters`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.maxUpload) throw new HttpError(413, `a file is at most ${this.maxUpload} bytes`);
    const bytes = await readBody(req, this.maxUpload, `a file is at most ${this.maxUpload} bytes`);
    if (bytes.length === 0) throw new HttpError(400, 'the file is empty');
    const mimeType = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim();
    if (kind === 'photo' && !/^image\//.test(mimeType)) throw new HttpError(400, 'a photo is an image file');
    const sent = user.sendMedia(kind, {
      bytes,
      fileName,
      mimeType,
      ...(caption.trim() !== '' ? { caption } : {}),
    });
    return { message_id: sent.message_id };
  }

  private async registerWallet(user: SimulatedUser): Promise<unknown> {
    const wallet = await this.chain().wallet(user.id);
    return { message_id: user.sendText(`/wallet ${wallet.address}`).message_id, address: wallet.address };
  }

  private serveFile(res: http.ServerResponse, fileId: string): void {
    const file = this.emulator.file(fileId);
    if (!file) throw new HttpError(404, 'unknown file_id');
    if (file.url !== undefined) throw new HttpError(404, `sent by URL (${file.url}); the emulator has no bytes`);
    res.writeHead(200, {
      'Content-Type': file.mimeType ?? defaultMime(file.kind),
      'Content-Length': file.bytes.length,
      'Content-Disposition': `inline; filename="${(file.fileName ?? 'file').replace(/[^\w.-]/g, '_')}"`,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(file.bytes);
  }

  /** Server-sent events: `chat` with a chat id whenever a chat is created or changes. */
  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    const unsubscribe = this.emulator.onChatChange((chatId) => res.write(`event: chat\ndata: ${chatId}\n\n`));
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  }

  // ---- Chain panel -----------------------------------------------------------------------------------------

  private chain(): SandboxChain {
    if (!this.options.chain) throw new HttpError(404, 'this sandbox has no local-chain panel');
    return this.options.chain;
  }

  private async chainRoute(req: http.IncomingMessage, res: http.ServerResponse, rest: string[], get: boolean) {
    const chain = this.chain();
    const [what, key] = rest;
    if (get && what === 'info' && rest.length === 1) return sendJson(res, 200, await chain.info());
    if (get && what === 'wallets' && rest.length === 2) {
      const user = this.user(key!);
      return sendJson(res, 200, { userId: user.id, ...(await chain.wallet(user.id)) });
    }
    if (get && what === 'tx' && rest.length === 2) {
      if (!TX_HASH.test(key!)) throw new HttpError(400, 'a transaction hash is 0x and 64 hex digits');
      const tx = await chain.transaction(key!);
      if (!tx) throw new HttpError(404, `the local chain has no transaction ${key}`);
      return sendJson(res, 200, tx);
    }
    if (!get && what === 'deposit' && rest.length === 1) {
      const body = await readJson(req);
      const user = this.user(String(body['userId'] ?? ''));
      const amount = body['amount'];
      if (
        typeof amount !== 'string' ||
        !USDT_AMOUNT.test(amount) ||
        Number(amount) <= 0 ||
        Number(amount) > MAX_DEPOSIT
      )
        throw new HttpError(400, `an amount is a positive number of USDT up to ${MAX_DEPOSIT}, e.g. "150" or "12.5"`);
      return sendJson(res, 200, await chain.deposit(user.id, amount));
    }
    if (!get && what === 'mine' && rest.length === 1) {
      const blocks = (await readJson(req))['blocks'];
      if (!Number.isSafeInteger(blocks) || (blocks as number) < 1 || (blocks as number) > MAX_BLOCKS)
        throw new HttpError(400, `blocks is a whole number from 1 to ${MAX_BLOCKS}`);
      return sendJson(res, 200, { head: await chain.mine(blocks as number) });
    }
    throw new HttpError(404, `no such chain route: ${req.method} ${rest.join('/')}`);
  }
}

/** One message as the page renders it: text and entities as Telegram delivers them, media by file_id. */
function messageView(fromBot: boolean, message: Message): unknown {
  const media = mediaOf(message);
  const file = media ? message[media.kind] : undefined;
  const details = (Array.isArray(file) ? file.at(-1) : file) as Record<string, unknown> | undefined;
  return {
    id: message.message_id,
    fromBot,
    date: message.date,
    edited: message.edit_date !== undefined,
    text: message.text ?? message.caption ?? '',
    entities: message.entities ?? message.caption_entities ?? [],
    media: media
      ? {
          kind: media.kind,
          fileId: media.file_id,
          fileName: details?.['file_name'] ?? null,
          mimeType: details?.['mime_type'] ?? null,
          title: details?.['title'] ?? null,
          performer: details?.['performer'] ?? null,
        }
      : null,
    mediaGroupId: message.media_group_id ?? null,
    replyTo: message.reply_to_message?.message_id ?? null,
    inlineKeyboard: (message.reply_markup?.inline_keyboard ?? []).map((row) =>
      row.map((b) => ({
        text: b.text,
        ...(b.callback_data !== undefined ? { data: b.callback_data } : {}),
        ...(b.url !== undefined ? { url: b.url } : {}),
      })),
    ),
    buttons: inlineButtons(message.reply_markup).length,
  };
}

function previewOf(message: Message): string {
  const text = message.text ?? message.caption ?? '';
  const media = mediaOf(message);
  const label = media ? `[${media.kind}] ` : '';
  return (label + text).slice(0, 80);
}

function defaultMime(kind: MediaKind): string {
  return {
    photo: 'image/jpeg',
    voice: 'audio/ogg',
    audio: 'audio/mpeg',
    video: 'video/mp4',
    document: 'application/octet-stream',
  }[kind];
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

async function readBody(req: http.IncomingMessage, limit: number, tooLarge: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume(); // drain the rest so the 413 reaches the client
      throw new HttpError(413, tooLarge);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send JSON (Content-Type: application/json)');
  const body = await readBody(req, MAX_JSON_BYTES, `a request is at most ${MAX_JSON_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HttpError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
