// Webhook delivery: POSTs queued updates one at a time, in order, retrying with exponential backoff while the
// receiver fails, and giving an update up after maxAttempts, as Telegram does.
import http from 'node:http';
import type { UpdateQueue } from './update-queue';
import type { Update, WebhookDelivery, WebhookOptions } from './types';

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  maxAttempts: 5,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 2_000,
  timeoutMs: 30_000,
};

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
  ipAddress?: string;
}

export interface WebhookHost {
  readonly queue: UpdateQueue;
  webhookConfig(): WebhookConfig | undefined;
  /** A 2xx answer whose JSON body names a `method`: Telegram executes it as an API call. */
  executeWebhookReply(body: Record<string, unknown>): Promise<void>;
  recordDelivery(delivery: WebhookDelivery): void;
}

interface PostResult {
  status?: number;
  statusText?: string;
  contentType?: string;
  body?: string;
  error?: string;
}

export class WebhookDispatcher {
  private running = false;
  private stopped = false;
  private inflight: http.ClientRequest | undefined;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private readonly agent = new http.Agent({ keepAlive: false });
  private idleListeners = new Set<() => void>();

  constructor(
    private readonly host: WebhookHost,
    private readonly options: WebhookOptions,
  ) {}

  /** True while an update is being delivered or a retry is scheduled. */
  get busy(): boolean {
    return this.running;
  }

  /** Starts delivering if a webhook is set and updates are waiting. Safe to call any time. */
  kick(): void {
    if (this.running || this.stopped) return;
    if (!this.host.webhookConfig() || !this.host.queue.first()) return;
    void this.run();
  }

  /** Cuts a pending backoff short (e.g. when the webhook URL changes). */
  wakeUp(): void {
    this.sleeper?.resolve();
  }

  onIdle(listener: () => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    this.inflight?.destroy();
    this.wakeUp();
    this.agent.destroy();
  }

  private async run(): Promise<void> {
    this.running = true;
    let attempt = 0;
    let current: number | undefined;
    try {
      while (!this.stopped) {
        const config = this.host.webhookConfig();
        const update = this.host.queue.first();
        if (!config || !update) break;
        if (update.update_id !== current) {
          current = update.update_id;
          attempt = 0;
        }
        attempt += 1;
        const result = await this.post(config, update);
        if (this.stopped) break;
        const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
        this.host.recordDelivery({
          update_id: update.update_id,
          attempt,
          url: config.url,
          ...(config.secretToken !== undefined ? { secret_token: config.secretToken } : {}),
          ...(result.status !== undefined ? { status: result.status } : {}),
          ...(ok ? {} : { error: describeFailure(result) }),
          at: Date.now(),
        });
        if (ok) {
          this.host.queue.remove(update.update_id);
          await this.handleReply(result);
          continue;
        }
        if (attempt >= this.options.maxAttempts) {
          this.host.queue.remove(update.update_id);
          continue;
        }
        await this.sleep(Math.min(this.options.retryBaseDelayMs * 2 ** (attempt - 1), this.options.retryMaxDelayMs));
      }
    } finally {
      this.running = false;
      for (const listener of [...this.idleListeners]) listener();
    }
    // An update may have been queued while the last one was in flight.
    this.kick();
  }

  private async handleReply(result: PostResult): Promise<void> {
    if (!result.body || !result.contentType?.includes('json')) return;
    let body: unknown;
    try {
      body = JSON.parse(result.body);
    } catch {
      return;
    }
    if (body && typeof body === 'object' && typeof (body as Record<string, unknown>)['method'] === 'string') {
      await this.host.executeWebhookReply(body as Record<string, unknown>).catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeper = { timer, resolve: done };
    });
  }

  // https:// URLs are delivered over plain HTTP to the same host and port: the emulator stands in for
  // Telegram, the test stands in for the TLS-terminating proxy in front of the bot.
  private post(config: WebhookConfig, update: Update): Promise<PostResult> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: PostResult): void => {
        if (settled) return;
        settled = true;
        this.inflight = undefined;
        resolve(result);
      };
      const target = new URL(config.url);
      const body = JSON.stringify(update);
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      };
      if (config.secretToken !== undefined) headers['X-Telegram-Bot-Api-Secret-Token'] = config.secretToken;
      const req = http.request(
        {
          host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: target.port || (target.protocol === 'https:' ? 443 : 80),
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          agent: this.agent,
          headers,
          timeout: this.options.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              contentType: res.headers['content-type'] ?? '',
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', (error) => finish({ error: describeError(error) }));
        },
      );
      this.inflight = req;
      req.on('timeout', () => req.destroy(Object.assign(new Error('Read timeout expired'), { code: 'ETIMEDOUT' })));
      req.on('error', (error) => finish({ error: describeError(error) }));
      req.end(body);
    });
  }
}

function describeFailure(result: PostResult): string {
  if (result.error !== undefined) return result.error;
  return `Wrong response from the webhook: ${result.status} ${result.statusText ?? ''}`.trim();
}

// Telegram's last_error_message wording for the common network failures.
function describeError(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'ETIMEDOUT':
      return 'Read timeout expired';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Failed to resolve host: Name or service not known';
    default:
      return error.message;
  }
}
