import {
  defineConfig,
  integer,
  TELEGRAM_API_ROOT,
  TELEGRAM_BOT_TOKEN,
  telegramIds,
  USDT_DECIMALS,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';

export const notifierConfig = defineConfig({
  TELEGRAM_BOT_TOKEN,
  TELEGRAM_API_ROOT,
  NOTIFICATION_RETRY_INTERVAL_MS: {
    description: 'How often the notification-retry job resends failed notifications',
    default: '300000',
    parse: integer(1000),
  },
  ADMIN_TELEGRAM_IDS: {
    description: 'Telegram user ids of the admins, comma-separated: they receive alerts (a deep reorg, …)',
    default: '',
    parse: telegramIds,
  },
  // Amounts in messages.
  USDT_DECIMALS,
});
export type NotifierConfig = CommonConfig & ConfigOf<typeof notifierConfig.variables>;
