// Bot API request parameters: read from the query string plus a JSON, url-encoded or multipart body, then read
// back with Telegram's lenient typing (numbers and booleans may arrive as strings, objects as JSON strings).
import type { IncomingMessage } from 'node:http';
import { BotApiError, badRequest } from './errors';

const MAX_BODY_BYTES = 50 * 1024 * 1024; // Telegram's upload limit for bots

/** A file part of a multipart request: its bytes stay out of the call record. */
export class UploadedFile {
  constructor(
    /** The form field that carried it (`photo`, or an `attach://` name). */
    readonly field: string,
    readonly filename: string,
    readonly mimeType: string,
    readonly bytes: Buffer,
  ) {}

  /** What the call record shows instead of the bytes. */
  describe(): { upload: string; size: number; mime_type: string } {
    return { upload: this.filename, size: this.bytes.length, mime_type: this.mimeType };
  }
}

export async function readRequestParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const body = await readBody(req);
  if (body.length === 0) return params;

  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType === 'application/json' || contentType === '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('request body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw badRequest('request body must be a JSON object');
    }
    return { ...params, ...(parsed as Record<string, unknown>) };
  }
  if (contentType === 'application/x-www-form-urlencoded') {
    return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
  }
  if (contentType === 'multipart/form-data') {
    return { ...params, ...(await readMultipart(body, req.headers['content-type']!)) };
  }
  throw badRequest(`unsupported Content-Type "${contentType}"`);
}

/** Parsed by undici's FormData (Node's fetch), as a server would receive it. */
async function readMultipart(body: Buffer, contentType: string): Promise<Record<string, unknown>> {
  let form: FormData;
  try {
    form = await new Request('http://emulator.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new Uint8Array(body),
    }).formData();
  } catch {
    throw badRequest('failed to parse multipart/form-data');
  }
  const params: Record<string, unknown> = {};
  for (const [name, value] of form) {
    params[name] =
      typeof value === 'string'
        ? value
        : new UploadedFile(
            name,
            value.name || name,
            value.type || 'application/octet-stream',
            Buffer.from(await value.arrayBuffer()),
          );
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BotApiError(413, 'Request Entity Too Large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Typed, Telegram-lenient access to one call's parameters. Absent means undefined or null. */
export class Params {
  constructor(readonly raw: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  /** A file part of a multipart request, if this parameter is one. */
  upload(name: string): UploadedFile | undefined {
    const value = this.raw[name];
    return value instanceof UploadedFile ? value : undefined;
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw badRequest(`field "${name}" must be of type String`);
  }

  integer(name: string): number | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      throw badRequest(`field "${name}" must be of type Integer`);
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1' || value === 1) return true;
    if (value === 'false' || value === '0' || value === 0) return false;
    throw badRequest(`field "${name}" must be of type Boolean`);
  }

  /** An object or array parameter, accepted either as JSON value or as a JSON-encoded string. */
  json(name: string): unknown {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw badRequest(`can't parse ${name} JSON object`);
    }
  }
}
