/** Google Cloud adapters. Clients are created on first use, never at import. */
export {};
