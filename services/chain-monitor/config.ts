import {
  blockNumber,
  chainAccess,
  defineConfig,
  integer,
  SYSTEM_WALLET_ADDRESS,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';

export const chainMonitorConfig = defineConfig({
  ...chainAccess,
  BSC_START_BLOCK: { description: 'First block to scan when no cursor is stored yet', parse: blockNumber },
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
  SYSTEM_WALLET_ADDRESS,
});
export type ChainMonitorConfig = CommonConfig & ConfigOf<typeof chainMonitorConfig.variables>;
