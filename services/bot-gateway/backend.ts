// The calls the bot makes to other services, behind an interface so handlers do not know about the broker.
import type { ServiceBroker } from 'moleculer';
import {
  callAction,
  ChainActions,
  LedgerActions,
  PayoutActions,
  UsersActions,
  WithdrawalActions,
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

  // Withdrawals. Refusals reject with the owner's MoleculerClientError (its type and data say why).
  quoteWithdrawal(userId: string, amount: string, requestId: string): Answer<typeof WithdrawalActions.quote>;
  /** Idempotent on the key: the same dialog's confirmation answers the same withdrawal. */
  requestWithdrawal(
    userId: string,
    amount: string,
    idempotencyKey: string,
    requestId: string,
  ): Answer<typeof WithdrawalActions.request>;
  cancelWithdrawal(userId: string, withdrawalId: string, requestId: string): Answer<typeof WithdrawalActions.cancel>;
  withdrawals(
    params: ParamsOf<typeof WithdrawalActions.list>,
    requestId: string,
  ): Answer<typeof WithdrawalActions.list>;
  withdrawal(withdrawalId: string, requestId: string): Answer<typeof WithdrawalActions.get>;
  setWithdrawalPassword(
    userId: string,
    password: string,
    requestId: string,
  ): Answer<typeof UsersActions.setWithdrawalPassword>;
  checkWithdrawalPassword(
    userId: string,
    password: string,
    requestId: string,
  ): Answer<typeof UsersActions.checkWithdrawalPassword>;
  contacts(userIds: string[], requestId: string): Answer<typeof UsersActions.contacts>;
  /** The user wrote to the bot (clears an unreachable mark). */
  seen(telegramId: string, requestId: string): Answer<typeof UsersActions.seen>;

  // Admin views of users.
  userByTelegramId(telegramId: string, requestId: string): Answer<typeof UsersActions.byTelegramId>;
  userByUsername(username: string, requestId: string): Answer<typeof UsersActions.byUsername>;
  unreachableSummary(limit: number, requestId: string): Answer<typeof UsersActions.unreachableSummary>;

  // Admin decisions; `admin` is the deciding admin's Telegram id.
  approveWithdrawal(withdrawalId: string, admin: string, requestId: string): Answer<typeof WithdrawalActions.approve>;
  rejectWithdrawal(
    withdrawalId: string,
    admin: string,
    reason: string,
    requestId: string,
  ): Answer<typeof WithdrawalActions.reject>;
  voidWithdrawal(
    withdrawalId: string,
    admin: string,
    reason: string,
    requestId: string,
  ): Answer<typeof WithdrawalActions.void>;
  retryPayout(withdrawalId: string, admin: string, requestId: string): Answer<typeof PayoutActions.retry>;
}

const USERS_TIMEOUT_MS = 5_000;
const SEEN_TIMEOUT_MS = 3_000;
const LEDGER_TIMEOUT_MS = 3_000;
/** Money-moving calls wait longer: a lost answer is worse than a slow one (the key makes a retry safe). */
const WITHDRAWAL_TIMEOUT_MS = 10_000;
/** A void asks payout to give the payout up first. */
const VOID_TIMEOUT_MS = 20_000;
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

    quoteWithdrawal: (userId, amount, requestId) =>
      call(WithdrawalActions.quote, { userId, amount }, requestId, LEDGER_TIMEOUT_MS, 1),
    requestWithdrawal: (userId, amount, idempotencyKey, requestId) =>
      call(WithdrawalActions.request, { userId, amount, idempotencyKey }, requestId, WITHDRAWAL_TIMEOUT_MS, 2),
    // Cancelling, approving and rejecting answer the current state when repeated, so a retry is safe.
    cancelWithdrawal: (userId, withdrawalId, requestId) =>
      call(WithdrawalActions.cancel, { userId, withdrawalId }, requestId, WITHDRAWAL_TIMEOUT_MS, 2),
    withdrawals: (params, requestId) => call(WithdrawalActions.list, params, requestId, LEDGER_TIMEOUT_MS, 1),
    withdrawal: (withdrawalId, requestId) =>
      call(WithdrawalActions.get, { withdrawalId }, requestId, LEDGER_TIMEOUT_MS, 1),
    // Neither is retried: a lost answer of a check may have counted a failure, and a set cannot be repeated.
    setWithdrawalPassword: (userId, password, requestId) =>
      call(UsersActions.setWithdrawalPassword, { userId, password }, requestId, USERS_TIMEOUT_MS),
    checkWithdrawalPassword: (userId, password, requestId) =>
      call(UsersActions.checkWithdrawalPassword, { userId, password }, requestId, USERS_TIMEOUT_MS),
    contacts: (userIds, requestId) => call(UsersActions.contacts, { userIds }, requestId, USERS_TIMEOUT_MS, 2),
    // Reported beside the update, never in its way: a short timeout and no retries (the next update reports again).
    seen: (telegramId, requestId) => call(UsersActions.seen, { telegramId }, requestId, SEEN_TIMEOUT_MS),
    userByTelegramId: (telegramId, requestId) =>
      call(UsersActions.byTelegramId, { telegramId }, requestId, USERS_TIMEOUT_MS, 2),
    userByUsername: (username, requestId) =>
      call(UsersActions.byUsername, { username }, requestId, USERS_TIMEOUT_MS, 2),
    unreachableSummary: (limit, requestId) =>
      call(UsersActions.unreachableSummary, { limit }, requestId, USERS_TIMEOUT_MS, 2),

    approveWithdrawal: (withdrawalId, admin, requestId) =>
      call(WithdrawalActions.approve, { withdrawalId, admin }, requestId, WITHDRAWAL_TIMEOUT_MS, 2),
    rejectWithdrawal: (withdrawalId, admin, reason, requestId) =>
      call(WithdrawalActions.reject, { withdrawalId, admin, reason }, requestId, WITHDRAWAL_TIMEOUT_MS, 2),
    voidWithdrawal: (withdrawalId, admin, reason, requestId) =>
      call(WithdrawalActions.void, { withdrawalId, admin, reason }, requestId, VOID_TIMEOUT_MS),
    retryPayout: (withdrawalId, admin, requestId) =>
      call(PayoutActions.retry, { withdrawalId, admin }, requestId, WITHDRAWAL_TIMEOUT_MS),
  };
}
