// The calls the bot makes to other services, behind an interface so handlers do not know about the broker.
import type { ServiceBroker } from 'moleculer';
import type { Registration } from './registration';
import type { RegisterParams } from './schemas';

export interface Balance {
  available: string;
  held: string;
}

export interface Backend {
  register(params: RegisterParams, requestId: string): Promise<Registration>;
  /** Resolves with the checksummed address; rejects with the users service's MoleculerClientError on refusal. */
  setWallet(userId: string, address: string, requestId: string): Promise<{ address: string }>;
  referralCounts(userId: string, requestId: string): Promise<{ level: number; count: number }[]>;
  balance(userId: string, requestId: string): Promise<Balance>;
  referralEarnings(userId: string, requestId: string): Promise<{ level: number; amount: string }[]>;
}

const USERS_TIMEOUT_MS = 5_000;
const LEDGER_TIMEOUT_MS = 3_000;

export function brokerBackend(broker: ServiceBroker): Backend {
  const call = <T>(action: string, params: object, requestId: string, timeout: number, retries = 0): Promise<T> =>
    broker.call<T, object>(action, params, { timeout, retries, requestID: requestId });
  return {
    // register is idempotent, so a retry after a lost answer is safe.
    register: (params, requestId) => call('users.register', params, requestId, USERS_TIMEOUT_MS, 2),
    setWallet: (userId, address, requestId) =>
      call('users.setWallet', { userId, address }, requestId, USERS_TIMEOUT_MS),
    referralCounts: (userId, requestId) => call('users.referralCounts', { userId }, requestId, USERS_TIMEOUT_MS, 2),
    balance: (userId, requestId) => call('ledger.balance', { userId }, requestId, LEDGER_TIMEOUT_MS, 1),
    referralEarnings: (userId, requestId) =>
      call('ledger.referralEarnings', { userId }, requestId, LEDGER_TIMEOUT_MS, 1),
  };
}
