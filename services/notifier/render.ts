import { moneyParams, templateParamNames, type Template, type TemplateNotificationRequest } from '../../lib/contracts';
import { t, type Params } from '../../lib/i18n';
import { displayAmount } from '../../lib/money';
import type { Addressee } from './deliver';

export interface RenderOptions {
  /** USDT decimals: amounts of money are shown in USDT. */
  decimals: number;
  /** BSC_EXPLORER_URL, without a trailing slash. */
  explorerUrl: string;
}

/** Templates whose transaction the reader may want to open: they get `txUrl` beside `txHash`. */
const EXPLORER_LINKED: ReadonlySet<Template> = new Set(['withdrawal.sent', 'withdrawal.confirmed']);

export const transactionUrl = (explorerUrl: string, txHash: string): string => `${explorerUrl}/tx/${txHash}`;

/**
 * The parameters t() gets for a template: its own, except internal ids replaced by what a reader can use
 * (fromUserId → fromName), plus the explorer link of a transaction where the template shows one.
 */
export function renderedParamNames(template: Template): string[] {
  const names = templateParamNames(template);
  const rendered = names.filter((name) => name !== 'fromUserId');
  if (names.includes('fromUserId')) rendered.push('fromName');
  if (EXPLORER_LINKED.has(template)) rendered.push('txUrl');
  return rendered.sort();
}

/**
 * Turns a request into the text its recipient reads, in the recipient's language; amounts of money in USDT. Every
 * parameter is HTML-escaped by t() (lib/i18n.ts): a name like "Dave & <Co>" cannot break the message's markup.
 */
export function renderNotification(
  request: TemplateNotificationRequest,
  to: Addressee,
  options: RenderOptions,
): string {
  const money = new Set(moneyParams(request.template));
  const params: Params = {};
  for (const [name, value] of Object.entries(request.params as Record<string, string | number>)) {
    params[name] = money.has(name) ? displayAmount(String(value), options.decimals) : value;
  }
  if ('fromUserId' in request.params) {
    params.fromName = to.names.get(request.params.fromUserId) ?? '—';
    delete params.fromUserId;
  }
  if (EXPLORER_LINKED.has(request.template) && 'txHash' in request.params)
    params.txUrl = transactionUrl(options.explorerUrl, request.params.txHash);
  return t(to.languageCode, request.template, params);
}
