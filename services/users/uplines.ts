// The upline tree is stored flattened: a new user gets one `referrals` row per ancestor, level 1 being the
// inviter, level 2 the inviter's inviter, and so on up to MAX_REFERRAL_DEPTH.

import type { Upline } from '../../lib/contracts';

export type UplinePlan = { kind: 'linked'; uplines: Upline[] } | { kind: 'self' } | { kind: 'cycle' };

/**
 * The rows a user gets when `inviterId` (whose own uplines are `inviterUplines`) invites them.
 * Refuses a self-invitation and any invitation that would put the user among their own ancestors.
 */
export function planUplines(
  userId: string,
  inviterId: string,
  inviterUplines: readonly Upline[],
  maxDepth: number,
): UplinePlan {
  if (userId === inviterId) return { kind: 'self' };
  if (inviterUplines.some((upline) => upline.userId === userId)) return { kind: 'cycle' };
  const uplines: Upline[] = [{ level: 1, userId: inviterId }];
  for (const upline of [...inviterUplines].sort((a, b) => a.level - b.level)) {
    if (upline.level + 1 > maxDepth) break;
    uplines.push({ level: upline.level + 1, userId: upline.userId });
  }
  return { kind: 'linked', uplines: uplines.slice(0, maxDepth) };
}
