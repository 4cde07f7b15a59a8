// The command list Telegram shows in the "/" menu (setMyCommands), in English and Russian: the user commands for
// everyone, and the user and admin commands in each admin's own chat (scope chat), so only admins see /pending,
// /broadcast… Registered at start-up; a failure is logged and retried later, never fatal (the bot works without it).
import type { Telegram } from 'telegraf';
import type { BotCommand, BotCommandScope } from 'telegraf/types';
import { DEFAULT_LANGUAGE, LANGUAGES, t, type Language } from '../../lib/i18n';
import type { Logger } from '../../lib/logger';
import { ADMIN_COMMANDS, USER_COMMANDS } from './commands';

/** One setMyCommands call: a scope, a language (none: the fallback for every language without its own list). */
export interface CommandListing {
  scope: BotCommandScope;
  language_code?: Language;
  commands: BotCommand[];
}

const listOf = (lang: Language, names: readonly string[]): BotCommand[] =>
  names.map((command) => ({ command, description: t(lang, `command.${command}`) }));

/** Every list to register: default scope, then each admin's chat; English as the fallback, Russian for ru. */
export function commandListings(adminTelegramIds: readonly string[]): CommandListing[] {
  const perLanguage = (scope: BotCommandScope, names: readonly string[]): CommandListing[] =>
    LANGUAGES.map((lang) => ({
      scope,
      ...(lang === DEFAULT_LANGUAGE ? {} : { language_code: lang }),
      commands: listOf(lang, names),
    }));
  return [
    ...perLanguage({ type: 'default' }, USER_COMMANDS),
    ...adminTelegramIds.flatMap((id) =>
      perLanguage({ type: 'chat', chat_id: Number(id) }, [...USER_COMMANDS, ...ADMIN_COMMANDS]),
    ),
  ];
}

export interface CommandRegistration {
  /** Resolves once the first attempt is over (whatever its outcome); later attempts run in the background. */
  readonly firstAttempt: Promise<void>;
  /** Stops retrying (the service stops). */
  stop(): void;
}

const FIRST_RETRY_MS = 30_000;
const LONGEST_RETRY_MS = 10 * 60_000;

/**
 * Sets every listing; the ones that fail (Telegram unreachable, an admin's chat Telegram does not know yet) are
 * tried again after 30 s, doubling up to every 10 min, until they succeed or `stop()`.
 */
export function registerCommands(
  telegram: Pick<Telegram, 'setMyCommands'>,
  adminTelegramIds: readonly string[],
  log: Logger,
  { firstRetryMs = FIRST_RETRY_MS, longestRetryMs = LONGEST_RETRY_MS } = {},
): CommandRegistration {
  let pending = commandListings(adminTelegramIds);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const attempt = async (retryInMs: number): Promise<void> => {
    const failed: CommandListing[] = [];
    let lastError: unknown;
    for (const listing of pending) {
      if (stopped) return;
      try {
        await telegram.setMyCommands(listing.commands, {
          scope: listing.scope,
          ...(listing.language_code ? { language_code: listing.language_code } : {}),
        });
      } catch (error) {
        failed.push(listing);
        lastError = error;
      }
    }
    pending = failed;
    if (failed.length === 0) {
      log.info('command lists registered (setMyCommands)');
      return;
    }
    if (stopped) return;
    log.warn(
      {
        error: lastError instanceof Error ? lastError.message : String(lastError),
        failed: failed.map((l) => `${JSON.stringify(l.scope)}${l.language_code ? ` ${l.language_code}` : ''}`),
        retry_in_ms: retryInMs,
      },
      'could not register the command lists (setMyCommands); the bot works without them, trying again later',
    );
    timer = setTimeout(() => void attempt(Math.min(retryInMs * 2, longestRetryMs)), retryInMs);
    timer.unref();
  };

  return {
    firstAttempt: attempt(firstRetryMs),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
