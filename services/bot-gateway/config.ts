import {
  ADMIN_TELEGRAM_IDS,
  defineConfig,
  integer,
  optional,
  TELEGRAM_API_ROOT,
  TELEGRAM_BOT_TOKEN,
  url,
  USDT_DECIMALS,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';

const webhookSecret = optional((raw: string) => {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(raw)) throw new Error('must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
  return raw;
});

export const botGatewayConfig = defineConfig(
  {
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_API_ROOT,
    TELEGRAM_WEBHOOK_DOMAIN: {
      description: 'Public HTTPS base URL of the HTTP gateway; webhook mode when set, long polling otherwise',
      default: '',
      parse: optional(url('https:', 'http:')),
    },
    TELEGRAM_WEBHOOK_SECRET: {
      description: 'Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (required in webhook mode)',
      default: '',
      parse: webhookSecret,
      secret: true,
    },
    RATE_LIMIT_WINDOW_MS: { description: 'Per-user rate-limit window', default: '60000', parse: integer(1000) },
    RATE_LIMIT_MAX_REQUESTS: { description: 'Updates a user may send per window', default: '20', parse: integer(1) },
    // Who may use the admin commands.
    ADMIN_TELEGRAM_IDS,
    // Amounts on the bot's screens.
    USDT_DECIMALS,
  },
  (config) =>
    config.TELEGRAM_WEBHOOK_DOMAIN && !config.TELEGRAM_WEBHOOK_SECRET
      ? ['TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_DOMAIN is set (webhook mode)']
      : [],
);
export type BotGatewayConfig = CommonConfig & ConfigOf<typeof botGatewayConfig.variables>;
