// Broker options shared by every node: NATS transporter, durable channels on JetStream, pino logs, Prometheus.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BrokerOptions } from 'moleculer';
import { channelHandlerMiddleware, channelsMiddleware } from './lib/channels';
import type { CommonConfig } from './lib/config';
import { ContractValidator } from './lib/contracts';
import { deadNodeDetector } from './lib/dead-node-detector';
import { moleculerLogger, rootLogger } from './lib/logger';

export function createBrokerOptions(config: CommonConfig, overrides: Partial<BrokerOptions> = {}): BrokerOptions {
  return {
    // Unique per start, so several nodes in one process (tests, `npm run dev`) never collide.
    nodeID: config.NODE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    namespace: config.NAMESPACE,
    transporter: { type: 'NATS', options: { url: config.NATS_URL, maxReconnectAttempts: -1 } },
    serializer: 'JSON',
    // Action params are parsed by their zod contracts (lib/contracts).
    validator: new ContractValidator({}),
    logger: {
      type: 'Pino',
      options: {
        level: config.LOG_LEVEL === 'silent' ? false : config.LOG_LEVEL,
        createLogger: (level: string, bindings: { svc?: string; mod?: string; nodeID?: string }) =>
          moleculerLogger(
            rootLogger().child({ service: bindings.svc ?? bindings.mod, node: bindings.nodeID }, { level }),
          ),
      },
    },
    // Failure detection (docs/ARCHITECTURE.md, "When a node dies"): a remote call unanswered for 1 s makes its node a
    // suspect that must answer a ping within 1.5 s (lib/dead-node-detector.ts); a node nobody calls is dropped when
    // its heartbeats (every 2 s) stop for 6-12 s. A dropped node's pending calls fail at once and retry elsewhere.
    heartbeatInterval: 2,
    heartbeatTimeout: 6,
    requestTimeout: 10_000,
    // Retries are opted into per call, for idempotent actions only.
    retryPolicy: { enabled: true, retries: 0, delay: 200, maxDelay: 3000, factor: 2 },
    circuitBreaker: { enabled: true, threshold: 0.5, minRequestCount: 20, windowTime: 60, halfOpenTime: 10_000 },
    bulkhead: { enabled: true, concurrency: 50, maxQueueSize: 1000 },
    // Graceful shutdown: finish in-flight requests within Kubernetes' grace period.
    tracking: { enabled: true, shutdownTimeout: 20_000 },
    // scripts/start.ts handles SIGTERM/SIGINT itself and closes PostgreSQL and Redis after the broker.
    skipProcessEventRegistration: true,
    metrics: config.METRICS_PORT
      ? { enabled: true, reporter: { type: 'Prometheus', options: { port: config.METRICS_PORT, path: '/metrics' } } }
      : { enabled: false },
    middlewares: [
      channelsMiddleware(config),
      channelHandlerMiddleware(rootLogger().child({ service: 'channels' })),
      deadNodeDetector(rootLogger().child({ service: 'broker' })),
    ],
    ...overrides,
  };
}
