import type { Redis } from '../../lib/redis';

/** Removes every key a test namespace left in the shared Redis (job schedules keep theirs for good). */
export async function deleteNamespaceKeys(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
