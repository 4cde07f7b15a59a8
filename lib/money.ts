// The one place that turns human amounts into token base units and back. Money never touches `number`.

export class AmountError extends Error {}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** Parses a non-negative decimal string ("12.5", "0.05") into base units with `decimals` places. */
export function parseAmount(input: string, decimals: number): bigint {
  const text = input.trim();
  const match = DECIMAL.exec(text);
  if (!match)
    throw new AmountError(`"${input}" is not an amount: use digits with an optional decimal point (no commas)`);
  const whole = match[1]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals) {
    throw new AmountError(`"${input}" has more than ${decimals} decimal places`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** Formats base units as a decimal string, trimming trailing zeros; `maxFraction` rounds down for display. */
export function formatAmount(units: bigint, decimals: number, maxFraction = decimals): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  let fraction = (abs % scale).toString().padStart(decimals, '0').slice(0, maxFraction).replace(/0+$/, '');
  if (fraction) fraction = `.${fraction}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** What users read: base units → "12.5", "0.123456", "10" — at most 6 fraction digits, rounded down. */
export function displayAmount(units: bigint | string, decimals: number): string {
  return formatAmount(fromUnits(units), decimals, Math.min(DISPLAY_FRACTION_DIGITS, decimals));
}

const DISPLAY_FRACTION_DIGITS = 6;

/** A rate such as "0.05" kept exactly as parts per 10^18. */
export const RATE_DECIMALS = 18;
export const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);

export function parseRate(input: string): bigint {
  const rate = parseAmount(input, RATE_DECIMALS);
  if (rate > RATE_SCALE) throw new AmountError(`rate "${input}" is above 1`);
  return rate;
}

/** amount × rate, rounded down to whole base units. */
export function applyRate(amount: bigint, rate: bigint): bigint {
  return (amount * rate) / RATE_SCALE;
}

/** Serialises bigint for JSON messages (channels, actions) without loss. */
export function toUnits(value: bigint): string {
  return value.toString();
}

export function fromUnits(value: string | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (!/^-?\d+$/.test(value)) throw new AmountError(`"${value}" is not a whole number of base units`);
  return BigInt(value);
}
