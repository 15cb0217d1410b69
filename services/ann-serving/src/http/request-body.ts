/**
 * Reads a request body as raw bytes, whatever its Content-Type (TF Serving
 * never reads that header), within a size limit, un-gzipping
 * `Content-Encoding: gzip` bodies as TF Serving does. The limit applies to
 * the declared length, the bytes received and the decompressed size, so
 * neither a large upload nor a gzip bomb is ever held in memory.
 */
import type http from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** The body, or why there is none to answer. */
export type RequestBody = Uint8Array | 'too_large' | 'aborted';

export async function readRequestBody(
  req: http.IncomingMessage,
  limit: number,
): Promise<RequestBody> {
  const raw = await readRaw(req, limit);
  if (typeof raw === 'string') return raw;
  if (req.headers['content-encoding']?.trim().toLowerCase() !== 'gzip') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return 'too_large';
    // Not gzip after all: let the JSON parser say what it sees.
    return raw;
  }
}

function readRaw(
  req: http.IncomingMessage,
  limit: number,
): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      // Discard the upload rather than read it; the answer closes the connection.
      req.resume();
      resolve('too_large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      resolve('too_large');
    };
    req.on('data', onData);
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks, size) : 'too_large'));
    // A client that goes away mid-upload gets no answer; resolving twice is a no-op.
    req.on('close', () => resolve('aborted'));
    req.on('error', () => resolve('aborted'));
  });
}
