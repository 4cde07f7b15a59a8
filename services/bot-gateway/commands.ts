// The bot's commands. Anything else that starts with "/" is a user's text like any other: it may even be a password.

export const USER_COMMANDS = [
  'start',
  'help',
  'wallet',
  'deposit',
  'balance',
  'withdraw',
  'withdrawals',
  'referrals',
] as const;
export const ADMIN_COMMANDS = [
  'pending',
  'approve',
  'reject',
  'void',
  'retry',
  'user',
  'unreachable',
  'broadcast',
  'broadcasts',
] as const;
export type AdminCommand = (typeof ADMIN_COMMANDS)[number];

/** The command a text starts with ("/withdraw 25", "/withdraw@bot"), if it is one of the bot's. */
export function commandOf(text: string): string | undefined {
  const name = /^\/([a-z]+)(?:@\w+)?(?:\s|$)/.exec(text)?.[1];
  return name !== undefined && ([...USER_COMMANDS, ...ADMIN_COMMANDS] as string[]).includes(name) ? name : undefined;
}

/** Whether a text is one of the bot's commands for this sender (an admin command only for an admin). */
export function isCommandFor(text: string, isAdmin: boolean): boolean {
  const name = commandOf(text);
  return name !== undefined && (isAdmin || (USER_COMMANDS as readonly string[]).includes(name));
}
