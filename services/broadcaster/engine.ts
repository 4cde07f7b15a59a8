// The work loop every broadcaster replica runs: choose the recipients of started campaigns (one replica per
// campaign, under a lease), claim small batches of pending recipients and send them concurrently within the bot's
// budget, record each outcome, turn a dead replica's in-flight rows into 'ambiguous', and finish campaigns.
// A replica is alive while its heartbeat key in Redis is (lib/lease.ts): a SIGKILLed one's key lapses in
// HEARTBEAT_TTL_MS, so its rows are settled and the campaign goes on within a few seconds of a restart.
import { randomBytes } from 'node:crypto';
import type { Telegram } from 'telegraf';
import type { Audience, Contact, MessageContent } from '../../lib/contracts';
import { Lease } from '../../lib/lease';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import type { TelegramBudget } from '../../lib/telegram-budget';
import { sendContent } from '../../lib/telegram-send';
import { splitHtml } from '../../lib/telegram-text';
import type { CampaignRow, Campaigns } from './campaigns';
import { failureOutcome } from './outcome';
import type { ProgressReporter } from './progress';
import type { Claimed, Outcome, Recipients } from './recipients';
import type { CampaignStatusFlags } from './status-flags';

export const HEARTBEAT_TTL_MS = 3_000;
const IDLE_MS = 500;
const FLUSH_EVERY_MS = 100;
const RECOVER_EVERY_MS = 1_000;
const UNREACHABLE_EVERY_MS = 10_000;
const AUDIENCE_PAGE = 2_000;
const MATERIALISE_LEASE_MS = 10_000;

export interface EnginePorts {
  campaigns: Campaigns;
  recipients: Recipients;
  redis: Redis;
  namespace: string;
  telegram: Telegram;
  /** The bot's budget (lib/telegram-budget.ts): paid campaigns take the paid priority. */
  budget: TelegramBudget;
  /** One page of a campaign's audience after `afterUserId` (depositors already filtered). */
  audiencePage(
    audience: Audience,
    afterUserId: string | undefined,
    limit: number,
  ): Promise<{
    recipients: Contact[];
    next: string | null;
  }>;
  markUnreachable(telegramId: string, reason: string): Promise<void>;
  progress: ProgressReporter;
  /** Each campaign's status as every replica sees it at once (checked right before each request leaves). */
  flags: CampaignStatusFlags;
  concurrency: number;
  /** How long a request that left may go unanswered before its outcome is taken as unknown. */
  requestTimeoutMs: number;
  log: Logger;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const fileIdOnly = (content: MessageContent) => async (ref: { fileId: string } | { mediaId: string }) => {
  if ('fileId' in ref) return ref.fileId;
  // Campaigns store their content with file_ids (resolved at preview or start), never stored media.
  throw new Error(`broadcast content still refers to stored media ${ref.mediaId} (${content.kind})`);
};

/** The campaign was paused or cancelled before this recipient's request left: it goes back to pending. */
class CampaignHalted extends Error {}

export class BroadcastEngine {
  private heartbeat: Lease | undefined;
  private replica = '';
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Each campaign's status as this replica last read it (sends stop soon after a pause or cancel). */
  private readonly status = new Map<string, CampaignRow['status']>();
  /** Per campaign, the recipients waiting for a slot: told to give up when this replica learns it stopped. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly materialising = new Map<string, Promise<void>>();
  private lastRecover = 0;
  private lastUnreachable = 0;
  private reporting: Promise<void> | undefined;
  /** Per running campaign, this replica's sender (see pump). */
  private readonly pumps = new Map<string, Promise<void>>();

  constructor(private readonly ports: EnginePorts) {}

  get replicaId(): string {
    return this.replica;
  }

  start(): void {
    this.stopping = false;
    this.loop = this.run();
  }

  /** Finishes the sends in flight and records them; what was claimed but not yet sent goes back to pending. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Recipients still waiting for a slot go back to pending; requests that left finish and are recorded.
    for (const id of [...this.waiting.keys()]) this.halt(id);
    this.wake?.();
    await this.loop;
    await Promise.all([...this.pumps.values(), ...this.materialising.values(), this.reporting]);
    await this.heartbeat?.release();
    await this.ports.progress.stop();
  }

  /** Something changed (an action on this replica): look again now instead of after the idle pause. */
  poke(campaignId?: string, status?: CampaignRow['status']): void {
    if (campaignId && status) this.noteStatus(campaignId, status);
    this.wake?.();
  }

