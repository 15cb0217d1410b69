/**
 * The page: public/index.html, its stylesheets and its script modules
 * (public/assets/), plus the chart library's module and stylesheet from the
 * installed uplot package (VENDOR_ASSETS), all read once at start and served
 * by the dashboard itself: no build step and nothing fetched from elsewhere. Each answer of
 * the page gets a fresh CSP nonce on its <link> and <script> elements, and
 * the modules main.js imports inherit it, so only the page's own code runs;
 * even if untrusted run fields were ever inserted as markup, injected
 * scripts and inline handlers would not execute.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NONCE_PLACEHOLDER = '{{nonce}}';

/** What an asset's file extension is served as. */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Files of installed packages served as assets, by asset name: uPlot's ES
 * module (charts.js imports it as ./uPlot.esm.js, so it inherits the page's
 * nonce) and its stylesheet. It draws with canvas and sets styles through
 * the CSSOM only, which the page's CSP allows.
 */
const VENDOR_ASSETS: Readonly<Record<string, string>> = {
  'uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

export interface RenderedPage {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PageAsset {
  readonly body: string;
  readonly contentType: string;
}

export interface DashboardPage {
  render(): RenderedPage;
  /** A file of public/assets/ by its name (`main.js`); undefined for any other name. */
  asset(name: string): PageAsset | undefined;
}

/**
 * Reads the page and its assets once; throws at start (not on the first
 * request) when the page is missing.
 */
export function loadDashboardPage(file: string = findPageFile()): DashboardPage {
  const template = fs.readFileSync(file, 'utf8');
  if (!template.includes(NONCE_PLACEHOLDER)) {
    throw new Error(`${file} has no ${NONCE_PLACEHOLDER} placeholder: its script would be blocked`);
  }
  const assets = {
    ...readVendorAssets(),
    ...readAssets(path.join(path.dirname(file), 'assets')),
  };
  for (const [, name = ''] of template.matchAll(/"assets\/([^"]+)"/g)) {
    if (!Object.hasOwn(assets, name)) {
      throw new Error(`${file} links assets/${name}, which is missing`);
    }
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
    // A lookup in what was read at start: a request can never name another file.
    asset: (name) => (Object.hasOwn(assets, name) ? assets[name] : undefined),
  };
}

/** Every .js and .css file of `dir`, by file name. */
function readAssets(dir: string): Record<string, PageAsset> {
  const assets: Record<string, PageAsset> = {};
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const contentType = ASSET_TYPES[path.extname(name)];
    if (contentType === undefined) continue;
    assets[name] = { body: fs.readFileSync(path.join(dir, name), 'utf8'), contentType };
  }
  return assets;
}

/** VENDOR_ASSETS, resolved like imports from this file (the workspace's node_modules). */
function readVendorAssets(): Record<string, PageAsset> {
  const require = createRequire(import.meta.url);
  const assets: Record<string, PageAsset> = {};
  for (const [name, specifier] of Object.entries(VENDOR_ASSETS)) {
    const contentType = ASSET_TYPES[path.extname(name)] ?? 'application/octet-stream';
    assets[name] = { body: fs.readFileSync(require.resolve(specifier), 'utf8'), contentType };
  }
  return assets;
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
