// Every contract between services, in one place: import from here.
export * from './define';
export * from './primitives';
export * from './users';
export * from './ledger';
export * from './chain';
export * from './notifier';
export * from './bot-gateway';
export * from './payout';
export * from './jobs';
export * from './message';
export * from './broadcaster';
