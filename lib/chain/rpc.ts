// JSON-RPC with failover: each call is retried with backoff, moving to the next URL in BSC_RPC_URLS. Shared by
// every service that reads or writes the chain.
import CircuitBreaker from 'opossum';
import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { scrub, type Logger } from '../logger';
import { classifyRpcRefusal, describeRpcError, rpcErrorCode } from './errors';

export interface RpcOptions {
  urls: string[];
  chainId: number;
  log: Logger;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** A provider failing this share of recent calls is skipped for `breakerResetMs` (default 50%, 10 s). */
  breakerErrorPercent?: number;
  breakerResetMs?: number;
}

/** A provider's refusal of a too-large eth_getLogs range: shrink the window, do not fail over. */
export class RangeTooLargeError extends Error {}

/**
 * The node refused a transaction it was sent ("nonce too low", "already known", "insufficient funds"): an answer
 * about the transaction, not a fault of the provider, so it comes back at once rather than being retried elsewhere.
 */
export class RpcAnswerError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface SendOptions {
  answered?: boolean;
}

/** Every provider failed the call for all its attempts (a transport fault, not an answer about the request). */
export class RpcUnavailableError extends Error {}

/** Methods whose JSON-RPC error answers are about the request, and final. */
const ANSWERED = new Set(['eth_sendRawTransaction']);

/** A rate limit waits at least this long before the next try (on the next provider). */
const RATE_LIMIT_DELAY_MS = 1_000;

export class FailoverRpc {
  private readonly providers: JsonRpcProvider[];
  /** One per provider: a provider that keeps failing is skipped for a while instead of costing a timeout per call. */
  private readonly breakers: CircuitBreaker<[string, unknown[]], unknown>[];
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
    this.breakers = this.providers.map(
      (provider) =>
        new CircuitBreaker((method: string, params: unknown[]) => provider.send(method, params), {
          timeout: false, // the request's own timeout applies
          errorThresholdPercentage: options.breakerErrorPercent ?? 50,
          resetTimeout: options.breakerResetMs ?? 10_000,
          volumeThreshold: 5,
          // A node's answer to a bad request (a refusal with a JSON-RPC code) says nothing about the node's health.
          errorFilter: (error: unknown) =>
            rpcErrorCode(error) !== undefined &&
            classifyRpcRefusal(describeRpcError(error).message, describeRpcError(error).httpStatus) !== 'rate-limited',
        }),
    );
  }

  /** Providers whose breaker is open (skipped) right now, by URL index. */
  get openBreakers(): number[] {
    return this.breakers.flatMap((breaker, index) => (breaker.opened ? [index] : []));
  }

  get url(): string {
    return this.options.urls[this.current]!;
  }

  /** `answered`: a JSON-RPC error in the node's answer is final for this call (a revert of a start-up check). */
  async send<T>(method: string, params: unknown[], options: SendOptions = {}): Promise<T> {
    const attempts = this.options.attempts ?? 6;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const index = this.current;
      const breaker = this.breakers[index]!;
      if (breaker.opened && this.breakers.some((b) => !b.opened)) {
        this.current = (index + 1) % this.providers.length;
        attempt--; // a skipped provider costs no attempt while another is closed
        continue;
      }
      try {
        return (await breaker.fire(method, params)) as T;
      } catch (error) {
        const { message, httpStatus } = describeRpcError(error);
        const code = rpcErrorCode(error);
        const refusal = classifyRpcRefusal(message, httpStatus);
        if ((options.answered || ANSWERED.has(method)) && code !== undefined && refusal !== 'rate-limited')
          throw new RpcAnswerError(message, code);
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
    throw new RpcUnavailableError(
      `RPC ${method} failed after ${attempts} attempts: ${scrub(describeRpcError(lastError).message)}`,
    );
  }

  destroy(): void {
    for (const breaker of this.breakers) breaker.shutdown();
    for (const provider of this.providers) provider.destroy();
  }
}
