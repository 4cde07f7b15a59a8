// JSON-RPC with failover: each call is retried with backoff, moving to the next URL in BSC_RPC_URLS.
import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { scrub, type Logger } from '../../lib/logger';

export interface RpcOptions {
  urls: string[];
  chainId: number;
  log: Logger;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

/** A provider's refusal of a too-large eth_getLogs range: shrink the window, do not fail over. */
export class RangeTooLargeError extends Error {}

const RANGE_ERROR = /range|too many|limit exceeded|exceed|query returned more than|block range|response size/i;

export class FailoverRpc {
  private readonly providers: JsonRpcProvider[];
  private current = 0;

  constructor(private readonly options: RpcOptions) {
    const network = Network.from(options.chainId);
    this.providers = options.urls.map((url) => {
      const request = new FetchRequest(url);
      request.timeout = options.timeoutMs ?? 10_000;
      return new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1 });
    });
  }

  get url(): string {
    return this.options.urls[this.current]!;
  }

  async send<T>(method: string, params: unknown[]): Promise<T> {
    const attempts = this.options.attempts ?? 6;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const index = this.current;
      try {
        return (await this.providers[index]!.send(method, params)) as T;
      } catch (error) {
        const message = errorMessage(error);
        if (method === 'eth_getLogs' && RANGE_ERROR.test(message)) throw new RangeTooLargeError(message);
        lastError = error;
        this.current = (index + 1) % this.providers.length;
        const delay = Math.min((this.options.baseDelayMs ?? 200) * 2 ** attempt, this.options.maxDelayMs ?? 5000);
        this.options.log.warn(
          { method, attempt: attempt + 1, error: scrub(message), next_url_index: this.current },
          'RPC call failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    throw new Error(`RPC ${method} failed after ${attempts} attempts: ${scrub(errorMessage(lastError))}`);
  }

  destroy(): void {
    for (const provider of this.providers) provider.destroy();
  }
}

function errorMessage(error: unknown): string {
  const e = error as { error?: { message?: string }; shortMessage?: string; message?: string };
  return e?.error?.message ?? e?.shortMessage ?? e?.message ?? String(error);
}
