// The start-up checks of a service that reads the chain (chain-monitor, payout): the RPC serves the configured
// chain, and USDT_CONTRACT is a BEP-20 token there. Each failure is one line naming the variable to change.
import { AbiCoder, ZeroAddress, zeroPadValue } from 'ethers';
import { StartupError } from '../startup-errors';
import type { Chain } from './reads';

export interface TokenCheckConfig {
  BSC_CHAIN_ID: number;
  USDT_CONTRACT: string;
  USDT_DECIMALS: number;
}

const DECIMALS = '0x313ce567';
const BALANCE_OF = '0x70a08231';

/** Checks the chain id and the token's code, decimals() and balanceOf(); returns the token's decimals. */
export async function checkChainAndToken(chain: Chain, config: TokenCheckConfig): Promise<number> {
  const reported = await chain.chainId();
  if (reported !== config.BSC_CHAIN_ID)
    throw new StartupError(
      `BSC_CHAIN_ID: the RPC (BSC_RPC_URLS) serves chain id ${reported}, not ${config.BSC_CHAIN_ID}; set BSC_CHAIN_ID=${reported} or point BSC_RPC_URLS at chain ${config.BSC_CHAIN_ID}`,
    );
  const token = config.USDT_CONTRACT;
  const code = await chain.rpc.send<string>('eth_getCode', [token, 'latest']);
  if (!code || code === '0x')
    throw new StartupError(
      `USDT_CONTRACT: there is no contract at ${token} on chain ${reported}; set USDT_CONTRACT to the token's address on this chain`,
    );
  const notAToken = (what: string) =>
    new StartupError(
      `USDT_CONTRACT: the contract at ${token} on chain ${reported} answers no ${what}, so it is not a BEP-20 token; set USDT_CONTRACT to the token's address`,
    );
  const call = async (data: string, type: string, what: string): Promise<bigint> => {
    try {
      const result = await chain.rpc.send<string>('eth_call', [{ to: token, data }, 'latest'], { answered: true });
      return BigInt(AbiCoder.defaultAbiCoder().decode([type], result)[0] as bigint);
    } catch (error) {
      // A revert or an empty answer: the contract has no such function. A failing RPC is not this check's to name.
      if (error instanceof Error && /failed after \d+ attempts/.test(error.message)) throw error;
      throw notAToken(what);
    }
  };
  const decimals = Number(await call(DECIMALS, 'uint8', 'decimals()'));
  await call(`${BALANCE_OF}${zeroPadValue(ZeroAddress, 32).slice(2)}`, 'uint256', 'balanceOf()');
  if (decimals !== config.USDT_DECIMALS)
    throw new StartupError(
      `USDT_DECIMALS: USDT_CONTRACT (${token}) has ${decimals} decimals, but USDT_DECIMALS is ${config.USDT_DECIMALS}; set USDT_DECIMALS=${decimals}`,
    );
  return decimals;
}
