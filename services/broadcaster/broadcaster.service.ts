// `broadcaster`: admins' campaigns to many users (docs/broadcaster.md). Actions create, preview, start, pause,
// resume and cancel a campaign (admins only, state checked, audited); every replica runs the engine that sends
// the running ones and resumes them after a crash.
import { Errors, type ServiceBroker } from 'moleculer';
import { Telegram } from 'telegraf';
import {
  BroadcasterActions,
  callAction,
  implement,
  LedgerActions,
  NotifierActions,
  UsersActions,
  type Audience,
  type MessageContent,
} from '../../lib/contracts';
import { languageOf } from '../../lib/i18n';
import { serviceLogger } from '../../lib/logger';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { botIdOf, TelegramBudget } from '../../lib/telegram-budget';
import { sendContent } from '../../lib/telegram-send';
import {
  BROADCASTER_OUTBOX,
  CampaignNotFound,
  Campaigns,
  progressOf,
  WrongState,
  type AdminAction,
  type CampaignRow,
} from './campaigns';
import { broadcasterConfig } from './config';
import { BroadcastEngine } from './engine';
import { ProgressReporter } from './progress';
import { Recipients } from './recipients';
import { CampaignStatusFlags } from './status-flags';

const { MoleculerClientError } = Errors;

/** A broadcast's budget waits this long in place for a slot; longer, the recipient goes back to pending. */
const MAX_SLOT_WAIT_MS = 10_000;
const AUDIENCE_PAGE = 2_000;

const usesStoredMedia = (content: MessageContent): boolean =>
  content.kind === 'text'
    ? false
    : content.kind === 'album'
      ? content.items.some((i) => 'mediaId' in i.media)
      : 'mediaId' in content.media;

/** users.audience's filters for an audience (depositors are all users, filtered by the ledger). */
function filterOf(audience: Audience): { activeWithinDays?: number; language?: string } {
  if (audience.kind === 'active') return { activeWithinDays: audience.days };
  if (audience.kind === 'language') return { language: audience.language };
  return {};
}

