// Durable messages between services (@moleculer/channels on NATS JetStream). Losing one of these would lose
// money or a promise to a user, so each is acknowledged, retried and dead-lettered, never dropped.
import Channels_ from '@moleculer/channels';

const { Middleware: ChannelsMiddleware } = Channels_ as unknown as { Middleware: (options: object) => object };
import type { Config } from './config';

/** Channel names (the NAMESPACE prefix is added by the adapter). */
export const Channels = {
  /** chain-monitor → ledger: a transfer reached its confirmations; credit it. */
  depositConfirmed: 'deposits.confirmed',
  /** anyone → notifier: send one message to one user. */
  notificationRequested: 'notifications.requested',
} as const;
export type ChannelName = (typeof Channels)[keyof typeof Channels];

export const DEAD_LETTER_QUEUE = 'dead-letters';

export function channelsMiddleware(config: Pick<Config, 'NATS_URL' | 'NAMESPACE'>) {
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
          consumerOptions: { config: { deliver_policy: 'all', ack_wait: 30 * 1e9 } },
        },
        maxRetries: 10,
        maxInFlight: 20,
        deadLettering: { enabled: true, queueName: DEAD_LETTER_QUEUE },
      },
    },
  });
}

export interface ChannelAdapter {
  stopping?: boolean;
  connected?: boolean;
  addPrefixTopic(topic: string): string;
  createStream(streamName: string, subjects: string[], streamOpts?: object): Promise<unknown>;
  publish(
    channelName: string,
    payload: unknown,
    opts?: { msgID?: string; headers?: Record<string, string> },
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
