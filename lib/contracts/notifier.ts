// The notifier's contracts: one message to one recipient (its parameters typed per template), alerts for every
// admin, the retry job's action and its jobs.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { jobsAction } from './jobs';
import { MessageContent } from './message';
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

const requestFor = <T extends Template>(template: T) =>
  z.object({
    id: NotificationId,
    userId: Id.optional(),
    /** A chat rather than a user (an admin who need not be a registered user). */
    chatId: TelegramId.optional(),
    template: z.literal(template),
    params: Templates[template],
  });

export const NotificationRequest = z
  .discriminatedUnion(
    'template',
    TEMPLATES.map((template) => requestFor(template)) as unknown as [
      ReturnType<typeof requestFor<Template>>,
      ...ReturnType<typeof requestFor<Template>>[],
    ],
  )
  .refine((request) => (request.userId === undefined) !== (request.chatId === undefined), {
    message: 'a notification names exactly one of userId and chatId',
  });
export type NotificationRequest = z.output<typeof NotificationRequest>;

/** A request a producer builds: typed by its template. */
export type NotificationRequestOf<T extends Template> = { id: string; template: T; params: TemplateParams<T> } & (
  { userId: string; chatId?: never } | { chatId: string; userId?: never }
);

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

export const NotifierActions = {
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
