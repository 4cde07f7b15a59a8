// The broadcaster's contracts: a campaign composed by an admin (content, audience), previewed, started, paused,
// resumed and cancelled; its progress; and the durable audit message every admin action publishes.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { MessageContent } from './message';
import { Id, TelegramId } from './primitives';

export const Audience = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  /** Users who wrote to the bot within the last `days` days. */
  z.object({ kind: z.literal('active'), days: z.number().int().min(1).max(3650) }),
  /** Users with at least one credited deposit. */
  z.object({ kind: z.literal('depositors') }),
  /** Users whose Telegram language starts with `language` (en, ru, …). */
  z.object({ kind: z.literal('language'), language: z.string().regex(/^[a-z]{2,3}$/, 'must be a language code') }),
]);
export type Audience = z.infer<typeof Audience>;

export const CampaignStatus = z.enum(['draft', 'running', 'paused', 'cancelled', 'finished']);
export type CampaignStatus = z.infer<typeof CampaignStatus>;

export const CampaignProgress = z.object({
  campaignId: Id,
  status: CampaignStatus,
  audience: Audience,
  /** Recipients chosen when the campaign started (null while a draft). */
  total: z.number().int().min(0).nullable(),
  sent: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Unreachable: blocked the bot, deleted, chat not found (marked in users, skipped by later campaigns). */
  blocked: z.number().int().min(0),
  /** Recipients skipped because an earlier attempt's outcome is unknown (broadcasts are never sent twice). */
  ambiguous: z.number().int().min(0),
  /** Messages per second over the last stretch, and the seconds left at that rate. */
  rate: z.number().min(0),
  etaSeconds: z.number().int().min(0).nullable(),
  paid: z.boolean(),
  createdBy: TelegramId,
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type CampaignProgress = z.infer<typeof CampaignProgress>;

const Actor = { actor: TelegramId };
const CampaignRef = z.object({ campaignId: Id, ...Actor });

export const BroadcasterActions = {
  /** A draft: nothing is sent until start. `paid` uses allow_paid_broadcast (BROADCAST_PAID_RATE must be set). */
  create: defineAction(
    'broadcaster.create',
    z.object({ ...Actor, content: MessageContent, audience: Audience, paid: z.boolean().default(false) }),
    CampaignProgress,
  ),
  /** Sends the draft to the admin as recipients will see it, and counts its audience. */
  preview: defineAction(
    'broadcaster.preview',
    CampaignRef,
    z.object({ campaignId: Id, recipients: z.number().int().min(0) }),
  ),
  start: defineAction('broadcaster.start', CampaignRef, CampaignProgress),
  pause: defineAction('broadcaster.pause', CampaignRef, CampaignProgress),
  resume: defineAction('broadcaster.resume', CampaignRef, CampaignProgress),
  cancel: defineAction('broadcaster.cancel', CampaignRef, CampaignProgress),
  progress: defineAction('broadcaster.progress', z.object({ campaignId: Id }), CampaignProgress),
  list: defineAction(
    'broadcaster.list',
    z.object({ limit: z.number().int().min(1).max(50).default(10) }),
    z.array(CampaignProgress),
  ),
};

export const AuditAction = z.enum([
  'broadcast.started',
  'broadcast.paused',
  'broadcast.resumed',
  'broadcast.cancelled',
  'broadcast.finished',
]);

/** One admin action, for the auditor (a later service): who did what to which thing, and when. */
export const AuditEntry = z.object({
  id: z.string().min(1).max(200),
  /** The admin's Telegram id, or "system" for what the platform did by itself (a campaign finishing). */
  actor: z.union([TelegramId, z.literal('system')]),
  action: AuditAction,
  /** What was acted on, as `<kind>:<id>` (broadcast:42). */
  target: z.string().min(1).max(200),
  at: z.string().datetime({ offset: true }),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditChannels = {
  /** any service → auditor: an admin or system action, kept for the audit log. */
  entry: defineChannel('audit', AuditEntry),
};
