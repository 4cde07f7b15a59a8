// Which Moleculer services each deployable unit runs (`SERVICES=ledger,notifier npm start`).
import { apiGatewayService } from '../gateway/api.service';
import type { ServiceFactory } from '../lib/runtime';
import { botGatewayService } from './bot-gateway/bot-gateway.service';
import { usersService } from './bot-gateway/users.service';
import { chainMonitorService } from './chain-monitor/chain-monitor.service';
import { ledgerService } from './ledger/ledger.service';
import { notifierService } from './notifier/notifier.service';

export const SERVICE_GROUPS = {
  users: [usersService],
  // The bot cannot work without users, so the bot's group brings it (a process with both runs it once).
  'bot-gateway': [usersService, botGatewayService],
  ledger: [ledgerService],
  'chain-monitor': [chainMonitorService],
  notifier: [notifierService],
  gateway: [apiGatewayService],
} satisfies Record<string, ServiceFactory[]>;

export type ServiceGroup = keyof typeof SERVICE_GROUPS;

/** Parses SERVICES ("" = all); an unknown name is an error that names the known ones. */
export function selectServices(list: string): { groups: ServiceGroup[]; factories: ServiceFactory[] } {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = Object.keys(SERVICE_GROUPS) as ServiceGroup[];
  const unknown = names.filter((n) => !known.includes(n as ServiceGroup));
  if (unknown.length)
    throw new Error(`SERVICES names unknown service(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const groups = names.length ? (names as ServiceGroup[]) : known;
  return { groups, factories: [...new Set(groups.flatMap((g) => SERVICE_GROUPS[g]))] };
}
