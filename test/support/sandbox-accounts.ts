// Who pays and who administers in the sandbox (`npm run dev`, `npm run screenshots`): Anvil's dev account 5 of its
// well-known test mnemonic as the hot wallet (a key for the local chain only) and one simulated Telegram user as the
// admin, so payouts are real on the local chain (DRY_RUN=false).
import { readFileSync } from 'node:fs';
import type { TestSystem } from './system';
import { attachTestUsdt, parseUsdt } from './usdt';

export const SANDBOX_HOT_WALLET = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
const SANDBOX_HOT_WALLET_KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba';
/** The sandbox's admin: a simulated Telegram user of the emulator, the one id in ADMIN_TELEGRAM_IDS. */
export const SANDBOX_ADMIN_ID = 700_000_001;

/** The variables that make the sandbox pay out from the hot wallet and know its admin. */
export function sandboxEnv(): Record<string, string> {
  return {
    DRY_RUN: 'false',
    PAYOUT_WALLET_ADDRESS: SANDBOX_HOT_WALLET,
    PAYOUT_WALLET_PRIVATE_KEY: SANDBOX_HOT_WALLET_KEY,
    PAYOUT_MIN_GAS_PRICE_GWEI: '1',
    PAYOUT_LOW_USDT: '100',
    ADMIN_TELEGRAM_IDS: String(SANDBOX_ADMIN_ID),
  };
}

/** Gives the hot wallet test USDT to pay withdrawals with. */
export async function fundHotWallet(system: Pick<TestSystem, 'usdtAddress' | 'anvil'>): Promise<void> {
  const usdt = attachTestUsdt(system.usdtAddress, system.anvil.wallet(0));
  await (await usdt.mint(SANDBOX_HOT_WALLET, parseUsdt('100000'))).wait();
}

/** The picture the sandbox's admin broadcasts (a real PNG, so the web chat shows it): sandbox-banner.png. */
export function sandboxBanner(): Buffer {
  return readFileSync(new URL('./sandbox-banner.png', import.meta.url));
}
