// Redis keys of the bot gateway. Prefixed with NAMESPACE, like the NATS subjects, so installations (and test
// runs) that share one Redis never see each other's bans, sessions or update ids.

export interface GatewayKeys {
  /**
   * Set once per Telegram update_id of this bot: the first replica to set it handles the update. Update ids are a
   * bot's own sequence, so another bot (a changed token) on the same namespace must not meet these claims.
   */
  update(updateId: number): string;
  /** Present while the Telegram user is banned (mirror of users.is_banned). */
  ban(telegramId: string | number): string;
  /** The version of the last ban change the mirror applied for this user (kept after an unban). */
  banVersion(telegramId: string | number): string;
  /** Update counter of one user in one fixed rate-limit window. */
  rate(telegramId: string | number, window: number): string;
  /** Present for a few minutes after the user's activity was reported to users (activity.ts says what it holds). */
  seen(telegramId: string | number): string;
  /** Present once an album's first item was counted by the rate limit (the album counts as one update). */
  rateAlbum(telegramId: string | number, mediaGroupId: string): string;
  /** The user's small dialog state (JSON). */
  session(telegramId: string | number): string;
  /** How one withdrawal dialog ended: the first of its Confirm and Cancel presses. */
  dialogOutcome(telegramId: string | number, dialogId: string): string;
  /** The album items an admin sent in one broadcast dialog (hash: message_id → item). */
  broadcastAlbum(telegramId: string | number, dialogId: string): string;
  /** Set once the admin was told an album of this dialog is being collected (one notice per album). */
  broadcastAlbumNotice(telegramId: string | number, dialogId: string, mediaGroupId: string): string;
}

/** The bot's user id: the part of its token before the colon. */
export const botIdOf = (token: string): string => token.split(':')[0]!;

export function gatewayKeys(namespace: string, botToken: string): GatewayKeys {
  const bot = botIdOf(botToken);
  return {
    update: (updateId) => `${namespace}:tg:${bot}:update:${updateId}`,
    ban: (telegramId) => `${namespace}:ban:${telegramId}`,
    banVersion: (telegramId) => `${namespace}:ban-version:${telegramId}`,
    rate: (telegramId, window) => `${namespace}:rl:${telegramId}:${window}`,
    seen: (telegramId) => `${namespace}:seen:${telegramId}`,
    rateAlbum: (telegramId, mediaGroupId) => `${namespace}:rl-album:${telegramId}:${mediaGroupId}`,
    session: (telegramId) => `${namespace}:session:${telegramId}`,
    dialogOutcome: (telegramId, dialogId) => `${namespace}:withdraw-dialog:${telegramId}:${dialogId}`,
    broadcastAlbum: (telegramId, dialogId) => `${namespace}:broadcast-album:${telegramId}:${dialogId}`,
    broadcastAlbumNotice: (telegramId, dialogId, mediaGroupId) =>
      `${namespace}:broadcast-album-notice:${telegramId}:${dialogId}:${mediaGroupId}`,
  };
}
