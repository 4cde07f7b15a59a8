// The local-chain panel's side of the web chat: the emulator knows nothing of blockchains, so the web chat asks a
// SandboxChain (implemented beside the sandbox, test/support/sandbox-chain.ts) for wallets, deposits and blocks.

/** A web-chat user's sandbox wallet and what it holds. Amounts are decimal strings in whole tokens. */
export interface SandboxWallet {
  address: string;
  usdt: string;
  bnb: string;
}

/** A transaction as the panel's transaction view shows it. */
export interface SandboxTransaction {
  hash: string;
  /** null while it waits in the mempool. */
  block: number | null;
  from: string;
  to: string | null;
  /** The USDT a Transfer log of the test token moved, when it carries one. */
  usdt: { from: string; to: string; amount: string } | null;
  status: 'pending' | 'success' | 'reverted';
  /** head − block + 1 once mined, 0 before. */
  confirmations: number;
}

export interface SandboxChainInfo {
  chainId: number;
  head: number;
  usdtContract: string;
  systemWallet: string;
}

/** What the web chat's chain panel calls. Errors it throws reach the page as their message (HTTP 502). */
export interface SandboxChain {
  info(): Promise<SandboxChainInfo>;
  /** The user's wallet, assigned on first use and the same afterwards. */
  wallet(userId: number): Promise<SandboxWallet>;
  /** Mints test USDT to the user's wallet when it holds less than `amount`, then sends `amount` to the system wallet. */
  deposit(userId: number, amount: string): Promise<{ hash: string }>;
  /** Mines `blocks` empty blocks; returns the new head. */
  mine(blocks: number): Promise<number>;
  /** undefined for a hash the chain does not know. */
  transaction(hash: string): Promise<SandboxTransaction | undefined>;
}
