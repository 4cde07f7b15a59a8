// Files and media messages: uploads kept in memory under Telegram-shaped file ids, InputFile resolution (a new
// upload, an `attach://` part, a known file_id or an http(s) URL), each media kind's Message field, captions and
// sendMediaGroup's rules (https://core.telegram.org/bots/api#sending-files).
import { randomBytes } from 'node:crypto';
import { badRequest } from './errors';
import { formatParam } from './formatting';
import { UploadedFile, type Params } from './params';
import type { File, MediaKind, Message, MessageEntity, ParseMode, UploadRecord } from './types';

export const MEDIA_KINDS: readonly MediaKind[] = ['photo', 'document', 'video', 'audio', 'voice'];
export const MAX_CAPTION_LENGTH = 1024;
const GROUP_MIN = 2;
const GROUP_MAX = 10;

/** Per kind: Telegram's file_id prefix (the real ids encode the type; only their look matters here), file_path folder. */
const KIND_FILES: Record<MediaKind, { idPrefix: string; folder: string }> = {
  photo: { idPrefix: 'AgAC', folder: 'photos' },
  document: { idPrefix: 'BQAC', folder: 'documents' },
  video: { idPrefix: 'BAAC', folder: 'videos' },
  audio: { idPrefix: 'CQAC', folder: 'music' },
  voice: { idPrefix: 'AwAC', folder: 'voice' },
};
/** A photo's size is not decoded from its bytes: every photo reports this one size. */
const PHOTO_SIZE = { width: 1280, height: 720 };

export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  kind: MediaKind;
  bytes: Buffer;
  mimeType?: string;
  fileName?: string;
  filePath: string;
  /** Set for a file sent by URL: the emulator does not download it, so it has no bytes. */
  url?: string;
  /** The file part it came from, until commit ties that upload's record to the file_id. */
  sourceUpload?: UploadedFile;
}

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private readonly uploadLog: UploadRecord[] = [];
  private readonly uploadRecords = new WeakMap<UploadedFile, UploadRecord>();
  private counter = 0;

  /** Logs every file part of a request as it arrives, whether or not the call then succeeds. */
  noteUploads(method: string, raw: Record<string, unknown>): void {
    for (const value of Object.values(raw)) {
      if (!(value instanceof UploadedFile)) continue;
      const record: UploadRecord = {
        method,
        field: value.field,
        filename: value.filename,
        mime_type: value.mimeType,
        size: value.bytes.length,
        at: Date.now(),
      };
      this.uploadLog.push(record);
      this.uploadRecords.set(value, record);
    }
  }

  uploads(): UploadRecord[] {
    return this.uploadLog.map((u) => ({ ...u }));
  }

  get(fileId: string): StoredFile | undefined {
    return this.files.get(fileId);
  }

  atPath(filePath: string): StoredFile | undefined {
    return this.byPath.get(filePath);
  }

  /**
   * The file an InputFile parameter names, without storing a new one yet (call commit once the send succeeded):
   * a file part, `attach://<part>`, a file_id the emulator issued (of the same kind), or an http(s) URL.
   */
  resolve(value: unknown, kind: MediaKind, raw: Record<string, unknown>): StoredFile {
    if (typeof value === 'string' && value.startsWith('attach://')) {
      const part = raw[value.slice('attach://'.length)];
      if (!(part instanceof UploadedFile)) throw badRequest(`file of type ${kind} not found: ${value}`);
      value = part;
    }
    if (value instanceof UploadedFile) return this.fromUpload(value, kind);
    if (typeof value !== 'string' || value === '') throw badRequest(`there is no ${kind} in the request`);
    const known = this.files.get(value);
    if (known) {
      if (known.kind !== kind) throw badRequest('type of file mismatch');
      return known;
    }
    if (/^https?:\/\//i.test(value)) return this.newFile(kind, Buffer.alloc(0), { url: value });
    throw badRequest('wrong file identifier/HTTP URL specified');
  }

  /** Stores newly uploaded files (known ones are already stored) and ties their upload records to the file_id. */
  commit(files: StoredFile[]): void {
    for (const file of files) {
      if (this.files.has(file.fileId)) continue;
      this.files.set(file.fileId, file);
      this.byPath.set(file.filePath, file);
      const record = file.sourceUpload && this.uploadRecords.get(file.sourceUpload);
      if (record) record.file_id = file.fileId;
      delete file.sourceUpload;
    }
  }

  /** Stores a file that did not come through the Bot API (one a simulated user sends). */
  add(kind: MediaKind, bytes: Buffer, meta: Pick<StoredFile, 'fileName' | 'mimeType'>): StoredFile {
    const file = this.newFile(kind, bytes, meta);
    this.commit([file]);
    return file;
  }

  /** getFile's answer. */
  describe(fileId: string | undefined): File {
    const file = fileId === undefined ? undefined : this.files.get(fileId);
    if (!file) throw badRequest('invalid file_id');
    return { ...fileBase(file), file_path: file.filePath };
  }

  private fromUpload(upload: UploadedFile, kind: MediaKind): StoredFile {
    const file = this.newFile(kind, upload.bytes, { mimeType: upload.mimeType, fileName: upload.filename });
    file.sourceUpload = upload;
    return file;
  }

  private newFile(kind: MediaKind, bytes: Buffer, extra: Partial<StoredFile>): StoredFile {
    this.counter += 1;
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(extra.fileName ?? '')?.[1] ?? (kind === 'photo' ? 'jpg' : 'bin');
    return {
      fileId: `${KIND_FILES[kind].idPrefix}AgAD${randomBytes(24).toString('base64url')}`,
      fileUniqueId: `AQAD${randomBytes(9).toString('base64url')}`,
      kind,
      bytes,
      filePath: `${KIND_FILES[kind].folder}/file_${this.counter}.${extension}`,
      ...extra,
    };
  }
}

