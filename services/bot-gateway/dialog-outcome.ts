// Confirm and Cancel of one withdrawal dialog may be pressed at once and handled side by side (telegraf handles a
// polling batch concurrently, webhook replicas too): the first press to settle the dialog decides, so Cancel never
// says "nothing was changed" while Confirm requests the withdrawal.
import type { Redis } from '../../lib/redis';

export type DialogOutcome = 'confirmed' | 'cancelled';

/** Longer than any session: a dialog is over long before its outcome is forgotten. */
const OUTCOME_TTL_SECONDS = 24 * 3600;

/** Records `outcome` unless the dialog already has one; answers the outcome that holds. */
export async function settleDialog(redis: Redis, key: string, outcome: DialogOutcome): Promise<DialogOutcome> {
  if ((await redis.set(key, outcome, 'EX', OUTCOME_TTL_SECONDS, 'NX')) === 'OK') return outcome;
  const held = await redis.get(key);
  return held === 'confirmed' || held === 'cancelled' ? held : outcome;
}
