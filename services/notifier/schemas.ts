import { Errors } from 'moleculer';
import { idRule } from '../../lib/validate';

const telegramIdRule = { type: 'string', pattern: /^\d{1,19}$/ } as const;
const templateRule = { type: 'string', pattern: /^[a-z_]+(\.[a-z_]+)+$/ } as const;

export const notificationRequestSchema = {
  id: { type: 'string', min: 1, max: 300 },
  userId: { ...idRule, optional: true },
  chatId: { ...telegramIdRule, optional: true },
  template: templateRule,
  params: { type: 'object', optional: true, default: {} },
} as const;

/** A user by id (the notifier looks up their chat and language), or a chat by id (admins). */
export type Recipient = { userId: string } | { chatId: string };

/** One message to one recipient; `id` is the natural key that makes redelivery harmless. */
export type NotificationRequest = Recipient & {
  id: string;
  template: string;
  params: Record<string, string | number>;
};

/** As it travels: exactly one of userId and chatId. */
export interface NotificationRequestMessage {
  id: string;
  userId?: string;
  chatId?: string;
  template: string;
  params: Record<string, string | number>;
}

export function toNotificationRequest(message: NotificationRequestMessage): NotificationRequest {
  const { userId, chatId, ...rest } = message;
  if ((userId === undefined) === (chatId === undefined)) {
    throw new Errors.ValidationError('a notification names exactly one of userId and chatId', 'VALIDATION_ERROR', {
      id: message.id,
    });
  }
  return userId !== undefined ? { ...rest, userId } : { ...rest, chatId: chatId! };
}

/** Something admins must hear of (a deep reorg, a dead-lettered payout); sent to every ADMIN_TELEGRAM_IDS chat. */
export const adminAlertSchema = {
  id: { type: 'string', min: 1, max: 300 },
  template: templateRule,
  params: { type: 'object', optional: true, default: {} },
} as const;

export interface AdminAlert {
  id: string;
  template: string;
  params: Record<string, string | number>;
}

export interface Contact {
  userId: string;
  telegramId: string;
  languageCode: string | null;
  firstName: string | null;
}
