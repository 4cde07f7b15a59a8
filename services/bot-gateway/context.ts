// What the middleware chain leaves on ctx.state for the handlers after it, reachable typed as ctx.gateway
// (telegraf's narrowed contexts type `state` as a plain record, but keep properties a custom context adds).
import { Context } from 'telegraf';
import type { Language } from '../../lib/i18n';
import type { Logger } from '../../lib/logger';

export interface Session {
  /** The next plain text message is taken as this input. */
  awaiting?: 'wallet';
}

export interface GatewayState {
  requestId: string;
  /** Carries request_id (and user_id once known) on every line. */
  log: Logger;
  lang: Language;
  session: Session;
}

export class BotContext extends Context {
  get gateway(): GatewayState {
    return this.state as GatewayState;
  }
}
