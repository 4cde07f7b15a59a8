// Durable messages between services (@moleculer/channels on NATS JetStream). Losing one of these would lose
// money or a promise to a user, so each is acknowledged, retried and dead-lettered, never dropped.
import Channels_ from '@moleculer/channels';

const { Middleware: ChannelsMiddleware } = Channels_ as unknown as { Middleware: (options: object) => object };
import type { CommonConfig } from './config';
import type { Logger } from './logger';
import { isPermanent, retryTransient } from './retry';

export const DEAD_LETTER_QUEUE = 'dead-letters';

/**
 * A message nobody acknowledges within this time is delivered again, to any consumer of its group: it bounds how
 * long the work of a consumer that died (SIGKILL, OOM, a lost node) waits. A live handler keeps its message by
 * telling JetStream it is still working (see channelHandlerMiddleware), however long the work takes.
 */
export const ACK_WAIT_MS = 6_000;
const WORKING_EVERY_MS = 2_000;

export function channelsMiddleware(config: Pick<CommonConfig, 'NATS_URL' | 'NAMESPACE'>) {
  return ChannelsMiddleware({
    adapter: {
      type: 'NATS',
      options: {
        prefix: config.NAMESPACE,
        nats: {
          url: config.NATS_URL,
          connectionOptions: { maxReconnectAttempts: -1 },
          streamConfig: { max_age: 14 * 24 * 3600 * 1e9, duplicate_window: 10 * 60 * 1e9 },
          // A consumer group that is new (a fresh install, a new service) starts at the stream's beginning.
          consumerOptions: { config: { deliver_policy: 'all', ack_wait: ACK_WAIT_MS * 1e6 } },
        },
        maxRetries: 10,
        maxInFlight: 20,
        deadLettering: { enabled: true, queueName: DEAD_LETTER_QUEUE },
      },
    },
  });
}

interface JsMessage {
  data: Uint8Array;
  working(): void;
}

interface ChannelDefinition {
  name: string;
  group: string;
  deadLettering?: { enabled?: boolean; queueName?: string };
}

/** A handler still working after this long is presumed stuck: its message is let go to another consumer. */
const MAX_WORKING_MS = 5 * 60_000;
/** How long one delivery waits out a neighbour's outage before giving the message back for redelivery. */
const TRANSIENT_BUDGET_MS = 20_000;

/**
 * Wraps every channel handler:
 * - keeps the message while the handler works (short ack wait, see ACK_WAIT_MS), up to MAX_WORKING_MS;
 * - waits out a transient failure (PostgreSQL restarting, a neighbour's outage) with backoff, since the adapter
 *   redelivers a failed message at once and would burn its retries in milliseconds; handlers are idempotent, so
 *   running one again is safe;
 * - moves a message that can never succeed (it fails validation, or a client error says so) to the dead-letter
 *   queue at once instead of redelivering it until its retries run out.
 */
export function channelHandlerMiddleware(log: Logger) {
  let broker: { channelAdapter?: ChannelAdapter } | undefined;
  return {
    name: 'ChannelHandler',
    created(created: { channelAdapter?: ChannelAdapter }) {
      broker = created;
      if (created.channelAdapter) attachOnConsumerRace(created.channelAdapter as unknown as RacyAdapter);
    },
    localChannel(next: (payload: unknown, raw: JsMessage) => Promise<unknown>, chan: ChannelDefinition) {
      return async function handle(this: unknown, payload: unknown, raw: JsMessage) {
        const startedAt = Date.now();
        const heartbeat = raw?.working
          ? setInterval(() => {
              if (Date.now() - startedAt > MAX_WORKING_MS) return;
              try {
                raw.working();
              } catch {
                // the connection is closing: the message is redelivered, as it would be after a crash
              }
            }, WORKING_EVERY_MS)
          : undefined;
        let warned = false;
        try {
          return await retryTransient(() => next.call(this, payload, raw), {
            budgetMs: TRANSIENT_BUDGET_MS,
            onRetry: (error) => {
              if (warned) return;
              warned = true;
              log.warn({ channel: chan.name, group: chan.group, err: error }, 'channel handler failed; retrying');
            },
          });
        } catch (error) {
          const deadLetters = chan.deadLettering?.enabled ? chan.deadLettering.queueName : undefined;
          const adapter = broker?.channelAdapter;
          if (!isPermanent(error) || !deadLetters || !raw?.data || !adapter) throw error;
          // Published before the original is acknowledged: if this fails, the message is redelivered, not lost.
          await adapter.publish(deadLetters, raw.data, {
            raw: true,
            headers: {
              'x-original-channel': chan.name,
              'x-original-group': chan.group,
              'x-error': String((error as Error).message).slice(0, 500),
            },
          });
          log.warn(
            { channel: chan.name, group: chan.group, err: error },
            'invalid message moved to the dead-letter queue',
          );
        } finally {
          clearInterval(heartbeat);
        }
      };
    },
  };
}

interface RacyAdapter {
  subscribe(chan: { id: string; deadLettering?: object }): Promise<void>;
  activeMessages?: Map<string, unknown>;
}

/**
 * Two replicas that start together on a fresh install both see no durable consumer and both create it, each with
 * its own deliver subject; JetStream refuses the second ("consumer name already in use") and the node would fail to
 * start. A moment later the consumer exists, and subscribing again attaches to it. (subscribe changes the channel
 * in place, prefixing its dead-letter queue, so each try starts from the channel as it was.)
 */
function attachOnConsumerRace(adapter: RacyAdapter): void {
  const subscribe = adapter.subscribe.bind(adapter);
  adapter.subscribe = async (chan) => {
    const original = structuredClone(chan.deadLettering);
    for (let attempt = 1; ; attempt++) {
      try {
        return await subscribe(chan);
      } catch (error) {
        if (attempt >= 5 || !/consumer name already in use/i.test(String((error as Error).message))) throw error;
        adapter.activeMessages?.delete(chan.id);
        chan.deadLettering = structuredClone(original);
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  };
}

export interface ChannelAdapter {
  stopping?: boolean;
  connected?: boolean;
  addPrefixTopic(topic: string): string;
  createStream(streamName: string, subjects: string[], streamOpts?: object): Promise<unknown>;
  publish(
    channelName: string,
    payload: unknown,
    opts?: { msgID?: string; raw?: boolean; headers?: Record<string, string> },
  ): Promise<void>;
}

/**
 * Publishes to a channel, creating its stream first when no consumer has yet (a producer may start before
 * its consumers). Resolves once JetStream has stored the message; refuses while the adapter is stopping,
 * because the adapter would otherwise drop the message silently.
 */
export function channelPublisher(adapter: ChannelAdapter) {
  const streams = new Map<string, Promise<unknown>>();
  return async (channel: string, payload: object, msgID: string): Promise<void> => {
    if (adapter.stopping || !adapter.connected) throw new Error('channel adapter is not connected');
    const subject = adapter.addPrefixTopic(channel);
    let stream = streams.get(subject);
    if (!stream) {
      stream = adapter.createStream(subject.split('.').join('_'), [subject], {});
      streams.set(subject, stream);
    }
    await stream;
    await adapter.publish(subject, payload, { msgID });
  };
}
