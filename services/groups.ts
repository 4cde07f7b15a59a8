// The service groups a process can run (`SERVICES=ledger,notifier npm start`) and how to load each group's code
// only when a process runs it: a broadcaster-only process never loads ethers' providers, the chain code, payout or
// the API gateway. Nothing here imports a service; services/index.ts is the eager view of the same groups.
import { common, loadVariables } from '../lib/config';
import type { NodeConfig, ServiceDefinition } from '../lib/runtime';

export const GROUP_NAMES = [
  'users',
  'bot-gateway',
  'ledger',
  'chain-monitor',
  'notifier',
  'payout',
  'broadcaster',
  'gateway',
] as const;
export type ServiceGroup = (typeof GROUP_NAMES)[number];

const LOADERS: Record<ServiceGroup, () => Promise<ServiceDefinition[]>> = {
  users: async () => [(await import('./users/users.service')).usersService],
  // The bot cannot work without users, so the bot's group brings it (a process with both runs it once).
  'bot-gateway': async () => [
    (await import('./users/users.service')).usersService,
    (await import('./bot-gateway/bot-gateway.service')).botGatewayService,
  ],
  ledger: async () => [(await import('./ledger/ledger.service')).ledgerService],
  'chain-monitor': async () => [(await import('./chain-monitor/chain-monitor.service')).chainMonitorService],
  notifier: async () => [(await import('./notifier/notifier.service')).notifierService],
  payout: async () => [(await import('./payout/payout.service')).payoutService],
  broadcaster: async () => [(await import('./broadcaster/broadcaster.service')).broadcasterService],
  gateway: async () => [(await import('../gateway/api.service')).apiGatewayService],
};

/** Parses SERVICES ("" = all); an unknown name is an error that names the known ones. */
export function parseGroups(list: string): ServiceGroup[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(GROUP_NAMES as readonly string[]).includes(n));
  if (unknown.length)
    throw new Error(`SERVICES names unknown service(s) ${unknown.join(', ')}; known: ${GROUP_NAMES.join(', ')}`);
  return names.length ? (names as ServiceGroup[]) : [...GROUP_NAMES];
}

/** The services of `groups`, each once, loading only their modules. */
export async function loadGroups(groups: readonly ServiceGroup[]): Promise<ServiceDefinition[]> {
  const loaded = await Promise.all(groups.map((g) => LOADERS[g]()));
  return [...new Set(loaded.flat())];
}

/**
 * Validates the configuration of a process running `services`: a ledger-only process needs no bot token and no
 * RPC URL. Throws ConfigError with one line per problem.
 */
export function loadServicesConfig(
  services: readonly ServiceDefinition[],
  env: Record<string, string | undefined> = process.env,
): NodeConfig {
  return loadVariables<typeof common.variables>([common, ...new Set(services.map((s) => s.config))], env);
}
