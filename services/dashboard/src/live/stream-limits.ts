/**
 * How many event streams may be open: at most `perClient` from one client
 * address, so one client (a script, or a page opened in many tabs) cannot
 * hold every slot and lock everyone else out, and at most `total` overall,
 * the last guard of the process's connections. A slot is held from admission
 * until its release, which the route ties to the response's `close` (the
 * socket closing either way), so a page that reconnects finds its old slot
 * free again.
 */

export type StreamAdmission =
  | { readonly admitted: true; readonly release: () => void }
  | {
      readonly admitted: false;
      /** Which limit refused: this client's, or the process's. */
      readonly limit: 'client' | 'total';
      /** Streams open at the time, this client's or all of them (per `limit`). */
      readonly open: number;
      /**
       * The first refusal of this client since it reached its limit (always
       * true for the process's limit): a flood is logged once, not per request.
       */
      readonly first: boolean;
    };

export class StreamLimits {
  private readonly perClientOpen = new Map<string, number>();
  /** Clients refused since they reached their limit; only ever clients with streams open. */
  private readonly refusedClients = new Set<string>();
  private total = 0;

  constructor(readonly limits: { readonly perClient: number; readonly total: number }) {}

  /** Takes a slot for `client`, or says which limit is full. */
  admit(client: string): StreamAdmission {
    const mine = this.perClientOpen.get(client) ?? 0;
    if (mine >= this.limits.perClient) {
      const first = !this.refusedClients.has(client);
      this.refusedClients.add(client);
      return { admitted: false, limit: 'client', open: mine, first };
    }
    if (this.total >= this.limits.total) {
      return { admitted: false, limit: 'total', open: this.total, first: true };
    }
    this.perClientOpen.set(client, mine + 1);
    this.total++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        this.refusedClients.delete(client);
        const left = (this.perClientOpen.get(client) ?? 1) - 1;
        // Dropped at zero, so the map holds only clients with a stream open.
        if (left === 0) this.perClientOpen.delete(client);
        else this.perClientOpen.set(client, left);
      },
    };
  }

  /** Streams open now from `client`. */
  openFrom(client: string): number {
    return this.perClientOpen.get(client) ?? 0;
  }

  /** Streams open now, all clients together. */
  get open(): number {
    return this.total;
  }
}
