// Replicas of one consumer group that start at the same moment on a fresh install: JetStream refuses all but the
// first creation of the durable consumer, and every replica must still start and share the messages.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { ledgerService } from '../../services/ledger/ledger.service';
import { usersService } from '../../services/users/users.service';
import { testConfig } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deleteNamespaceStreams } from '../support/nats';

describe('channel consumers of replicas that start together', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let redis: Redis;
  const namespaces: string[] = [];
  const nodes: Node[] = [];

  before(async () => {
    db = await createTestDatabase('replicas');
    redis = createRedis('redis://127.0.0.1:6379');
  });
  after(async () => {
    for (const node of nodes.reverse()) await node.stop();
    redis?.disconnect();
    await db?.drop();
    for (const namespace of namespaces) await deleteNamespaceStreams(namespace);
  });

  it('start three ledger replicas at once on a fresh namespace, five times over', async () => {
    for (let round = 0; round < 5; round++) {
      const namespace = `replicas-${randomBytes(4).toString('hex')}`;
      namespaces.push(namespace);
      const config = testConfig({ LOG_LEVEL: 'silent', DATABASE_URL: db.url, NAMESPACE: namespace });
      nodes.push(await startNode(config, [usersService], { db, redis }));
      const replicas = await Promise.all([1, 2, 3].map(() => startNode(config, [ledgerService], { db, redis })));
      nodes.push(...replicas);
      expect(replicas).to.have.length(3);
    }
  });
});