export const broadcasterService = defineService('broadcaster', broadcasterConfig, (runtime) => {
  const { config, db, redis } = runtime;
  const log = serviceLogger('broadcaster');
  const telegram = new Telegram(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT });
  const campaigns = new Campaigns(db.pool);
  const recipients = new Recipients(db.pool);
  const flags = new CampaignStatusFlags(redis, config.NAMESPACE, (id) => campaigns.status(id), log);
  const botId = botIdOf(config.TELEGRAM_BOT_TOKEN);
  // The bot's one budget, shared with the notifier: broadcasts take what transactional messages leave, paid
  // campaigns count against BROADCAST_PAID_RATE instead of the free rate.
  const budget = new TelegramBudget(redis, {
    namespace: config.NAMESPACE,
    botId,
    globalRate: config.TELEGRAM_GLOBAL_RATE,
    ...(config.BROADCAST_PAID_RATE > 0 ? { paidRate: config.BROADCAST_PAID_RATE } : {}),
    maxWaitMs: MAX_SLOT_WAIT_MS,
  });
  const paidOn = config.BROADCAST_PAID_RATE > 0;
  let brokerRef: ServiceBroker | undefined;
  let relay: OutboxRelay | undefined;
  let engine: BroadcastEngine | undefined;

  const assertAdmin = (actor: string) => {
    if (!config.ADMIN_TELEGRAM_IDS.includes(actor)) {
      throw new MoleculerClientError('only admins (ADMIN_TELEGRAM_IDS) may broadcast', 403, 'NOT_ADMIN', { actor });
    }
  };

  const found = async (campaignId: string): Promise<CampaignRow> => {
    const row = await campaigns.get(campaignId);
    if (!row) throw new MoleculerClientError(`no broadcast #${campaignId}`, 404, 'BROADCAST_NOT_FOUND');
    return row;
  };

  const progress = async (row: CampaignRow) =>
    progressOf(row, row.report_sent || row.status === 'draft' ? undefined : await campaigns.counts(String(row.id)));

  return {
    name: 'broadcaster',
    settings: { $noVersionPrefix: true },
    dependencies: ['users'],

    actions: {
      create: implement(BroadcasterActions.create, async (ctx) => {
        const { actor, content, audience, paid } = ctx.params;
        assertAdmin(actor);
        if (paid && !paidOn) {
          throw new MoleculerClientError(
            'paid broadcasts are off (BROADCAST_PAID_RATE is 0)',
            422,
            'PAID_BROADCAST_OFF',
          );
        }
        const row = await campaigns.create(actor, content, audience, paid);
        log.info({ campaign_id: String(row.id), actor, audience, paid }, 'broadcast drafted');
        return progressOf(row, undefined);
      }),

      preview: implement(BroadcasterActions.preview, async (ctx) => {
        const { actor, campaignId } = ctx.params;
        assertAdmin(actor);
        const row = await found(campaignId);
        if (usesStoredMedia(row.content)) {
          // The notifier uploads stored media once and answers their file_ids: the campaign keeps those.
          const resolved = await callAction(engineBroker(), NotifierActions.preview, {
            chatId: actor,
            content: row.content,
          });
          await campaigns.setContent(campaignId, resolved.content);
        } else {
          await sendContent(telegram, actor, row.content, {
            slot: () => budget.take(actor, 'transactional'),
            paused: (seconds) => budget.pause(seconds),
            media: async (ref) => ('fileId' in ref ? ref.fileId : ''),
          });
        }
        return { campaignId, recipients: await audienceCount(row.audience) };
      }),

      start: implement(BroadcasterActions.start, async (ctx) => {
        const { actor, campaignId } = ctx.params;
        assertAdmin(actor);
        const row = await found(campaignId);
        if (row.status === 'draft' && usesStoredMedia(row.content)) {
          const resolved = await callAction(engineBroker(), NotifierActions.preview, {
            chatId: actor,
            content: row.content,
          });
          await campaigns.setContent(campaignId, resolved.content);
        }
        return act(campaignId, actor, 'start');
      }),
      pause: implement(BroadcasterActions.pause, (ctx) => {
        assertAdmin(ctx.params.actor);
        return act(ctx.params.campaignId, ctx.params.actor, 'pause');
      }),
      resume: implement(BroadcasterActions.resume, (ctx) => {
        assertAdmin(ctx.params.actor);
        return act(ctx.params.campaignId, ctx.params.actor, 'resume');
      }),
      cancel: implement(BroadcasterActions.cancel, (ctx) => {
        assertAdmin(ctx.params.actor);
        return act(ctx.params.campaignId, ctx.params.actor, 'cancel');
      }),

      progress: implement(BroadcasterActions.progress, async (ctx) => progress(await found(ctx.params.campaignId))),

      list: implement(BroadcasterActions.list, async (ctx) =>
        Promise.all((await campaigns.list(ctx.params.limit)).map(progress)),
      ),
    },

    created() {
      brokerRef = this.broker;
    },

    started() {
      relay = startOutboxRelay(this.broker, db.pool, BROADCASTER_OUTBOX, log);
      const reporter = new ProgressReporter(
        {
          campaigns,
          redis,
          namespace: config.NAMESPACE,
          telegram,
          budget,
          languageOf: async (telegramId) => {
            const user = await callAction(engineBroker(), UsersActions.byTelegramId, { telegramId }, { timeout: 5000 });
            return languageOf(user?.languageCode);
          },
          log,
        },
        (id) => recipients.chosen(id),
      );
      engine = new BroadcastEngine({
        campaigns,
        recipients,
        redis,
        namespace: config.NAMESPACE,
        telegram,
        budget,
        audiencePage: (audience, afterUserId, limit) => audiencePage(audience, afterUserId, limit),
        markUnreachable: async (telegramId, reason) => {
          await callAction(engineBroker(), UsersActions.markUnreachable, { telegramId, reason }, { timeout: 5000 });
        },
        progress: reporter,
        flags,
        concurrency: config.BROADCAST_CONCURRENCY,
        requestTimeoutMs: config.BROADCAST_REQUEST_TIMEOUT_MS,
        log,
      });
      engine.start();
    },

    async stopped() {
      await engine?.stop();
      await relay?.stop();
    },
  };

  async function act(campaignId: string, actor: string, action: AdminAction) {
    try {
      const row = await campaigns.transition(campaignId, actor, action);
      // Before the answer: from then on no replica's request leaves for a paused or cancelled campaign.
      await flags.set(campaignId, row.status);
      relay?.kick();
      engine?.poke(campaignId, row.status);
      log.info({ campaign_id: campaignId, actor, action }, `broadcast ${row.status}`);
      return progress(row);
    } catch (error) {
      if (error instanceof CampaignNotFound) throw new MoleculerClientError(error.message, 404, 'BROADCAST_NOT_FOUND');
      if (error instanceof WrongState) {
        throw new MoleculerClientError(`broadcast #${campaignId}: ${error.message}`, 409, 'BROADCAST_WRONG_STATE', {
          status: error.status,
          action,
        });
      }
      throw error;
    }
  }

  /** One page of users for an audience; for depositors, only those the ledger knows a deposit of. */
  async function audiencePage(audience: Audience, afterUserId: string | undefined, limit: number) {
    const broker = engineBroker();
    const page = await callAction(broker, UsersActions.audience, { afterUserId, limit, ...filterOf(audience) });
    if (audience.kind !== 'depositors' || page.recipients.length === 0) return page;
    const { userIds } = await callAction(broker, LedgerActions.depositors, {
      userIds: page.recipients.map((r) => r.userId),
    });
    const keep = new Set(userIds);
    return { recipients: page.recipients.filter((r) => keep.has(r.userId)), next: page.next };
  }

  async function audienceCount(audience: Audience): Promise<number> {
    const broker = engineBroker();
    if (audience.kind !== 'depositors') {
      return (await callAction(broker, UsersActions.audienceSize, filterOf(audience))).count;
    }
    let count = 0;
    let after: string | undefined;
    do {
      const page = await audiencePage(audience, after, AUDIENCE_PAGE);
      count += page.recipients.length;
      after = page.next ?? undefined;
    } while (after);
    return count;
  }

  function engineBroker(): ServiceBroker {
    if (!brokerRef) throw new Error('broadcaster is not started');
    return brokerRef;
  }
});
