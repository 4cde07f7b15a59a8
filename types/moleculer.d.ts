// Moleculer's types, augmented with what this project's middlewares add: durable channels on a service schema
// (@moleculer/channels ships no types for them). Moleculer 0.15 declares ServiceSchema in src/service, which its
// package exports do not expose, hence the path.
import 'moleculer';

declare module '../node_modules/moleculer/src/service' {
  interface ChannelSchema<TThis = unknown> {
    /** Consumer group; every replica of one group shares the messages (default: the service name). */
    group?: string;
    maxInFlight?: number;
    maxRetries?: number;
    deadLettering?: { enabled?: boolean; queueName?: string };
    handler(this: TThis, payload: unknown, raw?: unknown): Promise<void> | void;
  }

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
    channels?: Record<string, ChannelSchema<TThis>>;
  }
}
