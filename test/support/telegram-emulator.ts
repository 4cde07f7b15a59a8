// The project's own Telegram Bot API emulator (https://core.telegram.org/bots/api): an HTTP server on 127.0.0.1
// that unmodified telegraf (telegram.apiRoot = emulator.apiRoot) can use in long polling and webhook mode, with
// simulated users the test drives, Telegram's validation errors, flood limits and fault injection.
//
//   const emu = new TelegramEmulator();
//   await emu.start();
//   const bot = new Telegraf(emu.token, { telegram: { apiRoot: emu.apiRoot } });
//   const alice = emu.user({ first_name: 'Alice' });
//   alice.sendText('/start');
//   await alice.waitForMessage(/welcome/i);
//   await emu.stop(); // stop the bot first
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import {
  BotApiError,
  badRequest,
  conflict,
  defaultDescription,
  forbidden,
  notFound,
  tooManyRequests,
  unauthorized,
} from './telegram-emulator/errors';
import { formatParam } from './telegram-emulator/formatting';
import { isInlineKeyboard, isReplyKeyboard, parseReplyMarkup } from './telegram-emulator/markup';
import {
  FileStore,
  captionFields,
  formatCaption,
  mediaContent,
  mediaField,
  mediaOf,
  parseMediaGroup,
} from './telegram-emulator/media';
import { Params, UploadedFile, readRequestParams } from './telegram-emulator/params';
import { DEFAULT_RATE_LIMITS, FloodControl } from './telegram-emulator/rate-limit';
import type {
  ApiCall,
  ApiResponse,
  ApiTransport,
  BotCommand,
  BotUser,
  FailureSpec,
  InlineKeyboardMarkup,
  MediaKind,
  Message,
  ParseMode,
  RateLimits,
  RecordedMessage,
  ReplyMarkup,
  SimulatedUserOptions,
  TelegramEmulatorOptions,
  Update,
  UploadRecord,
  User,
  WebhookDelivery,
  WebhookInfo,
  WebhookOptions,
} from './telegram-emulator/types';
import { UpdateQueue } from './telegram-emulator/update-queue';
import { SimulatedUser } from './telegram-emulator/user';
import { DEFAULT_WEBHOOK_OPTIONS, WebhookDispatcher, type WebhookConfig } from './telegram-emulator/webhook';
import { ChatState, World, toRecorded, unixTime, type StoredMessage } from './telegram-emulator/world';

export * from './telegram-emulator/types';

/** A group chat the bot writes to (TelegramEmulator.group). */
export interface GroupChat {
  id: number;
  title: string;
  /** What the bot sent to the group, in order. */
  messages(options?: { includeDeleted?: boolean }): RecordedMessage[];
}
export { BotApiError } from './telegram-emulator/errors';
export { SimulatedUser, type MessageRef } from './telegram-emulator/user';

const MAX_MESSAGE_LENGTH = 4096;
const MAX_CALLBACK_ANSWER_LENGTH = 200;
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

interface CallContext {
  /** Aborts when the caller hung up (matters for long polls). */
  signal: AbortSignal;
  transport: ApiTransport;
}

type Handler = (params: Params, ctx: CallContext) => unknown;

/** A result Telegram answers with an extra `description` (setWebhook, deleteWebhook). */
class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

interface PendingFailure {
  spec: FailureSpec;
  remaining: number;
}

export class TelegramEmulator {
  readonly token: string;
  /** getMe's answer. Its id is the numeric part of the token. */
  readonly botInfo: BotUser;
  /** Whether flood limits answer 429. Can be flipped at any time. */
  enforceLimits: boolean;
  readonly limits: RateLimits;

  private server: http.Server | undefined;
  private port: number | undefined;
  private started = false;
  private flood: FloodControl;
  private readonly queue: UpdateQueue;
  private readonly world = new World();
  private readonly files = new FileStore();
  private readonly webhookOptions: WebhookOptions;
  private readonly webhook: WebhookDispatcher;
  private webhookConfig: WebhookConfig | undefined;
  private lastWebhookError: { date: number; message: string } | undefined;
  private readonly allowHttpWebhooks: boolean;
  private readonly callLog: ApiCall[] = [];
  private readonly deliveryLog: WebhookDelivery[] = [];
  private readonly failures = new Map<string, PendingFailure[]>();
  private connectionsToDrop = 0;
  private readonly withheld = new Map<string, number>();
  private activePoll: { controller: AbortController; reason?: BotApiError } | undefined;
  private readonly stopController = new AbortController();
  private readonly users = new Map<number, SimulatedUser>();
  private readonly methods: Map<string, { name: string; handler: Handler }>;

