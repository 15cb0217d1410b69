/**
 * One server-sent events response (text/event-stream). Event names: `ready`
 * once the stream is subscribed (a client loads the current state then, so
 * nothing falls between its snapshot and the stream), `run` with a run
 * document after every change, `serving` with a service's serving record
 * when it changed with a run, `heartbeat` every interval.
 */
import type { ServerResponse } from 'node:http';
import { COMMON_HEADERS } from '../http/responses.js';

/** A client this far behind is cut off; its EventSource reconnects and reloads the state. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** How long an EventSource waits before reconnecting after the stream ends. */
const RECONNECT_MS = 2_000;

export class EventStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private ended = false;

  /** Sends the headers and starts the heartbeat; `onClose` runs once when the stream ends either way. */
  constructor(
    private readonly res: ServerResponse,
    heartbeatIntervalMs: number,
    onClose: () => void,
  ) {
    res.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
      // Proxies that buffer responses (nginx) would hold events back.
      'X-Accel-Buffering': 'no',
    });
    res.once('close', () => {
      this.ended = true;
      clearInterval(this.heartbeat);
      onClose();
    });
    this.write(`retry: ${RECONNECT_MS}\n\n`);
    this.heartbeat = setInterval(
      () => this.send('heartbeat', { at: new Date().toISOString() }),
      heartbeatIntervalMs,
    );
  }

  /** Writes one event; JSON never contains a raw newline, so `data` is one line. */
  send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream (the client reconnects unless the page is gone). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.res.end();
  }

  private write(chunk: string): void {
    if (this.ended || this.res.destroyed) return;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.res.destroy();
      return;
    }
    this.res.write(chunk);
  }
}
