// Each campaign's status as a flag in Redis, read by every replica right before each request leaves, so a pause or
// cancel stops all replicas' sends at once (docs/broadcaster.md, "Pause and cancel stop at once"). The action that
// changes the status sets the flag before it answers; the database stays the truth: a missing flag is read from
// it, and a flag that disagrees with it is dropped (read again) by the engine's next round.
import type { CampaignStatus } from '../../lib/contracts';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';

const TTL_S = 7 * 24 * 3600;

export class CampaignStatusFlags {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly fromDatabase: (campaignId: string) => Promise<CampaignStatus | undefined>,
    private readonly log: Logger,
  ) {}

  private key(campaignId: string) {
    return `${this.namespace}:broadcaster:status:${campaignId}`;
  }

  /** After the status changed in the database, before the action answers. A failure leaves it to `repair`. */
  async set(campaignId: string, status: CampaignStatus): Promise<void> {
    try {
      if (this.redis.status !== 'ready') throw new Error(`redis is ${this.redis.status}`);
      await this.redis.set(this.key(campaignId), status, 'EX', TTL_S);
    } catch (error) {
      this.log.warn({ err: error, campaign_id: campaignId }, 'campaign status flag not set; the next round drops it');
      await this.redis.del(this.key(campaignId)).catch(() => undefined);
    }
  }

  /** Whether the campaign may send now. */
  async running(campaignId: string): Promise<boolean> {
    if (this.redis.status === 'ready') {
      try {
        const flag = await this.redis.get(this.key(campaignId));
        if (flag !== null) return flag === 'running';
        const status = await this.fromDatabase(campaignId);
        // NX: an action that set the flag meanwhile knows better than this read.
        if (status) await this.redis.set(this.key(campaignId), status, 'EX', TTL_S, 'NX');
        return status === 'running';
      } catch (error) {
        this.log.debug({ err: error, campaign_id: campaignId }, 'status flag unreadable; asking the database');
      }
    }
    return (await this.fromDatabase(campaignId)) === 'running';
  }

  /**
   * Drops flags that disagree with statuses just read from the database (an action whose `set` failed). Dropping,
   * not setting: a read older than an action must not overwrite the action's flag; a dropped flag is read again.
   */
  async repair(statuses: { id: string; status: CampaignStatus }[]): Promise<void> {
    if (statuses.length === 0 || this.redis.status !== 'ready') return;
    const flags = await this.redis.mget(statuses.map((s) => this.key(s.id)));
    const stale = statuses.filter((s, i) => flags[i] !== null && flags[i] !== s.status).map((s) => this.key(s.id));
    if (stale.length > 0) await this.redis.del(...stale);
  }
}