  constructor(options: TelegramEmulatorOptions = {}) {
    this.token =
      options.token ??
      `${randomInt(100_000_000, 2_000_000_000)}:AA${randomBytes(33).toString('base64url').slice(0, 33)}`;
    const numericId = Number(this.token.split(':')[0]);
    this.botInfo = {
      id: Number.isSafeInteger(numericId) && numericId > 0 ? numericId : randomInt(100_000_000, 2_000_000_000),
      is_bot: true,
      first_name: options.botFirstName ?? 'SigmaTrade Test Bot',
      username: options.botUsername ?? 'sigmatrade_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
    this.queue = new UpdateQueue(options.firstUpdateId);
    this.enforceLimits = options.enforceLimits ?? true;
    this.limits = { ...DEFAULT_RATE_LIMITS, ...options.limits };
    this.flood = new FloodControl(this.limits);
    this.allowHttpWebhooks = options.allowHttpWebhooks ?? false;
    this.webhookOptions = { ...DEFAULT_WEBHOOK_OPTIONS, ...options.webhook };
    this.webhook = new WebhookDispatcher(
      {
        queue: this.queue,
        webhookConfig: () => this.webhookConfig,
        executeWebhookReply: async ({ method, ...params }) => {
          await this.execute(String(method), params, {
            signal: new AbortController().signal,
            transport: 'webhook-reply',
          });
        },
        recordDelivery: (delivery) => {
          this.deliveryLog.push(delivery);
          if (delivery.error !== undefined) this.lastWebhookError = { date: unixTime(), message: delivery.error };
        },
      },
      this.webhookOptions,
    );
    this.queue.subscribe(() => this.webhook.kick());
    this.methods = this.buildMethodTable();
  }

  // ---- Lifecycle -------------------------------------------------------------------------------------------

  /**
   * Listens on 127.0.0.1, on a free port unless `port` is given (the sandbox's fixed one). An emulator is
   * single-use: start once, stop once.
   */
  async start({ port = 0 }: { port?: number } = {}): Promise<void> {
    if (this.started) throw new Error('TelegramEmulator: already started (an emulator is single-use)');
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`TelegramEmulator: bad port ${port}`);
    this.started = true;
    await this.listen(port);
  }

