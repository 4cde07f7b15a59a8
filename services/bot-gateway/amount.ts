// What a user types as a withdrawal amount ("25", "12.5", "10 USDT") → base units, or why it is not one. Only the
// shape is judged here; the ledger judges the minimum, the balance and the limits (ledger.quoteWithdrawal).
import { AmountError, parseAmount } from '../../lib/money';

export type AmountProblem = 'format' | 'comma' | 'decimals' | 'zero';
export type AmountInput = { ok: true; units: bigint } | { ok: false; problem: AmountProblem };

/** Longer than any balance could be: refused before it becomes a number. */
const MAX_LENGTH = 40;

export function parseWithdrawalAmount(text: string, decimals: number): AmountInput {
  const input = text
    .trim()
    .replace(/\s*usdt$/i, '')
    .trim();
  if (input === '' || input.length > MAX_LENGTH) return { ok: false, problem: 'format' };
  // "1,000" and "1,5" mean different things to different readers: money is never guessed.
  if (/^[\d.,\s]+$/.test(input) && input.includes(',')) return { ok: false, problem: 'comma' };
  if (!/^\d+(\.\d+)?$/.test(input)) return { ok: false, problem: 'format' };
  let units: bigint;
  try {
    units = parseAmount(input, decimals);
  } catch (error) {
    if (error instanceof AmountError) return { ok: false, problem: 'decimals' };
    throw error;
  }
  return units > 0n ? { ok: true, units } : { ok: false, problem: 'zero' };
}
