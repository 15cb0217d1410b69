/** Google Cloud adapters. Clients are created on first use, never at import. */
export {};
export * from './pubsub-event-bus.js';
export * from './firestore-run-mapping.js';
export * from './firestore-run-store.js';