  private async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.handleHttp(req, res));
    server.on('clientError', (_error, socket) => socket.destroy());
    // Long polls may hang for minutes; and outlive the client's idle keep-alive (Node's global agent: 5 s) so
    // the client, not the server, closes idle sockets — otherwise a reused socket can die under a request.
    server.requestTimeout = 0;
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /**
   * Telegram unreachable: stops listening and closes every open connection, so requests fail with ECONNREFUSED
   * until acceptConnections(). Chats, messages and the call record stay.
   */
  async refuseConnections(): Promise<void> {
    const server = this.server;
    if (!server) throw new Error('TelegramEmulator: not listening');
    this.server = undefined;
    this.activePoll?.controller.abort();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Listens again, on the same port, after refuseConnections(). */
  async acceptConnections(): Promise<void> {
    if (this.server) return;
    if (this.port === undefined || this.stopController.signal.aborted) {
      throw new Error('TelegramEmulator: start() first, and not after stop()');
    }
    await this.listen(this.port);
  }

  /**
   * Closes the server and every connection (hanging long polls included), cancels webhook deliveries and
   * retries, and rejects pending waitForMessage calls. Stop the bot first, or its polling loop keeps retrying.
   */
  async stop(): Promise<void> {
    this.stopController.abort();
    this.activePoll?.controller.abort();
    this.webhook.stop();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** `http://127.0.0.1:<port>`: pass as telegraf's `telegram.apiRoot`. */
  get apiRoot(): string {
    if (this.port === undefined) throw new Error('TelegramEmulator: call start() first');
    return `http://127.0.0.1:${this.port}`;
  }

  // ---- Simulated users -------------------------------------------------------------------------------------

  /** A simulated user (created on first use of an id; the same handle afterwards). */
  user(options: SimulatedUserOptions = {}): SimulatedUser {
    if (options.id !== undefined) {
      const existing = this.users.get(options.id);
      if (existing) return existing;
    }
    let id = options.id;
    while (id === undefined || this.world.chats.has(id)) id = randomInt(100_000_000, 2_000_000_000);
    const info: User = {
      id,
      is_bot: false,
      first_name: options.first_name ?? `Test User ${this.users.size + 1}`,
      ...(options.last_name !== undefined ? { last_name: options.last_name } : {}),
      ...(options.username !== undefined ? { username: options.username } : {}),
      language_code: options.language_code ?? 'en',
    };
    const state = new ChatState(info);
    this.world.chats.set(id, state);
    const user = new SimulatedUser(
      {
        world: this.world,
        botUser: this.botUserBasic(),
        stopSignal: this.stopController.signal,
        files: this.files,
        enqueue: (payload) => this.queue.push(payload),
      },
      state,
    );
    this.users.set(id, user);
    return user;
  }

  /**
   * A group chat (a negative id) the bot is a member of and may write to: only the bot's side is modelled (no
   * members, no updates), enough for sends and Telegram's 20 messages a minute per group.
   */
  group(options: { id?: number; title?: string } = {}): GroupChat {
    if (options.id !== undefined && options.id >= 0) throw new Error('TelegramEmulator: a group id is negative');
    let id = options.id;
    while (id === undefined || (options.id === undefined && this.world.chats.has(id))) {
      id = -randomInt(100_000_000, 2_000_000_000);
    }
    const existing = this.world.chats.get(id);
    const title = options.title ?? `Test Group ${-id}`;
    const state = existing ?? new ChatState({ id, is_bot: false, first_name: title }, { id, type: 'group', title });
    state.started = true;
    this.world.chats.set(id, state);
    return {
      id,
      title: state.chat.title ?? title,
      messages: ({ includeDeleted = false } = {}) => state.botMessages(includeDeleted).map(toRecorded),
    };
  }

  // ---- Inspection ------------------------------------------------------------------------------------------

  /** Every message the bot sent, all chats, in send order, with edits applied. */
  sentMessages({ includeDeleted = false } = {}): RecordedMessage[] {
    return this.world.botMessages.filter((m) => includeDeleted || !m.deleted).map(toRecorded);
  }

  /** Every API call the bot made (optionally one method, case-insensitive) with the answer it got. */
  calls(method?: string): ApiCall[] {
    const wanted = method?.toLowerCase();
    return this.callLog
      .filter((c) => wanted === undefined || c.method.toLowerCase() === wanted)
      .map((c) => structuredClone(c));
  }

  /** Every file that arrived in a multipart request, in order (one per upload, even when the call then failed). */
  uploads(): UploadRecord[] {
    return this.files.uploads();
  }

  /** The bytes stored under a file_id (empty for a file sent by URL), or undefined for an unknown one. */
  fileBytes(fileId: string): Buffer | undefined {
    const file = this.files.get(fileId);
    return file ? Buffer.from(file.bytes) : undefined;
  }

  /** Every webhook POST attempt, in order. */
  webhookDeliveries(): WebhookDelivery[] {
    return this.deliveryLog.map((d) => ({ ...d }));
  }

  /** Updates not yet confirmed by getUpdates nor delivered to the webhook. */
  get pendingUpdateCount(): number {
    return this.queue.size;
  }

  /** The bot's command list for a scope (setMyCommands), default scope and language by default. */
  commands(scope?: Record<string, unknown>, languageCode?: string): BotCommand[] {
    return structuredClone(this.world.commands.get(commandsKey(scope, languageCode)) ?? []);
  }

  /**
   * Resolves once every queued update was consumed: confirmed by the next getUpdates (telegraf polls again
   * only after handling a batch) or answered 2xx by the webhook (telegraf answers after handling).
   */
  waitForIdle(timeoutMs = 10_000): Promise<void> {
    const idle = (): boolean => this.queue.size === 0 && !this.webhook.busy;
    if (idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!idle()) return;
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        offQueue();
        offWebhook();
      };
      const offQueue = this.queue.subscribe(() => setImmediate(check));
      const offWebhook = this.webhook.onIdle(() => setImmediate(check));
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`TelegramEmulator: ${this.queue.size} update(s) still pending after ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  // ---- Fault injection -------------------------------------------------------------------------------------

  /**
   * The next `times` (default 1) calls of `method` (case-insensitive; '*' for any method) fail with this error
   * instead of running. Injections for one method queue up in order.
   */
  failNext(method: string, spec: FailureSpec): this {
    const key = method === '*' ? '*' : method.toLowerCase();
    const list = this.failures.get(key) ?? [];
    list.push({ spec, remaining: spec.times ?? 1 });
    this.failures.set(key, list);
    return this;
  }

  clearFailures(): void {
    this.failures.clear();
    this.withheld.clear();
    this.connectionsToDrop = 0;
  }

  /** The next `n` API requests get their connection destroyed without an answer (a network error for the bot). */
  dropConnections(n = 1): this {
    this.connectionsToDrop += n;
    return this;
  }

  /**
   * The next `times` calls of `method` run (a message is really sent) but their answer never leaves: the caller
   * waits until it gives up or dies, like a bot whose process is killed between Telegram's work and its reply.
   */
  withholdAnswers(method: string, times = 1): this {
    const key = method.toLowerCase();
    this.withheld.set(key, (this.withheld.get(key) ?? 0) + times);
    return this;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.connectionsToDrop > 0) {
      this.connectionsToDrop -= 1;
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) {
      this.serveFile(res, decodeURIComponent(download[1]!), decodeURIComponent(download[2]!));
      return;
    }
    const route = /^\/bot([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (!route) {
      this.reply(res, 404, notFound().toResponse());
      return;
    }
    const hangUp = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) hangUp.abort();
    });
    const method = decodeURIComponent(route[2]!);
    let params: Record<string, unknown> = {};
    try {
      if (decodeURIComponent(route[1]!) !== this.token) throw unauthorized();
      params = await readRequestParams(req, url);
      this.files.noteUploads(this.canonicalName(method), params);
    } catch (error) {
      const failure = toFailure(error);
      this.record(this.canonicalName(method), params, failure, 'http');
      this.reply(res, failure.status, failure.response);
      return;
    }
    const { status, response } = await this.execute(method, params, { signal: hangUp.signal, transport: 'http' });
    const withheld = this.withheld.get(method.toLowerCase()) ?? 0;
    if (withheld > 0) {
      this.withheld.set(method.toLowerCase(), withheld - 1);
      return; // the socket stays open without an answer until the caller hangs up or the emulator stops
    }
    this.reply(res, status, response);
  }

  /** `GET /file/bot<token>/<file_path>`: the bytes of a file getFile described. */
  private serveFile(res: http.ServerResponse, token: string, filePath: string): void {
    const file = token === this.token ? this.files.atPath(filePath) : undefined;
    if (!file) {
      this.reply(res, 404, notFound().toResponse());
      return;
    }
    res.writeHead(200, {
      'Content-Type': file.mimeType ?? 'application/octet-stream',
      'Content-Length': file.bytes.length,
    });
    res.end(file.bytes);
  }

  private reply(res: http.ServerResponse, status: number, body: ApiResponse): void {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Runs one API method (from HTTP or a webhook reply), applying injected failures, and logs the call. */
  private async execute(
    method: string,
    raw: Record<string, unknown>,
    ctx: CallContext,
  ): Promise<{ status: number; response: ApiResponse }> {
    const entry = this.methods.get(method.toLowerCase());
    const name = entry?.name ?? method;
    let outcome: { status: number; response: ApiResponse };
    try {
      if (!entry) throw notFound();
      this.takeInjectedFailure(entry.name);
      // Synchronous handlers run synchronously, so the call is logged before anyone awaiting its effect resumes.
      let result = entry.handler(new Params(raw), ctx);
      if (result instanceof Promise) result = (await result) as unknown;
      let description: string | undefined;
      if (result instanceof Described) {
        description = result.description;
        result = result.result;
      }
      outcome = { status: 200, response: { ok: true, result, ...(description !== undefined ? { description } : {}) } };
    } catch (error) {
      outcome = toFailure(error);
    }
    this.record(name, raw, outcome, ctx.transport);
    return outcome;
  }

  private record(
    method: string,
    params: Record<string, unknown>,
    outcome: { status: number; response: ApiResponse },
    transport: ApiTransport,
  ): void {
    this.callLog.push({
      method,
      params: withoutFileBytes(params),
      response: structuredClone(outcome.response),
      status: outcome.status,
      at: Date.now(),
      transport,
    });
  }

  private takeInjectedFailure(method: string): void {
    for (const key of [method.toLowerCase(), '*']) {
      const list = this.failures.get(key);
      const next = list?.[0];
      if (!list || !next) continue;
      next.remaining -= 1;
      if (next.remaining <= 0) list.shift();
      const { error_code, retry_after } = next.spec;
      const parameters = retry_after !== undefined ? { retry_after } : undefined;
      throw new BotApiError(
        error_code,
        next.spec.description ?? defaultDescription(error_code, retry_after),
        parameters,
      );
    }
  }

  private canonicalName(method: string): string {
    return this.methods.get(method.toLowerCase())?.name ?? method;
  }

  // ---- Bot API methods -------------------------------------------------------------------------------------

  private buildMethodTable(): Map<string, { name: string; handler: Handler }> {
    const handlers: Record<string, Handler> = {
      getMe: () => ({ ...this.botInfo }),
      getUpdates: (p, ctx) => this.getUpdates(p, ctx),
      setWebhook: (p) => this.setWebhook(p),
      deleteWebhook: (p) => this.deleteWebhook(p),
      getWebhookInfo: () => this.getWebhookInfo(),
      sendMessage: (p) => this.sendMessage(p),
      sendPhoto: (p) => this.sendMedia('photo', p),
      sendDocument: (p) => this.sendMedia('document', p),
      sendVideo: (p) => this.sendMedia('video', p),
      sendAudio: (p) => this.sendMedia('audio', p),
      sendVoice: (p) => this.sendMedia('voice', p),
      sendMediaGroup: (p) => this.sendMediaGroup(p),
      copyMessage: (p) => this.copyMessage(p),
      getFile: (p) => this.files.describe(p.string('file_id')),
      editMessageText: (p) => this.editMessage(p, 'text'),
      editMessageCaption: (p) => this.editMessage(p, 'caption'),
      editMessageReplyMarkup: (p) => this.editMessage(p, 'markup'),
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      deleteMessage: (p) => this.deleteMessage(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: (p) => this.commands(objectParam(p, 'scope'), p.string('language_code')),
      deleteMyCommands: (p) => {
        this.world.commands.delete(commandsKey(objectParam(p, 'scope'), p.string('language_code')));
        return true;
      },
      sendChatAction: (p) => this.sendChatAction(p),
    };
    return new Map(Object.entries(handlers).map(([name, handler]) => [name.toLowerCase(), { name, handler }]));
  }

  private async getUpdates(p: Params, ctx: CallContext): Promise<Update[]> {
    if (this.webhookConfig) {
      throw conflict(
        "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = p.integer('offset');
    const limit = Math.min(100, Math.max(1, p.integer('limit') ?? 100));
    const timeout = Math.max(0, p.integer('timeout') ?? 0);
    const allowed = p.json('allowed_updates');
    if (Array.isArray(allowed)) this.queue.setAllowedUpdates(allowed.map(String));

    // Only one getUpdates may wait at a time; a newer one terminates the older, as on Telegram.
    this.terminateActivePoll(
      conflict('terminated by other getUpdates request; make sure that only one bot instance is running'),
    );
    this.queue.applyOffset(offset);
    if (this.queue.size === 0 && timeout > 0) {
      const poll: { controller: AbortController; reason?: BotApiError } = { controller: new AbortController() };
      this.activePoll = poll;
      await this.queue.waitForUpdates(
        timeout * 1000,
        AbortSignal.any([poll.controller.signal, ctx.signal, this.stopController.signal]),
      );
      if (this.activePoll === poll) this.activePoll = undefined;
      if (poll.reason) throw poll.reason;
    }
    return this.queue.peek(limit);
  }

  private terminateActivePoll(reason: BotApiError): void {
    const poll = this.activePoll;
    if (!poll) return;
    this.activePoll = undefined;
    poll.reason = reason;
    poll.controller.abort();
  }

  private setWebhook(p: Params): Described {
    const url = p.string('url') ?? '';
    if (url === '') return this.removeWebhook(p.boolean('drop_pending_updates') ?? false);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
    }
    if (parsed.protocol !== 'https:' && !(this.allowHttpWebhooks && parsed.protocol === 'http:')) {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    const secretToken = p.string('secret_token');
    if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
      throw badRequest('bad webhook: secret token contains unallowed characters');
    }
    const maxConnections = p.integer('max_connections') ?? 40;
    if (maxConnections < 1 || maxConnections > 100)
      throw badRequest('bad webhook: max_connections must be between 1 and 100');
    const allowed = p.json('allowed_updates');
    if (Array.isArray(allowed)) this.queue.setAllowedUpdates(allowed.map(String));
    if (p.boolean('drop_pending_updates')) this.queue.clear();

    const unchanged = this.webhookConfig?.url === url && this.webhookConfig.secretToken === secretToken;
    const ipAddress = p.string('ip_address');
    this.webhookConfig = {
      url,
      maxConnections,
      ...(secretToken !== undefined ? { secretToken } : {}),
      ...(ipAddress !== undefined ? { ipAddress } : {}),
    };
    this.terminateActivePoll(
      conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
    );
    this.webhook.wakeUp();
    this.webhook.kick();
    return new Described(true, unchanged ? 'Webhook is already set' : 'Webhook was set');
  }

  private deleteWebhook(p: Params): Described {
    return this.removeWebhook(p.boolean('drop_pending_updates') ?? false);
  }

  private removeWebhook(dropPending: boolean): Described {
    const had = this.webhookConfig !== undefined;
    this.webhookConfig = undefined;
    if (dropPending) this.queue.clear();
    return new Described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
  }

  private getWebhookInfo(): WebhookInfo {
    const config = this.webhookConfig;
    const allowed = this.queue.allowedUpdates;
    return {
      url: config?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.size,
      ...(config?.ipAddress !== undefined ? { ip_address: config.ipAddress } : {}),
      ...(this.lastWebhookError
        ? { last_error_date: this.lastWebhookError.date, last_error_message: this.lastWebhookError.message }
        : {}),
      ...(config ? { max_connections: config.maxConnections } : {}),
      ...(config && allowed.length > 0 ? { allowed_updates: allowed } : {}),
    };
  }

  private sendMessage(p: Params): Message {
    const chat = this.resolveChat(p);
    const { text, entities, parseMode, source } = this.formatted(p, 'message text is empty', 'message is too long');
    const markup = parseReplyMarkup(p.json('reply_markup'));
    const replyTo = this.replyTarget(p, chat);
    this.assertCanWrite(chat);
    this.takeSendSlot(chat, p);
    return this.deliver(
      chat,
      { text, ...(entities.length > 0 ? { entities } : {}) },
      { source, parseMode, markup, replyTo },
    );
  }

  /** sendPhoto, sendDocument, sendVideo, sendAudio, sendVoice: the file by upload, file_id or URL. */
  private sendMedia(kind: MediaKind, p: Params): Message {
    const chat = this.resolveChat(p);
    const file = this.files.resolve(p.raw[kind], kind, p.raw);
    const caption = formatCaption(p.string('caption'), p.string('parse_mode'), p.json('caption_entities'));
    const markup = parseReplyMarkup(p.json('reply_markup'));
    const replyTo = this.replyTarget(p, chat);
    this.assertCanWrite(chat);
    this.takeSendSlot(chat, p);
    this.files.commit([file]);
    return this.deliver(
      chat,
      { ...mediaField(file, p), ...captionFields(caption) },
      { source: caption.source, parseMode: caption.parseMode, markup, replyTo },
    );
  }

  /** An album: one send slot, messages sharing a media_group_id, each with its own caption. */
  private sendMediaGroup(p: Params): Message[] {
    const chat = this.resolveChat(p);
    const items = parseMediaGroup(p.json('media'));
    const files = items.map((item) => this.files.resolve(item.media, item.kind, p.raw));
    const replyTo = this.replyTarget(p, chat);
    this.assertCanWrite(chat);
    this.takeSendSlot(chat, p);
    this.files.commit(files);
    const mediaGroupId = String(randomInt(1e12, 2e14));
    return items.map((item, i) =>
      this.deliver(
        chat,
        { media_group_id: mediaGroupId, ...mediaField(files[i]!, undefined), ...captionFields(item.caption) },
        { source: item.caption.source, parseMode: item.caption.parseMode, markup: undefined, replyTo },
      ),
    );
  }

  /** A copy without the "forwarded" header; a new caption replaces a media message's one. */
  private copyMessage(p: Params): { message_id: number } {
    const chat = this.resolveChat(p);
    const from = this.resolveChat(p, 'from_chat_id');
    const messageId = p.integer('message_id');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const original = from.get(messageId);
    if (!original || original.deleted) throw badRequest('message to copy not found');
    const message = original.message;
    const media = mediaContent(message);
    let content: Partial<Message>;
    let source = original.sourceText;
    let parseMode = original.parseMode;
    if (media && p.has('caption')) {
      const caption = formatCaption(p.string('caption'), p.string('parse_mode'), p.json('caption_entities'));
      content = { ...media, ...captionFields(caption) };
      source = caption.source;
      parseMode = caption.parseMode;
    } else {
      const { text, entities, caption, caption_entities } = structuredClone(message);
      content = { ...(media ?? {}), text, entities, caption, caption_entities };
      for (const key of Object.keys(content) as (keyof Message)[]) if (content[key] === undefined) delete content[key];
    }
    const markup = parseReplyMarkup(p.json('reply_markup'));
    const replyTo = this.replyTarget(p, chat);
    this.assertCanWrite(chat);
    this.takeSendSlot(chat, p);
    return { message_id: this.deliver(chat, content, { source, parseMode, markup, replyTo }).message_id };
  }

  /** Adds a bot message to the chat (after every check passed) and answers Telegram's Message object for it. */
  private deliver(
    chat: ChatState,
    content: Partial<Message>,
    sent: {
      source: string;
      parseMode: ParseMode | undefined;
      markup: ReplyMarkup | undefined;
      replyTo: StoredMessage | undefined;
    },
  ): Message {
    const { markup, replyTo, parseMode } = sent;
    const stored = chat.add(
      {
        from: this.botUserBasic(),
        ...content,
        ...(replyTo ? { reply_to_message: structuredClone(replyTo.message) } : {}),
        ...(isInlineKeyboard(markup) && markup.inline_keyboard.length > 0 ? { reply_markup: markup } : {}),
      },
      {
        fromBot: true,
        sourceText: sent.source,
        ...(parseMode !== undefined ? { parseMode } : {}),
        ...(markup !== undefined ? { sentMarkup: markup } : {}),
      },
    );
    if (isReplyKeyboard(markup)) chat.replyKeyboard = markup;
    else if (markup !== undefined && 'remove_keyboard' in markup) chat.replyKeyboard = undefined;
    this.world.botMessages.push(stored);
    chat.changed();
    return structuredClone(stored.message);
  }

  /** editMessageText, editMessageCaption (a media message's caption) and editMessageReplyMarkup. */
  private editMessage(p: Params, what: 'text' | 'caption' | 'markup'): Message {
    if (p.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID'); // no inline mode in the emulator
    const chat = this.resolveChat(p);
    const messageId = p.integer('message_id');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const stored = chat.get(messageId);
    if (!stored || stored.deleted) throw badRequest('message to edit not found');
    if (!stored.fromBot) throw badRequest("message can't be edited");
    this.assertCanWrite(chat);

    const message = stored.message;
    const hasMedia = mediaOf(message) !== undefined;
    if (what === 'text' && hasMedia) throw badRequest('there is no text in the message to edit');
    if (what === 'caption' && !hasMedia) throw badRequest('there is no caption in the message to edit');
    const [textKey, entitiesKey] = hasMedia
      ? (['caption', 'caption_entities'] as const)
      : (['text', 'entities'] as const);
    let next: {
      text: string;
      entities: NonNullable<Message['entities']>;
      parseMode: ParseMode | undefined;
      source: string;
    };
    if (what === 'text') next = this.formatted(p, 'text must be non-empty', 'MESSAGE_TOO_LONG');
    else if (what === 'caption') {
      const { caption, ...rest } = formatCaption(
        p.string('caption'),
        p.string('parse_mode'),
        p.json('caption_entities'),
      );
      next = { text: caption, ...rest };
    } else {
      next = {
        text: message[textKey] ?? '',
        entities: message[entitiesKey] ?? [],
        parseMode: stored.parseMode,
        source: stored.sourceText,
      };
    }
    // Telegram drops the inline keyboard when an edit does not repeat it.
    const markup = parseReplyMarkup(p.json('reply_markup'), { inlineOnly: true }) as InlineKeyboardMarkup | undefined;
    const keyboard = markup && markup.inline_keyboard.length > 0 ? markup : undefined;
    if (
      next.text === (message[textKey] ?? '') &&
      JSON.stringify(next.entities) === JSON.stringify(message[entitiesKey] ?? []) &&
      JSON.stringify(keyboard) === JSON.stringify(message.reply_markup)
    ) {
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    if (next.text !== '') message[textKey] = next.text;
    else delete message[textKey];
    if (next.entities.length > 0) message[entitiesKey] = next.entities;
    else delete message[entitiesKey];
    if (keyboard) message.reply_markup = keyboard;
    else delete message.reply_markup;
    message.edit_date = unixTime();
    stored.sourceText = next.source;
    if (next.parseMode !== undefined) stored.parseMode = next.parseMode;
    else delete stored.parseMode;
    if (markup !== undefined) stored.sentMarkup = markup;
    else delete stored.sentMarkup;
    stored.edits += 1;
    chat.changed();
    return structuredClone(message);
  }

  private answerCallbackQuery(p: Params): true {
    const id = p.string('callback_query_id');
    const pending = id === undefined ? undefined : this.world.callbackQueries.get(id);
    if (!pending || pending.answered)
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    const text = p.string('text');
    if (text !== undefined && text.length > MAX_CALLBACK_ANSWER_LENGTH) throw badRequest('MESSAGE_TOO_LONG');
    pending.answered = true;
    const chat = this.world.chats.get(pending.chatId)!;
    const url = p.string('url');
    const cacheTime = p.integer('cache_time');
    chat.callbackAnswers.push({
      callback_query_id: pending.query.id,
      ...(pending.query.data !== undefined ? { data: pending.query.data } : {}),
      ...(pending.query.message ? { message_id: pending.query.message.message_id } : {}),
      ...(text !== undefined ? { text } : {}),
      show_alert: p.boolean('show_alert') ?? false,
      ...(url !== undefined ? { url } : {}),
      ...(cacheTime !== undefined ? { cache_time: cacheTime } : {}),
      at: Date.now(),
    });
    chat.changed();
    return true;
  }

  private deleteMessage(p: Params): true {
    const chat = this.resolveChat(p);
    const messageId = p.integer('message_id');
    if (messageId === undefined) throw badRequest('message identifier is not specified');
    const stored = chat.get(messageId);
    if (!stored || stored.deleted) throw badRequest('message to delete not found');
    stored.deleted = true;
    chat.changed();
    return true;
  }

  private setMyCommands(p: Params): true {
    const commands = p.json('commands');
    if (!Array.isArray(commands)) throw badRequest('field "commands" must be an Array');
    if (commands.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH');
    const parsed: BotCommand[] = commands.map((c: unknown) => {
      const { command, description } = (c ?? {}) as Record<string, unknown>;
      if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof description !== 'string' || description.length < 1 || description.length > 256) {
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
      return { command, description };
    });
    this.world.commands.set(commandsKey(objectParam(p, 'scope'), p.string('language_code')), parsed);
    return true;
  }

  private sendChatAction(p: Params): true {
    const chat = this.resolveChat(p);
    const action = p.string('action');
    if (action === undefined || !CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
    this.assertCanWrite(chat);
    return true;
  }

  // ---- Method helpers --------------------------------------------------------------------------------------

  private resolveChat(p: Params, field = 'chat_id'): ChatState {
    const raw = p.string(field);
    if (raw === undefined || raw === '') throw badRequest(`${field} is empty`);
    // Private chats are addressed by numeric id; @username resolves only public groups and channels.
    const chat = /^-?\d+$/.test(raw) ? this.world.chats.get(Number(raw)) : undefined;
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  private assertCanWrite(chat: ChatState): void {
    if (chat.deactivated) throw forbidden('user is deactivated');
    if (chat.blocked) throw forbidden('bot was blocked by the user');
    if (!chat.started) throw forbidden("bot can't initiate conversation with a user");
  }

  /** One message slot; `allow_paid_broadcast` draws on the paid global budget instead of the free one. */
  private takeSendSlot(chat: ChatState, p: Params): void {
    if (!this.enforceLimits) return;
    const slot = this.flood.acquire(chat.chat.id, p.boolean('allow_paid_broadcast') ?? false);
    if (!slot.ok) throw tooManyRequests(slot.retryAfter);
  }

  private formatted(
    p: Params,
    emptyError: string,
    tooLongError: string,
  ): { text: string; entities: NonNullable<Message['entities']>; parseMode: ParseMode | undefined; source: string } {
    const source = p.string('text') ?? '';
    const { text, entities, parseMode } = formatParam(source, p.string('parse_mode'), p.json('entities'));
    if (text.length === 0) throw badRequest(emptyError);
    if (text.length > MAX_MESSAGE_LENGTH) throw badRequest(tooLongError);
    return { text, entities, parseMode, source };
  }

  private replyTarget(p: Params, chat: ChatState): StoredMessage | undefined {
    const parameters = objectParam(p, 'reply_parameters');
    const id =
      p.integer('reply_to_message_id') ??
      (typeof parameters?.['message_id'] === 'number' ? parameters['message_id'] : undefined);
    if (id === undefined) return undefined;
    const target = chat.get(id);
    const allowMissing =
      p.boolean('allow_sending_without_reply') ?? parameters?.['allow_sending_without_reply'] === true;
    if ((!target || target.deleted) && !allowMissing) throw badRequest('message to be replied not found');
    return target && !target.deleted ? target : undefined;
  }

  private botUserBasic(): User {
    const { id, is_bot, first_name, username } = this.botInfo;
    return { id, is_bot, first_name, ...(username !== undefined ? { username } : {}) };
  }
}

function toFailure(error: unknown): { status: number; response: ApiResponse } {
  if (error instanceof BotApiError) return { status: error.error_code, response: error.toResponse() };
  // A bug in the emulator itself: answer like Telegram's 500, but keep the cause visible.
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, response: { ok: false, error_code: 500, description: `Internal Server Error: ${message}` } };
}

/** A call's parameters for the record: each uploaded file as its name, size and type instead of its bytes. */
function withoutFileBytes(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => [
      name,
      value instanceof UploadedFile ? value.describe() : structuredClone(value),
    ]),
  );
}

function objectParam(p: Params, name: string): Record<string, unknown> | undefined {
  const value = p.json(name);
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest(`can't parse ${name} JSON object`);
  return value as Record<string, unknown>;
}

function commandsKey(scope: Record<string, unknown> | undefined, languageCode: string | undefined): string {
  const normalized =
    scope && scope['type'] !== 'default'
      ? JSON.stringify(Object.entries(scope).sort(([a], [b]) => a.localeCompare(b)))
      : 'default';
  return `${normalized}|${languageCode ?? ''}`;
}