function fileBase(file: StoredFile): { file_id: string; file_unique_id: string; file_size?: number } {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    ...(file.url === undefined ? { file_size: file.bytes.length } : {}),
  };
}

/** The Message field a media kind fills, as Telegram's Message object carries it. */
export function mediaField(file: StoredFile, p: Params | undefined): Partial<Message> {
  const base = fileBase(file);
  const named = {
    ...(file.fileName !== undefined ? { file_name: file.fileName } : {}),
    ...(file.mimeType !== undefined ? { mime_type: file.mimeType } : {}),
  };
  const duration = p?.integer('duration') ?? 0;
  switch (file.kind) {
    case 'photo':
      return { photo: [{ ...base, ...PHOTO_SIZE }] };
    case 'document':
      return { document: { ...base, ...named } };
    case 'video':
      return {
        video: { ...base, width: p?.integer('width') ?? 0, height: p?.integer('height') ?? 0, duration, ...named },
      };
    case 'audio': {
      const performer = p?.string('performer');
      const title = p?.string('title');
      return {
        audio: {
          ...base,
          duration,
          ...(performer !== undefined ? { performer } : {}),
          ...(title !== undefined ? { title } : {}),
          ...named,
        },
      };
    }
    case 'voice':
      return { voice: { ...base, duration, ...(file.mimeType !== undefined ? { mime_type: file.mimeType } : {}) } };
  }
}

/** The media a message carries: its kind and file (a photo's largest size), or undefined for a text message. */
export function mediaOf(message: Message): { kind: MediaKind; file_id: string; file_unique_id: string } | undefined {
  for (const kind of MEDIA_KINDS) {
    const value = message[kind];
    const file = Array.isArray(value) ? value[value.length - 1] : value;
    if (file) return { kind, file_id: file.file_id, file_unique_id: file.file_unique_id };
  }
  return undefined;
}

/** A media message's file field, copied (copyMessage), or undefined for a text message. */
export function mediaContent(message: Message): Partial<Message> | undefined {
  const media = mediaOf(message);
  return media ? { [media.kind]: structuredClone(message[media.kind]) } : undefined;
}

export interface Caption {
  caption: string;
  entities: MessageEntity[];
  parseMode: ParseMode | undefined;
  source: string;
}

/** A caption after entity parsing, at most 1,024 characters as Telegram counts; empty means none. */
export function formatCaption(source: string | undefined, mode: string | undefined, explicit: unknown): Caption {
  const { text, entities, parseMode } = formatParam(source ?? '', mode, explicit);
  if (text.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
  return { caption: text, entities, parseMode, source: source ?? '' };
}

/** The Message fields of a caption (none when it is empty). */
export function captionFields(caption: Caption): Partial<Message> {
  if (caption.caption === '') return {};
  return { caption: caption.caption, ...(caption.entities.length > 0 ? { caption_entities: caption.entities } : {}) };
}

export interface GroupItem {
  kind: MediaKind;
  media: unknown;
  caption: Caption;
}

/** sendMediaGroup's `media`: 2–10 InputMedia; documents and audio only with their own kind, no voice. */
export function parseMediaGroup(value: unknown): GroupItem[] {
  if (!Array.isArray(value)) throw badRequest("can't parse media JSON object");
  if (value.length < GROUP_MIN || value.length > GROUP_MAX) throw badRequest('wrong number of media specified');
  const items = value.map((entry: unknown): GroupItem => {
    const item = (entry ?? {}) as Record<string, unknown>;
    const kind = item['type'];
    if (kind !== 'photo' && kind !== 'video' && kind !== 'document' && kind !== 'audio') {
      throw badRequest('unsupported media type in the media group');
    }
    const caption = formatCaption(
      typeof item['caption'] === 'string' ? item['caption'] : undefined,
      typeof item['parse_mode'] === 'string' ? item['parse_mode'] : undefined,
      item['caption_entities'],
    );
    return { kind, media: item['media'], caption };
  });
  for (const own of ['document', 'audio'] as const) {
    if (items.some((i) => i.kind === own) && items.some((i) => i.kind !== own)) {
      throw badRequest(`${own} can't be mixed with other media types`);
    }
  }
  return items;
}
