import {
  ADMIN_TELEGRAM_IDS,
  defineConfig,
  integer,
  TELEGRAM_API_ROOT,
  TELEGRAM_BOT_TOKEN,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';
import { notifierConfig } from '../notifier/config';

export const broadcasterConfig = defineConfig({
  TELEGRAM_BOT_TOKEN,
  TELEGRAM_API_ROOT,
  // One budget per bot, shared with the notifier (broadcasts take what transactional messages leave).
  TELEGRAM_GLOBAL_RATE: notifierConfig.variables.TELEGRAM_GLOBAL_RATE,
  ADMIN_TELEGRAM_IDS,
  BROADCAST_PAID_RATE: {
    description:
      'Messages per second of paid broadcasts (allow_paid_broadcast, billed in Stars, up to 1000); 0 turns paid broadcasts off',
    default: '0',
    parse: integer(0, 1000),
  },
  BROADCAST_CONCURRENCY: {
    description:
      'Requests one broadcaster replica keeps in flight (also the most recipients a crash can leave ambiguous)',
    default: '20',
    parse: integer(1, 1000),
  },
  BROADCAST_REQUEST_TIMEOUT_MS: {
    description: 'How long a broadcast request may go unanswered before its outcome is taken as unknown (never resent)',
    default: '30000',
    parse: integer(100, 600000),
  },
});
export type BroadcasterConfig = CommonConfig & ConfigOf<typeof broadcasterConfig.variables>;
