import { idRule } from '../../lib/validate';

export const notificationRequestSchema = {
  id: { type: 'string', min: 1, max: 300 },
  userId: idRule,
  template: { type: 'string', pattern: /^[a-z_]+(\.[a-z_]+)+$/ },
  params: { type: 'object', optional: true, default: {} },
} as const;

/** One message to one user; `id` is the natural key that makes redelivery harmless. */
export interface NotificationRequest {
  id: string;
  userId: string;
  template: string;
  params: Record<string, string | number>;
}

export interface Contact {
  userId: string;
  telegramId: string;
  languageCode: string | null;
  firstName: string | null;
}
