// The bot's calls to the broadcaster, behind an interface like backend.ts. Refusals reject with the broadcaster's
// MoleculerClientError (its type says why); `actor` is the admin's Telegram id.
import type { ServiceBroker } from 'moleculer';
import {
  BroadcasterActions,
  callAction,
  type ActionContract,
  type Audience,
  type CampaignProgress,
  type MessageContent,
  type ParamsOf,
} from '../../lib/contracts';

export type ControlAction = 'pause' | 'resume' | 'cancel';

export interface Broadcasts {
  /** A draft; nothing is sent. Not retried: a lost answer leaves at most an unused draft. */
  create(
    actor: string,
    content: MessageContent,
    audience: Audience,
    paid: boolean,
    requestId: string,
  ): Promise<CampaignProgress>;
  /** The broadcaster sends the draft to the admin as recipients will see it; answers how many recipients it has. */
  preview(actor: string, campaignId: string, requestId: string): Promise<number>;
  start(actor: string, campaignId: string, requestId: string): Promise<CampaignProgress>;
  control(action: ControlAction, actor: string, campaignId: string, requestId: string): Promise<CampaignProgress>;
  list(limit: number, requestId: string): Promise<CampaignProgress[]>;
}

const CALL_TIMEOUT_MS = 10_000;
/** The preview sends the content (an album may mean several uploads' worth of requests) within telegraf's 30 s. */
const PREVIEW_TIMEOUT_MS = 20_000;

export function brokerBroadcasts(broker: ServiceBroker): Broadcasts {
  const call = <C extends ActionContract>(
    contract: C,
    params: ParamsOf<C>,
    requestID: string,
    timeout = CALL_TIMEOUT_MS,
  ) => callAction(broker, contract, params, { timeout, retries: 0, requestID });
  const controls = {
    pause: BroadcasterActions.pause,
    resume: BroadcasterActions.resume,
    cancel: BroadcasterActions.cancel,
  } as const;
  return {
    create: (actor, content, audience, paid, requestId) =>
      call(BroadcasterActions.create, { actor, content, audience, paid }, requestId),
    preview: async (actor, campaignId, requestId) =>
      (await call(BroadcasterActions.preview, { actor, campaignId }, requestId, PREVIEW_TIMEOUT_MS)).recipients,
    start: (actor, campaignId, requestId) => call(BroadcasterActions.start, { actor, campaignId }, requestId),
    control: (action, actor, campaignId, requestId) => call(controls[action], { actor, campaignId }, requestId),
    // Reading only, so a retry is harmless.
    list: (limit, requestID) =>
      callAction(broker, BroadcasterActions.list, { limit }, { timeout: CALL_TIMEOUT_MS, retries: 1, requestID }),
  };
}
