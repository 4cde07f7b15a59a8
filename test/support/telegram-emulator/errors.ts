import type { ApiFailure, ResponseParameters } from './types';

/** A Bot API error answer. Thrown by method handlers; the server turns it into `{ ok: false, ... }`. */
export class BotApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(`${error_code}: ${description}`);
    this.name = 'BotApiError';
  }

  toResponse(): ApiFailure {
    return {
      ok: false,
      error_code: this.error_code,
      description: this.description,
      ...(this.parameters ? { parameters: this.parameters } : {}),
    };
  }
}

// Wording as the real Bot API answers.
export const badRequest = (detail: string): BotApiError => new BotApiError(400, `Bad Request: ${detail}`);
export const forbidden = (detail: string): BotApiError => new BotApiError(403, `Forbidden: ${detail}`);
export const unauthorized = (): BotApiError => new BotApiError(401, 'Unauthorized');
export const notFound = (): BotApiError => new BotApiError(404, 'Not Found');
export const conflict = (detail: string): BotApiError => new BotApiError(409, `Conflict: ${detail}`);
export const tooManyRequests = (retryAfter: number): BotApiError =>
  new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

/** Telegram's description for an injected failure that did not specify one. */
export function defaultDescription(code: number, retryAfter?: number): string {
  switch (code) {
    case 400:
      return 'Bad Request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden: bot was blocked by the user';
    case 404:
      return 'Not Found';
    case 409:
      return 'Conflict';
    case 429:
      return `Too Many Requests: retry after ${retryAfter ?? 1}`;
    case 500:
      return 'Internal Server Error';
    case 502:
      return 'Bad Gateway';
    default:
      return code >= 500 ? 'Internal Server Error' : 'Error';
  }
}
