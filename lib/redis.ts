import { Redis } from 'ioredis';
import { serviceLogger } from './logger';

/** ioredis reconnects by itself; the listener keeps an outage to one warning per disconnection, not a stack per retry. */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false });
  const log = serviceLogger('redis');
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    log.warn({ err: error }, 'Redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (reported) log.info('Redis connection restored');
    reported = false;
  });
  return redis;
}

export type { Redis };
