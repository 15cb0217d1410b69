/**
 * A small server-sent events client for tests: reads a text/event-stream
 * response over node:http and hands out its events in order, each awaited
 * (no polling, no sleeps).
 */
import http from 'node:http';

export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

export interface EventStreamClient {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The next event whose name is `event` (others are skipped and kept in `seen`). */
  next(event: string, timeoutMs?: number): Promise<ServerSentEvent>;
  /** Every event received so far, in order. */
  readonly seen: ServerSentEvent[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openEventStream(url: string): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { Accept: 'text/event-stream' } }, (response) => {
      const seen: ServerSentEvent[] = [];
      let cursor = 0;
      let wake: (() => void) | undefined;
      let buffer = '';
      let finished = false;
      const ended = new Promise<void>((done) => {
        response.once('end', done);
        response.once('close', done);
      });
      void ended.then(() => {
        finished = true;
        wake?.();
      });
      response.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const parsed = parseBlock(block);
          if (parsed !== undefined) seen.push(parsed);
          boundary = buffer.indexOf('\n\n');
        }
        wake?.();
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        seen,
        ended,
        async next(event, timeoutMs = 5_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            while (cursor < seen.length) {
              const candidate = seen[cursor++];
              if (candidate?.event === event) return candidate;
            }
            if (finished) throw new Error(`the stream ended before a "${event}" event`);
            const left = deadline - Date.now();
            if (left <= 0) {
              throw new Error(
                `no "${event}" event within ${timeoutMs} ms; seen: ${seen.map((e) => e.event).join(', ')}`,
              );
            }
            await new Promise<void>((arrived) => {
              const timer = setTimeout(arrived, left);
              wake = () => {
                clearTimeout(timer);
                wake = undefined;
                arrived();
              };
            });
          }
        },
        close() {
          request.destroy();
        },
      });
    });
    request.once('error', reject);
  });
}

/** One event block: `event:` and `data:` lines; comments and `retry:` alone make no event. */
function parseBlock(block: string): ServerSentEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice('event: '.length);
    else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}
