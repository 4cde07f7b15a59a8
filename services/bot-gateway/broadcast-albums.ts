// An album reaches the bot as one update per item, sharing a media_group_id, with no marker for the last one; with
// webhook replicas (or one long-polling batch) the items are handled side by side. So each item is added to a
// Redis hash on its own (no read-modify-write of the session), and the admin presses Done once every item shows:
// a quiet-moment timer cannot tell "no more items" from "items not fetched yet" while a polling handler waits, and
// it would run outside the update (and the session) that owns the dialog.
import type { Redis } from '../../lib/redis';
import type { MediaPart } from './broadcast-compose';
import type { GatewayKeys } from './redis-keys';
import { SESSION_TTL_SECONDS } from './middleware/session';

interface StoredItem extends MediaPart {
  group: string;
}

export interface AlbumStore {
  /** Adds one item; answers whether it is the first of its album in this dialog (the admin is told once). */
  add(telegramId: number, dialogId: string, messageId: number, group: string, part: MediaPart): Promise<boolean>;
  /** The items of the latest album sent in this dialog, in the order they were sent. */
  latest(telegramId: number, dialogId: string): Promise<MediaPart[]>;
  forget(telegramId: number, dialogId: string): Promise<void>;
}

export function albumStore(redis: Redis, keys: GatewayKeys): AlbumStore {
  return {
    async add(telegramId, dialogId, messageId, group, part) {
      const key = keys.broadcastAlbum(telegramId, dialogId);
      const item: StoredItem = { group, ...part };
      await redis.multi().hset(key, String(messageId), JSON.stringify(item)).expire(key, SESSION_TTL_SECONDS).exec();
      const notice = keys.broadcastAlbumNotice(telegramId, dialogId, group);
      return (await redis.set(notice, '1', 'EX', SESSION_TTL_SECONDS, 'NX')) === 'OK';
    },

    async latest(telegramId, dialogId) {
      const stored = await redis.hgetall(keys.broadcastAlbum(telegramId, dialogId));
      const items = Object.entries(stored)
        .map(([messageId, json]) => ({ messageId: Number(messageId), item: JSON.parse(json) as StoredItem }))
        .sort((a, b) => a.messageId - b.messageId);
      const group = items.at(-1)?.item.group;
      return items
        .filter(({ item }) => item.group === group)
        .map(({ item: { kind, fileId, caption } }) => ({ kind, fileId, ...(caption ? { caption } : {}) }));
    },

    async forget(telegramId, dialogId) {
      await redis.del(keys.broadcastAlbum(telegramId, dialogId));
    },
  };
}
