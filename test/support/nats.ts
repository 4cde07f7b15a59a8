import { connect } from 'nats';

/** Removes the JetStream streams a test namespace created, so test runs do not pile up streams in NATS. */
export async function deleteNamespaceStreams(namespace: string, servers = '127.0.0.1:4222'): Promise<void> {
  const nc = await connect({ servers, timeout: 2_000, maxReconnectAttempts: 0 });
  try {
    const jsm = await nc.jetstreamManager();
    const names: string[] = [];
    for await (const info of jsm.streams.list())
      if (info.config.name.startsWith(`${namespace}_`)) names.push(info.config.name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
