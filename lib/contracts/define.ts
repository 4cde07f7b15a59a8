// Contracts between services, each declared once as a zod schema with its TypeScript type inferred from it:
// an action's params and result, a channel's payload. Producers build through the contract (so a payload that
// does not fit fails where it is made), consumers parse with it, and ContractValidator makes Moleculer check every
// action's params against its contract before the handler runs.
import {
  Errors,
  Validators,
  type ActionSchema,
  type CallingOptions,
  type Context,
  type ServiceBroker,
} from 'moleculer';
import { z } from 'zod';

export interface ActionContract<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** `<service>.<action>`, as it is called. */
  readonly name: string;
  readonly params: P;
  readonly result: R;
}

export interface ChannelContract<S extends z.ZodType = z.ZodType> {
  /** The channel's name; NAMESPACE is prefixed by the channels adapter. */
  readonly name: string;
  readonly payload: S;
}

export const defineAction = <P extends z.ZodType, R extends z.ZodType>(
  name: string,
  params: P,
  result: R,
): ActionContract<P, R> => ({ name, params, result });

export const defineChannel = <S extends z.ZodType>(name: string, payload: S): ChannelContract<S> => ({
  name,
  payload,
});

/** What a caller passes / a producer builds. */
export type ParamsOf<C extends ActionContract> = z.input<C['params']>;
/** What the handler receives, after parsing. */
export type ParsedParamsOf<C extends ActionContract> = z.output<C['params']>;
export type ResultOf<C extends ActionContract> = z.output<C['result']>;
export type PayloadOf<C extends ChannelContract> = z.input<C['payload']>;
export type MessageOf<C extends ChannelContract> = z.output<C['payload']>;

/** Invalid input is a client's mistake: permanent (a channel dead-letters it at once), never retried. */
function invalid(what: string, error: z.ZodError): Errors.ValidationError {
  const issues = error.issues.map((issue) => ({
    field: issue.path.join('.'),
    message: issue.message,
    type: issue.code,
  }));
  return new Errors.ValidationError(
    `invalid ${what}: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    'VALIDATION_ERROR',
    issues,
  );
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(what, parsed.error);
  return parsed.data as z.output<S>;
}

/** A channel message as a consumer sees it; a payload that breaks the contract is a ValidationError. */
export function parsePayload<C extends ChannelContract>(contract: C, payload: unknown): MessageOf<C> {
  return parseWith(contract.payload, payload, `${contract.name} message`) as MessageOf<C>;
}

export interface ConsumerOptions {
  /** Consumer group: every replica of one group shares the messages. */
  group: string;
  maxInFlight?: number;
  /** Deliveries before a message goes to the dead-letter queue (each delivery waits out transient failures). */
  maxRetries?: number;
}

/** A channel consumer whose handler gets the parsed message; a payload that breaks the contract dead-letters. */
export function consume<C extends ChannelContract, TThis = unknown>(
  contract: C,
  options: ConsumerOptions,
  handle: (this: TThis, message: MessageOf<C>) => Promise<void>,
): Record<string, ConsumerOptions & { handler(this: TThis, payload: unknown): Promise<void> }> {
  return {
    [contract.name]: {
      ...options,
      handler(this: TThis, payload: unknown) {
        return handle.call(this, parsePayload(contract, payload));
      },
    },
  };
}

/** A message for a service's outbox, checked against its channel's contract where it is made. */
export interface OutboxMessage {
  channel: string;
  payload: object;
}

export function outboxMessage<C extends ChannelContract>(contract: C, payload: PayloadOf<C>): OutboxMessage {
  parseWith(contract.payload, payload, `${contract.name} message`);
  return { channel: contract.name, payload: payload as object };
}

/** Contracts of the actions this process implements, by full action name (read by ContractValidator). */
const implemented = new Map<string, ActionContract>();

/**
 * An action implementing its contract: the handler gets parsed params and must return what the contract says. The
 * action takes its name from the contract, so it cannot be registered under another. (Moleculer deep-clones action
 * schemas, which a zod schema does not survive: the contract is looked up by name instead of carried along.)
 */
export function implement<C extends ActionContract, TThis = unknown>(
  contract: C,
  handler: (this: TThis, ctx: Context<ParsedParamsOf<C>>) => Promise<z.input<C['result']>> | z.input<C['result']>,
): ActionSchema<TThis> {
  implemented.set(contract.name, contract);
  return { name: contract.name.slice(contract.name.indexOf('.') + 1), handler };
}

/** Calls an action by its contract: params typed, the answer parsed. */
export async function callAction<C extends ActionContract>(
  broker: Pick<ServiceBroker, 'call'>,
  contract: C,
  params: ParamsOf<C>,
  options?: CallingOptions,
): Promise<ResultOf<C>> {
  const answer = await broker.call(contract.name, params as object, options);
  const parsed = contract.result.safeParse(answer);
  // The callee's fault (a version skew mid-deploy, a bug), not the caller's: retryable, never dead-lettered.
  if (!parsed.success)
    throw new Errors.MoleculerServerError(
      `answer of ${contract.name} breaks its contract: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
      502,
      'INVALID_ANSWER',
    );
  return parsed.data as ResultOf<C>;
}

/**
 * Moleculer's validator, for contracts: an action declared with implement() has its params parsed (defaults
 * applied, unknown keys dropped) before its handler runs; a mismatch answers a ValidationError (422).
 */
export class ContractValidator extends Validators.Base {
  override compile(): () => true {
    return () => true;
  }

  override validate(): boolean {
    return true;
  }

  override convertSchemaToMoleculer(): Record<string, never> {
    return {};
  }

  override middleware() {
    return {
      name: 'ContractValidator',
      localAction(handler: (ctx: Context) => Promise<unknown>, action: ActionSchema) {
        const contract = action.name ? implemented.get(action.name) : undefined;
        if (!contract) return handler;
        return function validateParams(ctx: Context) {
          try {
            const what = `params of ${contract.name}`;
            (ctx as { params: unknown }).params = parseWith(contract.params, ctx.params ?? {}, what);
          } catch (error) {
            // A rejection, as from any handler, never a throw out of broker.call().
            return Promise.reject(error);
          }
          return handler(ctx);
        };
      },
    };
  }
}