  private noteStatus(campaignId: string, status: CampaignRow['status']): void {
    this.status.set(campaignId, status);
    if (status !== 'running') this.halt(campaignId);
  }

  /** A promise resolved if the campaign halts while the caller waits; `done` forgets it (nothing piles up). */
  private haltWatch(campaignId: string): { halted: Promise<true>; done: () => void } {
    let waiting = this.waiting.get(campaignId);
    if (!waiting) this.waiting.set(campaignId, (waiting = new Set()));
    let wake: () => void = () => undefined;
    const halted = new Promise<true>((resolve) => (wake = () => resolve(true)));
    waiting.add(wake);
    return { halted, done: () => waiting.delete(wake) };
  }

  private halt(campaignId: string): void {
    const waiting = this.waiting.get(campaignId);
    this.waiting.delete(campaignId);
    for (const wake of waiting ?? []) wake();
  }

  private heartbeatKey(replica: string) {
    return `${this.ports.namespace}:broadcaster:replica:${replica}`;
  }

  private async alive(): Promise<boolean> {
    if (this.heartbeat?.held) return true;
    // First start, or the heartbeat lapsed (Redis away): a new identity, so old claims are judged on their own.
    const replica = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const lease = await Lease.acquire(this.ports.redis, this.heartbeatKey(replica), { ttlMs: HEARTBEAT_TTL_MS }).catch(
      () => null,
    );
    if (!lease) return false;
    void this.heartbeat?.release();
    this.heartbeat = lease;
    this.replica = replica;
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.tick();
      } catch (error) {
        this.ports.log.warn({ err: error }, 'broadcast round failed; trying again');
        await sleep(1000);
      }
      if (!worked && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** One round of housekeeping, which starts a sender for each running campaign (pump); true when it did work now. */
  private async tick(): Promise<boolean> {
    if (!(await this.alive())) return false;
    const open = await this.ports.campaigns.open();
    for (const row of open) this.noteStatus(String(row.id), row.status);
    await this.ports.flags
      .repair(open.map((r) => ({ id: String(r.id), status: r.status })))
      .catch((error) => this.ports.log.debug({ err: error }, 'campaign status flags not checked'));
    const now = Date.now();
    if (now - this.lastRecover >= RECOVER_EVERY_MS) {
      this.lastRecover = now;
      await this.recover(open.map((r) => String(r.id)));
    }
    if (now - this.lastUnreachable >= UNREACHABLE_EVERY_MS && !this.reporting) {
      this.lastUnreachable = now;
      // Beside the sends, not in their way: users may be slow or lack the action.
      this.reporting = this.reportUnreachable()
        .catch((error) => this.ports.log.warn({ err: error }, 'reporting unreachable recipients failed'))
        .finally(() => (this.reporting = undefined));
    }
    void this.ports.progress.tick(open);

    const running = open.filter((r) => r.status === 'running');
    for (const row of running) if (row.total === null) this.materialise(row);
    if (this.stopping) return false;
    for (const row of running) {
      const id = String(row.id);
      if (this.pumps.has(id)) continue;
      if (row.total !== null && (await this.ports.campaigns.finishIfDone(id))) continue;
      const pump = this.pump(row)
        .catch((error) =>
          this.ports.log.warn({ err: error, campaign_id: id }, 'broadcast sender failed; starting again'),
        )
        .finally(() => this.pumps.delete(id));
      this.pumps.set(id, pump);
    }
    return false;
  }

  /**
   * Sends one campaign's recipients while it runs: up to `concurrency` claimed at a time, claiming more as soon as
   * half of them are done, so the budget's slots never wait for a batch to drain (a batch at a time left the last
   * slot of each batch part empty). Claimed rows are 'sending', so a crash leaves at most `concurrency` ambiguous.
   */
  private async pump(row: CampaignRow): Promise<void> {
    const id = String(row.id);
    const limit = this.ports.concurrency;
    const budget = this.ports.budget;
    const media = fileIdOnly(row.content);
    // Outcomes are written every FLUSH_EVERY_MS as they come, so a crash leaves ambiguous only the recipients
    // whose request was in flight or whose outcome was not yet written, not the whole claim.
    const done: Outcome[] = [];
    // Claimed and not yet recorded: all of these are 'sending' in the table, so this is what a crash can leave
    // ambiguous, and it never exceeds `limit`.
    let unsettled = 0;
    let writing: Promise<void> = Promise.resolve();
    let writesPending = 0;
    const flush = () => {
      const outcomes = done.splice(0);
      if (outcomes.length === 0) return writing;
      writesPending++;
      // A failed write leaves its rows 'sending' under this live replica: recover() settles them next round.
      writing = writing
        .then(() => this.ports.recipients.record(id, this.replica, outcomes))
        .catch((error) => this.ports.log.warn({ err: error, campaign_id: id }, 'recording outcomes failed'))
        .finally(() => {
          writesPending--;
          unsettled -= outcomes.length;
        });
      return writing;
    };
    const settle = (outcome: Outcome) => {
      done.push(outcome);
      // Recorded soon enough that the next claim need not wait for the timer.
      if (done.length >= limit / 4) void flush();
    };
    const timer = setInterval(() => void flush(), FLUSH_EVERY_MS);
    const inFlight = new Set<Promise<void>>();
    let drained = false;
    try {
      for (;;) {
        const running = !this.stopping && this.status.get(id) === 'running';
        if (running && !drained && unsettled <= limit / 2) {
          const claimed = await this.ports.recipients.claim(id, this.replica, limit - unsettled);
          // Nothing pending now: finish what is in flight, then tick() looks again (materialising may add more).
          if (claimed.length === 0) drained = true;
          unsettled += claimed.length;
          for (const recipient of claimed) {
            const sending: Promise<void> = this.sendOne(id, row, recipient, budget, media)
              // sendOne answers every outcome itself; an error past it cannot tell whether the request left, so the
              // recipient is never sent again.
              .catch((error): Outcome => {
                this.ports.log.warn({ err: error, campaign_id: id }, 'a broadcast send failed unexpectedly');
                return { userId: recipient.userId, status: 'ambiguous', error: String(error) };
              })
              .then(settle)
              .finally(() => inFlight.delete(sending));
            inFlight.add(sending);
          }
        }
        if (inFlight.size === 0) {
          if (done.length > 0) void flush();
          if (writesPending === 0 && (!running || drained)) break;
        }
        // Until a send is answered or a write lands (which frees room to claim more).
        const waits = [...inFlight, ...(writesPending > 0 ? [writing] : [])];
        await (waits.length > 0 ? Promise.race(waits) : sleep(FLUSH_EVERY_MS));
      }
    } finally {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      await flush();
    }
    await this.ports.campaigns.finishIfDone(id);
  }

  private async sendOne(
    id: string,
    row: CampaignRow,
    recipient: Claimed,
    budget: TelegramBudget,
    media: ReturnType<typeof fileIdOnly>,
  ): Promise<Outcome> {
    // Paused, cancelled or stopping since the claim: not sent, back to pending.
    if (this.stopping || this.status.get(id) !== 'running') {
      return { userId: recipient.userId, status: 'pending', release: true };
    }
    // The answer's deadline runs from when the request leaves (a wait for the budget is not Telegram's delay).
    let deadline: NodeJS.Timeout | undefined;
    let requestLeft = false;
    let partsAnswered = 0;
    let giveUp: (error: Error) => void = () => undefined;
    const noAnswer = new Promise<never>((_, reject) => (giveUp = reject));
    try {
      await Promise.race([
        noAnswer,
        sendContent(this.ports.telegram, recipient.telegramId, row.content, {
          slot: async (messages) => {
            clearTimeout(deadline);
            const taken = budget.take(recipient.telegramId, row.paid ? 'paid' : 'broadcast', messages);
            if (partsAnswered === 0) {
              // Nothing of this message has arrived yet: a pause or cancel meanwhile stops it, on every replica.
              taken.catch(() => undefined);
              const watch = this.haltWatch(id);
              try {
                if (await Promise.race([taken.then(() => false), watch.halted])) throw new CampaignHalted();
              } finally {
                watch.done();
              }
              if (!(await this.ports.flags.running(id))) {
                this.noteStatus(id, 'paused');
                throw new CampaignHalted();
              }
            } else await taken;
            requestLeft = true;
            deadline = setTimeout(
              () => giveUp(Object.assign(new Error('Telegram did not answer in time'), { code: 'ETIMEDOUT' })),
              this.ports.requestTimeoutMs,
            );
          },
          paused: (seconds) => budget.pause(seconds),
          answered: async (index) => {
            partsAnswered = index + 1;
          },
          media,
          paid: row.paid,
        }),
      ]);
      return { userId: recipient.userId, status: 'sent' };
    } catch (error) {
      if (error instanceof CampaignHalted) return { userId: recipient.userId, status: 'pending', release: true };
      const outcome = failureOutcome(recipient.userId, recipient.attempts, error);
      if (outcome.status === 'blocked') this.lastUnreachable = 0;
      // A long text goes as several messages: once one has left, sending again could repeat the first parts.
      if (requestLeft && outcome.status !== 'blocked' && this.multipart(row)) {
        return {
          ...outcome,
          status: 'ambiguous',
          release: false,
          error: `after a part may have arrived: ${outcome.error ?? ''}`,
        };
      }
      return outcome;
    } finally {
      clearTimeout(deadline);
    }
  }

  private readonly parts = new Map<string, number>();

  /** Whether the campaign's content is a text Telegram gets in several messages. */
  private multipart(row: CampaignRow): boolean {
    const id = String(row.id);
    let parts = this.parts.get(id);
    if (parts === undefined) {
      parts = row.content.kind === 'text' ? splitHtml(row.content.text).length : 1;
      this.parts.set(id, parts);
    }
    return parts > 1;
  }

  /** Rows 'sending' whose replica has no heartbeat any more become 'ambiguous'. */
  private async recover(campaignIds: string[]): Promise<void> {
    if (this.ports.redis.status !== 'ready') return; // liveness cannot be told: wait
    for (const replica of await this.ports.recipients.claimants(campaignIds)) {
      const own = replica === this.replica;
      if (!own && (await this.ports.redis.exists(this.heartbeatKey(replica))) === 1) continue;
      // A campaign this replica has no sender for has nothing of its in flight: its own rows still 'sending' there
      // are outcomes it failed to write (a database hiccup), as unknown as a dead replica's.
      const settle = own ? campaignIds.filter((id) => !this.pumps.has(id)) : campaignIds;
      if (settle.length === 0) continue;
      const n = await this.ports.recipients.abandon(settle, replica);
      if (n > 0)
        this.ports.log.warn({ replica, recipients: n }, 'a stopped replica left recipients in flight: ambiguous');
    }
  }

  /** Tells users about recipients Telegram refused for good; a users without the action is asked again later. */
  private async reportUnreachable(): Promise<void> {
    const owed = await this.ports.recipients.unreachableOwed(await this.ports.campaigns.recentIds());
    for (const r of owed) {
      try {
        await this.ports.markUnreachable(r.telegramId, r.reason);
        await this.ports.recipients.unreachableMarked(r.campaignId, r.userId);
      } catch (error) {
        this.ports.log.debug({ err: error, user_id: r.userId }, 'users.markUnreachable failed; asking again later');
        return;
      }
    }
  }

  /** Pages the audience into broadcast_recipients from the campaign's cursor, under a lease (one replica). */
  private materialise(row: CampaignRow): void {
    const id = String(row.id);
    if (this.materialising.has(id)) return;
    const work = (async () => {
      const lease = await Lease.acquire(this.ports.redis, `${this.ports.namespace}:broadcaster:audience:${id}`, {
        ttlMs: MATERIALISE_LEASE_MS,
      });
      if (!lease) return;
      try {
        const fresh = await this.ports.campaigns.get(id);
        let cursor = fresh?.audience_cursor ?? undefined;
        if (!fresh || fresh.total !== null) return;
        for (;;) {
          if (this.stopping || this.status.get(id) === 'cancelled') return;
          const page = await this.ports.audiencePage(row.audience, cursor ?? undefined, AUDIENCE_PAGE);
          lease.assertHeld();
          await this.ports.recipients.addPage(id, page.recipients, page.next);
          this.wake?.();
          if (page.next === null) break;
          cursor = page.next;
        }
        this.ports.log.info({ campaign_id: id }, 'broadcast recipients chosen');
      } finally {
        await lease.release();
      }
    })()
      .catch((error) => this.ports.log.warn({ err: error, campaign_id: id }, 'choosing recipients failed; again soon'))
      .finally(() => this.materialising.delete(id));
    this.materialising.set(id, work);
  }
}
