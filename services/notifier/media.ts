// Stored media (notifier_media): bytes kept once per content and kind, uploaded to Telegram (multipart) the first
// time they are sent and sent by the file_id Telegram answered ever after. The first upload of a medium holds a
// lease in Redis, so concurrent sends (any replica) wait for its file_id instead of uploading the bytes again.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { MediaKind, MediaRef, MessageContent } from '../../lib/contracts';
import { Lease } from '../../lib/lease';
import type { Redis } from '../../lib/redis';
import { RetryLaterError } from '../../lib/telegram-budget';
import type { MediaSource } from '../../lib/telegram-send';

/** A medium that can never be sent as asked (unknown id, another kind): the message is refused, not retried. */
export class MediaRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaRefusedError';
  }
}

export interface StoredMedium {
  id: string;
  kind: MediaKind;
  filename: string;
  fileId: string | null;
}

export class MediaStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Keeps the bytes (once per content and kind) and answers their id; `created` is false for bytes kept before. */
  async store(medium: {
    kind: MediaKind;
    filename: string;
    mimeType: string;
    bytes: Buffer;
  }): Promise<{ mediaId: string; created: boolean }> {
    const sha256 = createHash('sha256').update(medium.bytes).digest('hex');
    const { rows } = await this.pool.query<{ id: string; created: boolean }>(
      `INSERT INTO notifier_media (sha256, kind, filename, mime_type, bytes) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sha256, kind) DO UPDATE SET sha256 = EXCLUDED.sha256
       RETURNING id::text, (xmax = 0) AS created`,
      [sha256, medium.kind, medium.filename, medium.mimeType, medium.bytes],
    );
    return { mediaId: rows[0]!.id, created: rows[0]!.created };
  }

  async medium(id: string): Promise<StoredMedium | undefined> {
    const { rows } = await this.pool.query<{ id: string; kind: MediaKind; filename: string; file_id: string | null }>(
      'SELECT id::text, kind, filename, file_id FROM notifier_media WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row && { id: row.id, kind: row.kind, filename: row.filename, fileId: row.file_id };
  }

  async bytes(id: string): Promise<Buffer> {
    const { rows } = await this.pool.query<{ bytes: Buffer }>('SELECT bytes FROM notifier_media WHERE id = $1', [id]);
    return rows[0]!.bytes;
  }

  /** The first upload's file_id; a later one never replaces it. */
  async recordFileId(id: string, fileId: string): Promise<void> {
    await this.pool.query(
      'UPDATE notifier_media SET file_id = $2, uploaded_at = now() WHERE id = $1 AND file_id IS NULL',
      [id, fileId],
    );
  }
}

export interface MediaUploadOptions {
  /** Keys are `<namespace>:notify:media-upload:<id>`. */
  namespace: string;
  /** How long a send waits for another's first upload of a medium before it is put off (RetryLaterError). */
  maxWaitMs?: number;
}

const UPLOAD_LEASE_MS = 15_000;
const POLL_MS = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The media of one content, in the order sendContent answers their file_ids. */
export function mediaOf(content: MessageContent): MediaRef[] {
  if (content.kind === 'text') return [];
  if (content.kind === 'album') return content.items.map((item) => item.media);
  return [content.media];
}

/** The same content with every medium as the file_id Telegram answered (the preview's answer). */
export function withFileIds(content: MessageContent, fileIds: string[]): MessageContent {
  const ref = (original: MediaRef, i: number): MediaRef => (fileIds[i] ? { fileId: fileIds[i] } : original);
  if (content.kind === 'text') return content;
  if (content.kind === 'album')
    return { ...content, items: content.items.map((item, i) => ({ ...item, media: ref(item.media, i) })) };
  return { ...content, media: ref(content.media, 0) };
}

/**
 * The media resolution of one send: `resolve` answers a file_id where one is known, else takes the medium's upload
 * lease and answers its bytes; `finish` records the file_ids Telegram answered for the uploads and releases the
 * leases (call it in a finally, with the answer when there is one).
 */
export class MediaUploads {
  private readonly held = new Map<string, Lease>();

  constructor(
    private readonly store: MediaStore,
    private readonly redis: Redis,
    private readonly options: MediaUploadOptions,
  ) {}

  async resolve(ref: MediaRef, kind: MediaKind): Promise<MediaSource> {
    if ('fileId' in ref) return ref.fileId;
    const id = ref.mediaId;
    const deadline = Date.now() + (this.options.maxWaitMs ?? 30_000);
    for (;;) {
      const medium = await this.store.medium(id);
      if (!medium) throw new MediaRefusedError(`no stored medium #${id}`);
      if (medium.kind !== kind) throw new MediaRefusedError(`stored medium #${id} is a ${medium.kind}, not a ${kind}`);
      if (medium.fileId) return medium.fileId;
      // The same medium twice in one album: this send uploads it (both items carry the bytes).
      if (!this.held.has(id)) {
        const lease = await Lease.acquire(this.redis, `${this.options.namespace}:notify:media-upload:${id}`, {
          ttlMs: UPLOAD_LEASE_MS,
        });
        if (lease) {
          // The previous holder may have recorded its file_id between our read and its release.
          const again = await this.store.medium(id);
          if (again?.fileId) {
            await lease.release();
            return again.fileId;
          }
          this.held.set(id, lease);
        }
      }
      if (this.held.has(id)) return { source: await this.store.bytes(id), filename: medium.filename };
      if (Date.now() >= deadline) throw new RetryLaterError(5_000);
      await sleep(POLL_MS);
    }
  }

  async finish(content: MessageContent, fileIds: string[] | undefined): Promise<void> {
    try {
      if (fileIds) {
        for (const [i, ref] of mediaOf(content).entries()) {
          const fileId = fileIds[i];
          if ('mediaId' in ref && this.held.has(ref.mediaId) && fileId)
            await this.store.recordFileId(ref.mediaId, fileId);
        }
      }
    } finally {
      for (const lease of this.held.values()) await lease.release();
      this.held.clear();
    }
  }
}
