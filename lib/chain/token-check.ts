// The start-up checks of a service that reads the chain (chain-monitor, payout): the RPC serves the configured
// chain, and USDT_CONTRACT is a BEP-20 token there. Each failure is one line naming the variable to change.
import { ZeroAddress } from 'ethers';
import { StartupError } from '../startup-errors';
import type { Chain } from './reads';
import { RpcUnavailableError } from './rpc';

export interface TokenCheckConfig {
  BSC_CHAIN_ID: number;
  USDT_CONTRACT: string;
  USDT_DECIMALS: number;
}

/** Checks the chain id and the token's code, decimals() and balanceOf(); returns the token's decimals. */
export async function checkChainAndToken(chain: Chain, config: TokenCheckConfig): Promise<number> {
  const reported = await chain.chainId();
  if (reported !== config.BSC_CHAIN_ID)
    throw new StartupError(
      `BSC_CHAIN_ID: the RPC (BSC_RPC_URLS) serves chain id ${reported}, not ${config.BSC_CHAIN_ID}; set BSC_CHAIN_ID=${reported} or point BSC_RPC_URLS at chain ${config.BSC_CHAIN_ID}`,
    );
  const token = config.USDT_CONTRACT;
  const code = await chain.code(token);
  if (!code || code === '0x')
    throw new StartupError(
      `USDT_CONTRACT: there is no contract at ${token} on chain ${reported}; set USDT_CONTRACT to the token's address on this chain`,
    );
  const notAToken = (what: string) =>
    new StartupError(
      `USDT_CONTRACT: the contract at ${token} on chain ${reported} answers no ${what}, so it is not a BEP-20 token; set USDT_CONTRACT to the token's address`,
    );
  // A revert is final here (answered), not retried on every provider.
  const answered = { answered: true };
  const read = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      // A revert or an answer that is no ABI value: the contract has no such function. A failing RPC is not this
      // check's to name.
      if (error instanceof RpcUnavailableError) throw error;
      throw notAToken(what);
    }
  };
  const decimals = await read('decimals()', () => chain.tokenDecimals(token, answered));
  await read('balanceOf()', () => chain.tokenBalance(token, ZeroAddress, 'latest', answered));
  if (decimals !== config.USDT_DECIMALS)
    throw new StartupError(
      `USDT_DECIMALS: USDT_CONTRACT (${token}) has ${decimals} decimals, but USDT_DECIMALS is ${config.USDT_DECIMALS}; set USDT_DECIMALS=${decimals}`,
    );
  return decimals;
}
