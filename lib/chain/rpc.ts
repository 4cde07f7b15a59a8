// JSON-RPC with failover: each call is retried with backoff, moving to the next URL in BSC_RPC_URLS. Shared by
// every service that reads or writes the chain.
import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { scrub, type Logger } from '../logger';
import { classifyRpcRefusal, describeRpcError } from './errors';

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

/** A rate limit waits at least this long before the next try (on the next provider). */
const RATE_LIMIT_DELAY_MS = 1_000;

export class FailoverRpc {
  private readonly providers: JsonRpcProvider[];
  private current = 0;

  constructor(private readonly options: RpcOptions) {
    const network = Network.from(options.chainId);
    this.providers = options.urls.map((url) => {
      const request = new FetchRequest(url);
      request.timeout = options.timeoutMs ?? 10_000;
      // A 429 comes back to us at once (ethers would retry it in place, reading Retry-After as milliseconds, until
      // the timeout): this class decides, and tries the next provider after a pause.
      request.retryFunc = async () => false;
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
        const { message, httpStatus } = describeRpcError(error);
        const refusal = classifyRpcRefusal(message, httpStatus);
        if (method === 'eth_getLogs' && refusal === 'range-too-large') throw new RangeTooLargeError(message);
        lastError = error;
        this.current = (index + 1) % this.providers.length;
        const backoff = Math.min((this.options.baseDelayMs ?? 200) * 2 ** attempt, this.options.maxDelayMs ?? 5000);
        const delay = refusal === 'rate-limited' ? Math.max(backoff, RATE_LIMIT_DELAY_MS) : backoff;
        this.options.log.warn(
          { method, attempt: attempt + 1, refusal, error: scrub(message), next_url_index: this.current },
          refusal === 'rate-limited' ? 'RPC provider rate-limited the call; backing off' : 'RPC call failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    throw new Error(`RPC ${method} failed after ${attempts} attempts: ${scrub(describeRpcError(lastError).message)}`);
  }

  destroy(): void {
    for (const provider of this.providers) provider.destroy();
  }
}
