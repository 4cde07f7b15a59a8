// The admin's live progress message: one per campaign, edited by exactly one replica (a lease per campaign), at
// most every EDIT_EVERY_MS and only when its text changed, with pause/resume/cancel buttons (bot-gateway answers
// their bc:<action>:<id> callbacks by calling the broadcaster). When the campaign ends the message becomes its
// final report.
import type { Telegram } from 'telegraf';
import { t } from '../../lib/i18n';
import { Lease } from '../../lib/lease';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import { RetryLaterError, type TelegramBudget } from '../../lib/telegram-budget';
import { telegramError } from '../../lib/telegram-send';
import { progressOf, type CampaignRow, type Campaigns, type Counts } from './campaigns';

export const EDIT_EVERY_MS = 5_000;
const LEASE_TTL_MS = 15_000;
/** How long an admin's language is kept before users is asked again. */
const LANGUAGE_TTL_MS = 60_000;

export interface ProgressPorts {
  campaigns: Campaigns;
  redis: Redis;
  namespace: string;
  telegram: Telegram;
  budget: TelegramBudget;
  /** The language of the admin's texts (users.byTelegramId's languageCode); a failure answers en meanwhile. */
  languageOf(telegramId: string): Promise<string>;
  log: Logger;
}

type Button = { text: string; callback_data: string };

/** A duration in the admin's language, abbreviated as a progress line wants it: "1 h 2 min", "3 мин 5 с". */
export function duration(seconds: number, language: string): string {
  const s = Math.max(0, Math.round(seconds));
  const [hours, minutes] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  if (hours > 0) return t(language, 'time.short_hours', { hours, minutes });
  if (minutes > 0) return t(language, 'time.short_minutes', { minutes, seconds: s % 60 });
  return t(language, 'time.short_seconds', { seconds: s % 60 });
}

/** The progress text and buttons of a campaign that is still going. */
export function progressView(row: CampaignRow, counts: Counts, chosen: number, language: string) {
  const p = progressOf(row, counts);
  const id = String(row.id);
  const title = t(language, 'broadcast.progress.title', {
    id,
    status: t(language, `broadcast.progress.status_${row.status}`),
  });
  const body =
    p.total === null
      ? t(language, 'broadcast.progress.preparing', { chosen })
      : t(language, 'broadcast.progress.body', {
          sent: p.sent,
          total: p.total,
          percent: p.total === 0 ? 100 : Math.floor(((p.total - (counts.pending + counts.sending)) / p.total) * 100),
          failed: p.failed,
          blocked: p.blocked,
          ambiguous: p.ambiguous,
          rate: p.rate,
          eta: p.etaSeconds === null ? t(language, 'broadcast.progress.eta_unknown') : duration(p.etaSeconds, language),
        });
  const buttons: Button[] = [
    row.status === 'paused'
      ? { text: t(language, 'broadcast.progress.resume_button'), callback_data: `bc:resume:${id}` }
      : { text: t(language, 'broadcast.progress.pause_button'), callback_data: `bc:pause:${id}` },
    { text: t(language, 'broadcast.progress.cancel_button'), callback_data: `bc:cancel:${id}` },
  ];
  return { text: `${title}\n\n${body}`, buttons: [buttons] };
}

export function reportText(row: CampaignRow, counts: Counts, language: string): string {
  const started = row.started_at?.getTime() ?? Date.now();
  const ended = row.finished_at?.getTime() ?? Date.now();
  const total = row.total ?? counts.sent + counts.failed + counts.blocked + counts.ambiguous + counts.pending;
  return t(language, row.status === 'cancelled' ? 'broadcast.report.cancelled' : 'broadcast.report.finished', {
    id: String(row.id),
    total,
    sent: counts.sent,
    failed: counts.failed,
    blocked: counts.blocked,
    ambiguous: counts.ambiguous,
    unsent: counts.pending,
    duration: duration((ended - started) / 1000, language),
  });
}

export class ProgressReporter {
  private readonly leases = new Map<string, Lease>();
  private readonly shown = new Map<string, { text: string; at: number }>();
  private running: Promise<void> | undefined;
  private readonly languages = new Map<string, { language: string; at: number }>();

  constructor(
    private readonly ports: ProgressPorts,
    private readonly chosen: (campaignId: string) => Promise<number>,
  ) {}

