import { t, type Params } from '../../lib/i18n';
import { displayAmount } from '../../lib/money';
import type { Addressee } from './deliver';
import type { NotificationRequest } from './schemas';

/** Parameters that carry base units and are shown as USDT. */
const MONEY_PARAMS = new Set(['amount', 'minimum']);

/** Turns a request into the text its recipient reads, in the recipient's language. */
export function renderNotification(request: NotificationRequest, to: Addressee, decimals: number): string {
  const params: Params = {};
  for (const [name, value] of Object.entries(request.params)) {
    params[name] = MONEY_PARAMS.has(name) ? displayAmount(String(value), decimals) : value;
  }
  if (request.params.fromUserId !== undefined) params.fromName = to.names.get(String(request.params.fromUserId)) ?? '—';
  return t(to.languageCode, request.template, params);
}
