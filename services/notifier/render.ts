import { moneyParams, type NotificationRequest } from '../../lib/contracts';
import { t, type Params } from '../../lib/i18n';
import { displayAmount } from '../../lib/money';
import type { Addressee } from './deliver';

/** Turns a request into the text its recipient reads, in the recipient's language; amounts of money in USDT. */
export function renderNotification(request: NotificationRequest, to: Addressee, decimals: number): string {
  const money = new Set(moneyParams(request.template));
  const params: Params = {};
  for (const [name, value] of Object.entries(request.params as Record<string, string | number>)) {
    params[name] = money.has(name) ? displayAmount(String(value), decimals) : value;
  }
  if ('fromUserId' in request.params) params.fromName = to.names.get(request.params.fromUserId) ?? '—';
  return t(to.languageCode, request.template, params);
}
