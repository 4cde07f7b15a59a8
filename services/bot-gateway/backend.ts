// The calls the bot makes to other services, behind an interface so handlers do not know about the broker.
import type { ServiceBroker } from 'moleculer';
import {
  callAction,
  ChainActions,
  LedgerActions,
  UsersActions,
  type ActionContract,
  type ParamsOf,
  type ResultOf,
} from '../../lib/contracts';

type Answer<C extends ActionContract> = Promise<ResultOf<C>>;

export interface Backend {
  register(params: ParamsOf<typeof UsersActions.register>, requestId: string): Answer<typeof UsersActions.register>;
  /** Resolves with the checksummed address; rejects with the users service's MoleculerClientError on refusal. */
  setWallet(userId: string, address: string, requestId: string): Answer<typeof UsersActions.setWallet>;
  referralCounts(userId: string, requestId: string): Answer<typeof UsersActions.referralCounts>;
  balance(userId: string, requestId: string): Answer<typeof LedgerActions.balance>;
  referralEarnings(userId: string, requestId: string): Answer<typeof LedgerActions.referralEarnings>;
  depositLevels(requestId: string): Answer<typeof LedgerActions.depositLevels>;
  depositTerms(requestId: string): Answer<typeof ChainActions.depositTerms>;
}

const USERS_TIMEOUT_MS = 5_000;
const LEDGER_TIMEOUT_MS = 3_000;
/** Deposit terms and levels change only with a redeploy: asked at most this often, and last known while away. */
const TERMS_TTL_MS = 60_000;

/** The owner's answer, at most `ttlMs` old; the last one known when the owner does not answer. */
function lastKnown<T>(ask: (requestId: string) => Promise<T>, ttlMs: number): (requestId: string) => Promise<T> {
  let known: { value: T; at: number } | undefined;
  return async (requestId) => {
    if (known && Date.now() - known.at < ttlMs) return known.value;
    try {
      known = { value: await ask(requestId), at: Date.now() };
    } catch (error) {
      if (!known) throw error;
    }
    return known.value;
  };
}

export function brokerBackend(broker: ServiceBroker): Backend {
  const call = <C extends ActionContract>(
    contract: C,
    params: ParamsOf<C>,
    requestID: string,
    timeout: number,
    retries = 0,
  ) => callAction(broker, contract, params, { timeout, retries, requestID });
  return {
    // register is idempotent, so a retry after a lost answer is safe.
    register: (params, requestId) => call(UsersActions.register, params, requestId, USERS_TIMEOUT_MS, 2),
    setWallet: (userId, address, requestId) =>
      call(UsersActions.setWallet, { userId, address }, requestId, USERS_TIMEOUT_MS),
    referralCounts: (userId, requestId) =>
      call(UsersActions.referralCounts, { userId }, requestId, USERS_TIMEOUT_MS, 2),
    balance: (userId, requestId) => call(LedgerActions.balance, { userId }, requestId, LEDGER_TIMEOUT_MS, 1),
    referralEarnings: (userId, requestId) =>
      call(LedgerActions.referralEarnings, { userId }, requestId, LEDGER_TIMEOUT_MS, 1),
    depositLevels: lastKnown(
      (requestId) => call(LedgerActions.depositLevels, {}, requestId, LEDGER_TIMEOUT_MS, 1),
      TERMS_TTL_MS,
    ),
    depositTerms: lastKnown(
      (requestId) => call(ChainActions.depositTerms, {}, requestId, LEDGER_TIMEOUT_MS, 1),
      TERMS_TTL_MS,
    ),
  };
}
