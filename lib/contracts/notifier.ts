// The notifier's contracts: one message to one recipient (a template with typed parameters, or any MessageContent),
// alerts for every admin, stored media, previews, the retry job's action and its jobs.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { jobsAction } from './jobs';
import { MediaKind, MessageContent } from './message';
import { BlockNumber, Id, ReferralLevel, TelegramId, TxHash, Units } from './primitives';

/** A parameter that carries base units: the notifier shows it in USDT. */
export const Money = Units.describe('money');

const WithdrawalParams = z.object({ withdrawalId: Id, amount: Money });

const Templates = {
  'withdrawal.requested': WithdrawalParams.extend({ fee: Money, destination: z.string() }),
  'withdrawal.pending_approval': WithdrawalParams,
  'withdrawal.approved': WithdrawalParams,
  'withdrawal.rejected': WithdrawalParams.extend({ reason: z.string() }),
  'withdrawal.cancelled': WithdrawalParams,
  'withdrawal.sent': WithdrawalParams.extend({ txHash: TxHash }),
  'withdrawal.confirmed': WithdrawalParams.extend({ txHash: TxHash }),
  'withdrawal.retrying': WithdrawalParams.extend({ attempt: z.number().int().positive() }),
  'withdrawal.delayed': WithdrawalParams,
  'withdrawal.simulated': WithdrawalParams,
  'withdrawal.voided': WithdrawalParams.extend({ reason: z.string() }),
  'reward.daily_summary': z.object({ amount: Money, date: z.string() }),
  'admin.withdrawal_pending': WithdrawalParams.extend({ userId: Id, destination: z.string() }),
  'admin.payout_dead': WithdrawalParams.extend({ userId: Id, error: z.string() }),
  'admin.payout_review': WithdrawalParams.extend({ userId: Id, reason: z.string() }),
  'admin.withdrawal_simulated': WithdrawalParams.extend({ userId: Id, destination: z.string() }),
  'admin.hot_wallet_low': z.object({ asset: z.string(), balance: z.string(), threshold: z.string() }),
  'deposit.detected': z.object({ amount: Money, txHash: TxHash, confirmations: z.number().int().positive() }),
  'deposit.credited': z.object({ amount: Money, level: z.number().int().min(0) }),
  'deposit.credited_no_level': z.object({ amount: Money, minimum: Money }),
  'referral.commission': z.object({ amount: Money, level: ReferralLevel, fromUserId: Id }),
  'admin.deposit_reorged': z.object({
    depositId: Id,
    userId: Id,
    amount: Money,
    txHash: TxHash,
    blockNumber: BlockNumber,
  }),
  'admin.notification_abandoned': z.object({
    notificationId: z.string(),
    /** "user #<id>" or "chat <telegram id>". */
    recipient: z.string(),
    attempts: z.number().int().positive(),
    error: z.string(),
  }),
  'admin.deposit_restored': z.object({
    depositId: Id,
    userId: Id,
    amount: Money,
    txHash: TxHash,
    blockNumber: BlockNumber,
  }),
};
export type Template = keyof typeof Templates;
export type TemplateParams<T extends Template> = z.input<(typeof Templates)[T]>;
export const TEMPLATES = Object.keys(Templates) as Template[];

/** The names of a template's parameters, in the order its schema declares them. */
export function templateParamNames(template: Template): string[] {
  return Object.keys(Templates[template].shape);
}

/** The names of a template's parameters that are amounts of money. */
export function moneyParams(template: Template): string[] {
  return Object.entries(Templates[template].shape)
    .filter(([, schema]) => (schema as z.ZodType).description === 'money')
    .map(([name]) => name);
}

const NotificationId = z.string().min(1).max(300);

const Recipient = {
  id: NotificationId,
  userId: Id.optional(),
  /** A chat rather than a user (an admin who need not be a registered user). */
  chatId: TelegramId.optional(),
};

/** A request is a template or a content, never both (the other field would be dropped without a word). */
const NotBoth = z.never({ error: 'a notification carries either a template or content, not both' }).optional();

const requestFor = <T extends Template>(template: T) =>
  z.object({ ...Recipient, template: z.literal(template), params: Templates[template], content: NotBoth });

const TemplateRequest = z.discriminatedUnion(
  'template',
  TEMPLATES.map((template) => requestFor(template)) as unknown as [
    ReturnType<typeof requestFor<Template>>,
    ...ReturnType<typeof requestFor<Template>>[],
  ],
);

/**
 * What to do when an attempt's outcome is unknown (a timeout after the request left, a crash before its record):
 * `resend` risks a duplicate (transactional messages: a promise about money or support), `skip` risks a loss
 * (informational messages that the next one supersedes). services/notifier/ambiguity.ts, docs/notifier.md.
 */
export const AmbiguityRule = z.enum(['resend', 'skip']);
export type AmbiguityRule = z.infer<typeof AmbiguityRule>;

/** Any content to one recipient; its producer says what an unknown outcome means (default: send again). */
const ContentRequest = z.object({
  ...Recipient,
  content: MessageContent,
  ambiguity: AmbiguityRule.default('resend'),
  template: NotBoth,
});

