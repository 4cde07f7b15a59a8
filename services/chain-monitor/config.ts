import {
  address,
  blockNumber,
  boolean,
  defineConfig,
  integer,
  SYSTEM_WALLET_ADDRESS,
  urlList,
  USDT_DECIMALS,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';

export const chainMonitorConfig = defineConfig({
  BSC_RPC_URLS: {
    description: 'BSC JSON-RPC URLs, comma-separated, tried in order',
    parse: urlList('http:', 'https:'),
    secret: true,
  },
  BSC_CHAIN_ID: { description: 'Chain id the RPC must report (56 for BSC mainnet)', default: '56', parse: integer(1) },
  BSC_START_BLOCK: { description: 'First block to scan when no cursor is stored yet', parse: blockNumber },
  BSC_CONFIRMATION_BLOCKS: {
    description: 'Confirmations before a deposit is credited',
    default: '12',
    parse: integer(1, 10_000),
  },
  BSC_USE_FINALIZED: {
    description: "Wait for the chain's finalized tag instead of counting confirmations",
    default: 'false',
    parse: boolean,
  },
  BSC_SCAN_WINDOW_BLOCKS: {
    description: 'Largest eth_getLogs block range (shrinks when a provider refuses)',
    default: '5000',
    parse: integer(1, 1_000_000),
  },
  BSC_POLL_INTERVAL_MS: {
    description: 'How often chain-monitor looks for a new head',
    default: '250',
    parse: integer(10, 600_000),
  },
  USDT_CONTRACT: {
    description: 'USDT (BEP-20) contract address',
    default: '0x55d398326f99059fF775485246999027B3197955',
    parse: address,
  },
  USDT_DECIMALS,
  SYSTEM_WALLET_ADDRESS,
});
export type ChainMonitorConfig = CommonConfig & ConfigOf<typeof chainMonitorConfig.variables>;
