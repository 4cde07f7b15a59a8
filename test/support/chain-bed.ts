// What chain-monitor specs share: Anvil with a test USDT, a migrated schema, Redis, a NATS namespace, and the
// nodes a spec starts, all torn down together.
import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../../lib/redis';
import type { Node } from '../../lib/runtime';
import { startAnvil, type AnvilHandle } from './anvil';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteNamespaceStreams } from './nats';
import { deployTestUsdt } from './usdt';

export interface ChainBed {
  anvil: AnvilHandle;
  usdtAddress: string;
  db: TestDatabase;
  redis: Redis;
  namespace: string;
  /** Nodes to stop with the bed, last started first. */
  nodes: Node[];
  stop(): Promise<void>;
}

export async function startChainBed(prefix: string): Promise<ChainBed> {
  const anvil = await startAnvil();
  const { address: usdtAddress } = await deployTestUsdt(anvil.wallet(0));
  const db = await createTestDatabase(prefix);
  const redis = createRedis('redis://127.0.0.1:6379');
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  const nodes: Node[] = [];
  return {
    anvil,
    usdtAddress,
    db,
    redis,
    namespace,
    nodes,
    async stop() {
      for (const node of nodes.reverse()) await node.stop();
      redis.disconnect();
      await anvil.stop();
      await db.drop();
      await deleteNamespaceStreams(namespace);
    },
  };
}