  /** One look at every open campaign; a round still going is not doubled. */
  tick(open: CampaignRow[]): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round(open)
      .catch((error) => this.ports.log.warn({ err: error }, 'broadcast progress round failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running;
    for (const lease of this.leases.values()) await lease.release();
    this.leases.clear();
  }

  private async round(open: CampaignRow[]): Promise<void> {
    for (const row of open) {
      const id = String(row.id);
      const ended = row.status === 'cancelled' || row.status === 'finished';
      const last = this.shown.get(id);
      if (!ended && last && Date.now() - last.at < EDIT_EVERY_MS) continue;
      let lease = this.leases.get(id);
      if (!lease?.held) {
        lease =
          (await Lease.acquire(this.ports.redis, `${this.ports.namespace}:broadcaster:progress:${id}`, {
            ttlMs: LEASE_TTL_MS,
          }).catch(() => null)) ?? undefined;
        if (!lease) {
          this.leases.delete(id);
          continue;
        }
        this.leases.set(id, lease);
      }
      const counts = await this.ports.campaigns.counts(id);
      if (ended) {
        // Sends still in flight finish (or are settled as ambiguous) first, so the report is final.
        if (counts.sending > 0) continue;
        const text = reportText(row, counts, await this.language(row));
        if (!(await this.show(row, text, []))) continue;
        await this.ports.campaigns.recordReport(id, counts);
        await lease.release();
        this.leases.delete(id);
        this.shown.delete(id);
        continue;
      }
      const view = progressView(row, counts, row.total === null ? await this.chosen(id) : 0, await this.language(row));
      if (last?.text === view.text) {
        this.shown.set(id, { text: view.text, at: Date.now() });
        continue;
      }
      if (await this.show(row, view.text, view.buttons)) this.shown.set(id, { text: view.text, at: Date.now() });
    }
  }

  private async language(row: CampaignRow): Promise<string> {
    const chatId = String(row.progress_chat_id ?? row.created_by);
    const known = this.languages.get(chatId);
    if (known && Date.now() - known.at < LANGUAGE_TTL_MS) return known.language;
    try {
      const language = await this.ports.languageOf(chatId);
      this.languages.set(chatId, { language, at: Date.now() });
      return language;
    } catch (error) {
      this.ports.log.debug({ err: error, chat_id: chatId }, "the admin's language is unknown for now: en");
      return known?.language ?? 'en';
    }
  }

  /** Edits the campaign's message (or sends it the first time, or again if it was deleted); false: try later. */
  private async show(row: CampaignRow, text: string, buttons: Button[][]): Promise<boolean> {
    const { telegram, budget, campaigns } = this.ports;
    const chatId = String(row.progress_chat_id ?? row.created_by);
    const extra = { parse_mode: 'HTML' as const, reply_markup: { inline_keyboard: buttons } };
    try {
      await budget.take(chatId, 'transactional');
      if (row.progress_message_id !== null) {
        try {
          await telegram.editMessageText(chatId, Number(row.progress_message_id), undefined, text, extra);
          return true;
        } catch (error) {
          const failure = telegramError(error);
          if (failure?.code === 400 && /not modified/i.test(failure.description)) return true;
          if (!(failure?.code === 400 && /not found|can't be edited/i.test(failure.description))) throw error;
          await budget.take(chatId, 'transactional');
        }
      }
      const sent = await telegram.sendMessage(chatId, text, extra);
      await campaigns.setProgressMessage(String(row.id), chatId, sent.message_id);
      row.progress_chat_id = chatId;
      row.progress_message_id = String(sent.message_id);
      return true;
    } catch (error) {
      const failure = telegramError(error);
      // The admin blocked the bot or never started it: nothing to show the progress in; the campaign goes on.
      if (failure?.code === 403 || (failure?.code === 400 && /chat not found/i.test(failure.description))) {
        this.ports.log.warn({ campaign_id: String(row.id), chat_id: chatId }, 'cannot show broadcast progress');
        return true;
      }
      if (failure?.code === 429) await budget.pause(failure.retryAfterSeconds ?? 1);
      else if (!(error instanceof RetryLaterError)) {
        this.ports.log.warn({ err: error, campaign_id: String(row.id) }, 'broadcast progress message failed');
      }
      return false;
    }
  }
}
