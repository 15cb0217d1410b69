/**
 * Only HTTP/1.0 and HTTP/1.1 are served. Node's parser (llhttp) takes a
 * request line without a version, `GET /` followed by an empty line, as an
 * HTTP/0.9 request (httpVersion "0.9", no headers) and hands it to the
 * handler like any other, which would answer it 200 with the page; it also
 * passes on `HTTP/2.0` in HTTP/1 syntax. HTTP/0.9 has no headers, so a
 * client speaking it would take none of what a response says about itself
 * (status, type, the defensive headers). RFC 9112: a request line without a
 * version is an invalid request-line, answered 400 (§3); a major version the
 * server does not serve may be answered 505 (§2.3). The connection closes
 * after either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './responses.js';

/** Answers and returns true when the request's HTTP version is not served; false otherwise. */
export function refuseUnsupportedVersion(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.httpVersionMajor === 1) return false;
  res.shouldKeepAlive = false;
  if (req.httpVersionMajor === 0) {
    sendError(
      res,
      400,
      'the request line has no HTTP version (HTTP/0.9 is not served): send HTTP/1.1',
      {
        Connection: 'close',
      },
    );
  } else {
    sendError(res, 505, `HTTP/${req.httpVersion} is not served: send HTTP/1.1`, {
      Connection: 'close',
    });
  }
  return true;
}
