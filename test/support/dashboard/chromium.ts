/**
 * Launches Debian's chromium through playwright-core (no browser download).
 * A machine without it fails the test with how to install it: the browser
 * test is never skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** /usr/bin/chromium, else the first Chromium-like browser on PATH. */
export function findChromium(): string {
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  throw new Error(
    'chromium is not installed: the dashboard browser test needs it. Install it with ' +
      '`sudo apt-get install -y chromium` (npm test does this by itself when run as root).',
  );
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: containers and CI runners usually lack the user namespaces the sandbox needs.
  return chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
