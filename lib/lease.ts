// A short exclusive lease in Redis that its live holder keeps renewing, so a holder that dies (SIGKILL, OOM, a
// lost node) loses it within one TTL instead of blocking the work for minutes. Written here because Redlock (the
// maintained library for this) targets several independent Redis masters and its auto-extension is still beta;
// one SET NX PX plus two compare-and-act scripts is the whole algorithm for a single Redis.
import { randomBytes } from 'node:crypto';
import type { Redis } from './redis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaseOptions {
  /** How long the lease lives without a renewal: how soon a dead holder's work can be taken over. */
  ttlMs: number;
  /** How often the holder renews (default a third of the TTL, so two renewals may fail before it lapses). */
  renewEveryMs?: number;
}

export class Lease {
  private timer: NodeJS.Timeout | undefined;
  /** When the last successful renewal was sent (not answered): the lease lives at most a TTL from then. */
  private lastRenewedAt: number;
  private lost = false;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly token: string,
    private readonly options: Required<LeaseOptions>,
    acquiredAt: number,
  ) {
    this.lastRenewedAt = acquiredAt;
    this.timer = setInterval(() => void this.renew(), options.renewEveryMs);
    this.timer.unref();
  }

  /** The lease, or null while someone else holds it. */
  static async acquire(redis: Redis, key: string, options: LeaseOptions): Promise<Lease | null> {
    const token = randomBytes(12).toString('hex');
    const sentAt = Date.now();
    const taken = await redis.set(key, token, 'PX', options.ttlMs, 'NX');
    if (taken !== 'OK') return null;
    const renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
    return new Lease(redis, key, token, { ttlMs: options.ttlMs, renewEveryMs }, sentAt);
  }

  /** False once a renewal found the key gone or taken, or no renewal succeeded for most of a TTL (a safety margin). */
  get held(): boolean {
    return !this.lost && Date.now() - this.lastRenewedAt < this.options.ttlMs * 0.8;
  }

  /** Throws when the lease may have passed to someone else: call it right before an act that must not happen twice. */
  assertHeld(): void {
    if (!this.held) throw new LeaseLostError(this.key);
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost) return;
    this.lost = true;
    await this.redis.eval(RELEASE, 1, this.key, this.token).catch(() => undefined); // it expires by itself anyway
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    try {
      const sentAt = Date.now();
      const renewed = await this.redis.eval(RENEW, 1, this.key, this.token, String(this.options.ttlMs));
      if (renewed === 1) this.lastRenewedAt = sentAt;
      else {
        this.lost = true;
        clearInterval(this.timer);
      }
    } catch {
      // Redis is unreachable: `held` turns false once a whole TTL passes without a renewal.
    }
  }
}

export class LeaseLostError extends Error {
  constructor(key: string) {
    super(`lease ${key} was lost`);
  }
}