/** A union's refusal names the issues of the branch the input meant (content if it has content), not "Invalid input". */
function unionIssues(issue: { input?: unknown; errors?: z.core.$ZodIssue[][] }): string {
  const input = issue.input;
  const meant = input !== null && typeof input === 'object' && 'content' in input && !('template' in input) ? 1 : 0;
  const issues = issue.errors?.[meant] ?? [];
  const text = issues.map((i) => (i.path.length ? `${i.message} (at ${i.path.join('.')})` : i.message)).join('; ');
  return text || 'not a notification request';
}

export const NotificationRequest = z
  .union([TemplateRequest, ContentRequest], { error: (issue) => unionIssues(issue as never) })
  .refine((request) => (request.userId === undefined) !== (request.chatId === undefined), {
    message: 'a notification names exactly one of userId and chatId',
  });
export type NotificationRequest = z.output<typeof NotificationRequest>;
export type TemplateNotificationRequest = Extract<NotificationRequest, { template: string }>;
export type ContentNotificationRequest = Extract<NotificationRequest, { content: unknown }>;

export const isTemplateRequest = (request: NotificationRequest): request is TemplateNotificationRequest =>
  'template' in request;

type RecipientOf = { userId: string; chatId?: never } | { chatId: string; userId?: never };
/** A request a producer builds: typed by its template. */
export type NotificationRequestOf<T extends Template> = {
  id: string;
  template: T;
  params: TemplateParams<T>;
} & RecipientOf;
/** A request of any content a producer builds. */
export type ContentRequestInput = { id: string; content: MessageContent; ambiguity?: AmbiguityRule } & RecipientOf;

const AdminTemplate = z.enum(TEMPLATES.filter((t) => t.startsWith('admin.')) as [Template, ...Template[]]);

export const AdminAlert = z
  // Shorter than a notification id: each admin's notification appends ":admin:<chat id>" to it.
  .object({ id: z.string().min(1).max(270), template: AdminTemplate, params: z.record(z.string(), z.unknown()) })
  .superRefine((alert, ctx) => {
    const parsed = Templates[alert.template].safeParse(alert.params);
    if (!parsed.success)
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['params', ...issue.path] } as never);
  });
export type AdminAlert = z.output<typeof AdminAlert>;

export const NotifierChannels = {
  /** anyone → notifier: send one message to one recipient. */
  notificationRequested: defineChannel('notifications.requested', NotificationRequest),
  /** anyone → notifier: something every admin (ADMIN_TELEGRAM_IDS) must hear of. */
  adminAlert: defineChannel('alerts.raised', AdminAlert),
};

/**
 * What became of a request: `sent`; `duplicate` (sent or settled before); `ambiguous` (an unknown outcome under the
 * `skip` rule: recorded, not sent again); `failed` (parked in failed_notifications for the retry job);
 * `undeliverable` (refused for good: the user blocked the bot, is deactivated or unknown to Telegram, or Telegram
 * rejects the message itself; never retried).
 */
export const DeliveryOutcome = z.enum(['sent', 'duplicate', 'ambiguous', 'failed', 'undeliverable']);
export type DeliveryOutcome = z.infer<typeof DeliveryOutcome>;

/** The largest medium notifier.storeMedia keeps: its base64 must fit one NATS message (1 MiB by default). */
export const STORED_MEDIA_MAX_BYTES = 700_000;
const BASE64_MAX = Math.ceil(STORED_MEDIA_MAX_BYTES / 3) * 4;

export const NotifierActions = {
  /**
   * The same request as the notificationRequested channel, for a caller that wants the outcome: delivered with the
   * same exactly-once log (a request sent both ways, or twice, is sent once).
   */
  send: defineAction('notifier.send', NotificationRequest, z.object({ outcome: DeliveryOutcome })),
  /**
   * Keeps a medium's bytes (deduplicated by content and kind) and answers its mediaId, for MessageContent's
   * {mediaId}: uploaded to Telegram the first time it is sent, by file_id ever after.
   */
  storeMedia: defineAction(
    'notifier.storeMedia',
    z.object({
      kind: MediaKind,
      filename: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[\w .()+-]+$/, 'must be a plain file name (letters, digits, spaces, . _ - + ( ))'),
      mimeType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as image/jpeg'),
      base64: z
        .string()
        .min(4)
        .max(BASE64_MAX, `must encode at most ${STORED_MEDIA_MAX_BYTES} bytes (send larger media by file_id)`)
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64')
        .refine((s) => s.length % 4 === 0, 'must be standard base64 (padded to a multiple of 4)'),
    }),
    z.object({ mediaId: Id, created: z.boolean() }),
  ),
  /** Runs the notification-retry job now, on whichever replica takes it (operators: `call notifier.retryFailed`). */
  retryFailed: defineAction(
    'notifier.retryFailed',
    z.object({}),
    z.object({ due: z.number().int().min(0), sent: z.number().int().min(0) }),
  ),
  /**
   * Sends content to one chat now (an admin's preview of a broadcast), uploading stored media (mediaId) once, and
   * answers the same content with every medium as a Telegram file_id, for sending to many.
   */
  preview: defineAction(
    'notifier.preview',
    z.object({ chatId: TelegramId, content: MessageContent }),
    z.object({ content: MessageContent, messageIds: z.array(z.number().int()) }),
  ),
  /** The notifier's scheduled jobs and their last runs (operators: `call notifier.jobs`). */
  jobs: jobsAction('notifier'),
};
