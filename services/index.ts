// Which Moleculer services each deployable unit runs (`SERVICES=ledger,notifier npm start`), and the configuration a
// process with a given selection must have: the common variables and those of the services it runs.
import { apiGatewayService } from '../gateway/api.service';
import { common, loadVariables, type CommonConfig, type ConfigOf } from '../lib/config';
import type { ServiceDefinition } from '../lib/runtime';
import { apiGatewayConfig } from '../gateway/config';
import { botGatewayService } from './bot-gateway/bot-gateway.service';
import { broadcasterService } from './broadcaster/broadcaster.service';
import { broadcasterConfig } from './broadcaster/config';
import { botGatewayConfig } from './bot-gateway/config';
import { chainMonitorService } from './chain-monitor/chain-monitor.service';
import { chainMonitorConfig } from './chain-monitor/config';
import { ledgerConfig } from './ledger/config';
import { ledgerService } from './ledger/ledger.service';
import { notifierConfig } from './notifier/config';
import { notifierService } from './notifier/notifier.service';
import { payoutConfig } from './payout/config';
import { payoutService } from './payout/payout.service';
import { usersConfig } from './users/config';
import { usersService } from './users/users.service';
import { GROUP_NAMES, loadServicesConfig, parseGroups, type ServiceGroup } from './groups';

export const SERVICE_GROUPS = {
  users: [usersService],
  // The bot cannot work without users, so the bot's group brings it (a process with both runs it once).
  'bot-gateway': [usersService, botGatewayService],
  ledger: [ledgerService],
  'chain-monitor': [chainMonitorService],
  notifier: [notifierService],
  payout: [payoutService],
  broadcaster: [broadcasterService],
  gateway: [apiGatewayService],
} satisfies Record<ServiceGroup, ServiceDefinition[]>;

export type { ServiceGroup };
export const ALL_GROUPS: ServiceGroup[] = [...GROUP_NAMES];

type AllVariables = typeof common.variables &
  typeof usersConfig.variables &
  typeof botGatewayConfig.variables &
  typeof ledgerConfig.variables &
  typeof chainMonitorConfig.variables &
  typeof notifierConfig.variables &
  typeof payoutConfig.variables &
  typeof broadcasterConfig.variables &
  typeof apiGatewayConfig.variables;

/** Every variable of every service (what a process running all of them has). */
export type Config = ConfigOf<AllVariables>;
export type VariableName = keyof AllVariables;

/** Parses SERVICES ("" = all); an unknown name is an error that names the known ones. */
export function selectServices(list: string): { groups: ServiceGroup[]; services: ServiceDefinition[] } {
  const groups = parseGroups(list);
  return { groups, services: [...new Set(groups.flatMap((g) => SERVICE_GROUPS[g]))] };
}

export { loadServicesConfig };

/** The configuration of a process running every service, typed as such (tests, the local sandbox). */
export function loadFullConfig(env: Record<string, string | undefined> = process.env): Config {
  return loadVariables<AllVariables>([common, ...new Set(selectServices('').services.map((s) => s.config))], env);
}

/** Every variable any process may read, by name (`.env.example` documents each one). */
export function allVariables(): AllVariables {
  return {
    ...common.variables,
    ...usersConfig.variables,
    ...botGatewayConfig.variables,
    ...ledgerConfig.variables,
    ...chainMonitorConfig.variables,
    ...notifierConfig.variables,
    ...payoutConfig.variables,
    ...broadcasterConfig.variables,
    ...apiGatewayConfig.variables,
  };
}

export type { CommonConfig };
