// Reads what the durable channels hold in NATS JetStream, so a spec can assert what a service published (or
// dead-lettered) and wait until a consumer group has settled every message.
import { connect, type NatsConnection } from 'nats';

export interface ChannelMessage<T = unknown> {
  seq: number;
  subject: string;
  data: T;
  headers: Record<string, string>;
}

/** The JetStream stream @moleculer/channels keeps for `channel` under the NAMESPACE prefix. */
export const streamOf = (namespace: string, channel: string): string => `${namespace}.${channel}`.split('.').join('_');

async function withNats<T>(servers: string, run: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers });
  try {
    return await run(nc);
  } finally {
    await nc.close();
  }
}

const notFound = (error: unknown): boolean => /not found/i.test(String((error as Error)?.message ?? error));

/** Every message stored for `channel` (JSON-decoded), oldest first; none when the stream does not exist yet. */
export async function channelMessages<T = Record<string, unknown>>(
  namespace: string,
  channel: string,
  servers = '127.0.0.1:4222',
): Promise<ChannelMessage<T>[]> {
  return withNats(servers, async (nc) => {
    const jsm = await nc.jetstreamManager();
    const stream = streamOf(namespace, channel);
    let state;
    try {
      state = (await jsm.streams.info(stream)).state;
    } catch (error) {
      if (notFound(error)) return [];
      throw error;
    }
    const messages: ChannelMessage<T>[] = [];
    if (state.messages === 0) return messages;
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      try {
        const stored = await jsm.streams.getMessage(stream, { seq });
        const headers: Record<string, string> = {};
        for (const [key, values] of stored.header ?? []) headers[key] = values.join(',');
        messages.push({ seq, subject: stored.subject, data: stored.json<T>(), headers });
      } catch (error) {
        if (!notFound(error)) throw error; // a deleted message leaves a gap
      }
    }
    return messages;
  });
}

/** True once the consumer group `durable` of `channel` has nothing pending and nothing awaiting an ack. */
export async function consumerSettled(
  namespace: string,
  channel: string,
  durable: string,
  servers = '127.0.0.1:4222',
): Promise<boolean> {
  return withNats(servers, async (nc) => {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(streamOf(namespace, channel), durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}
