import {
  ADMIN_TELEGRAM_IDS,
  defineConfig,
  integer,
  TELEGRAM_API_ROOT,
  TELEGRAM_BOT_TOKEN,
  url,
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
  TELEGRAM_GLOBAL_RATE: {
    description: "Messages per second the bot may send, across every replica (Telegram's free limit: 30)",
    default: '30',
    parse: integer(1, 1000),
  },
  ADMIN_TELEGRAM_IDS,
  BSC_EXPLORER_URL: {
    description: 'Block explorer base URL: withdrawal messages link to <url>/tx/<hash>',
    default: 'https://bscscan.com',
    parse: url('https:', 'http:'),
  },
  // Amounts in messages.
  USDT_DECIMALS,
});
export type NotifierConfig = CommonConfig & ConfigOf<typeof notifierConfig.variables>;
