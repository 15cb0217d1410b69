/**
 * The page: one HTML file (public/index.html) with its CSS and script inline,
 * no build step and nothing fetched from elsewhere. Each answer gets a fresh
 * CSP nonce, so only the page's own inline script and style run; even if
 * untrusted run fields were ever inserted as markup, injected scripts and
 * inline handlers would not execute.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NONCE_PLACEHOLDER = '{{nonce}}';

export interface RenderedPage {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface DashboardPage {
  render(): RenderedPage;
}

/** Reads the page once; throws at start (not on the first request) when it is missing. */
export function loadDashboardPage(file: string = findPageFile()): DashboardPage {
  const template = fs.readFileSync(file, 'utf8');
  if (!template.includes(NONCE_PLACEHOLDER)) {
    throw new Error(`${file} has no ${NONCE_PLACEHOLDER} placeholder: its script would be blocked`);
  }
  return {
    render() {
      const nonce = randomBytes(16).toString('base64');
      return {
        html: template.replaceAll(NONCE_PLACEHOLDER, nonce),
        headers: {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': [
            "default-src 'none'",
            `script-src 'nonce-${nonce}'`,
            `style-src 'nonce-${nonce}'`,
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
          ].join('; '),
        },
      };
    },
  };
}

/**
 * public/index.html of this workspace: two levels up from src/page/ when run
 * from source, three from dist/src/page/ when built.
 */
function findPageFile(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const candidate = path.join(dir, 'public', 'index.html');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(
    `public/index.html not found above ${path.dirname(fileURLToPath(import.meta.url))}`,
  );
}
