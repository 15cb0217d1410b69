#!/usr/bin/env node
// The `recdeploy` launcher. In a checkout (sources present and tsx installed)
// it runs the TypeScript sources, so an edit is live without a build and a
// stale dist/ can never answer; elsewhere (a production install) it runs the
// built dist/. The exit code and signals pass through unchanged.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const built = new URL('../dist/src/main.js', import.meta.url);

function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

const loader = existsSync(source) ? tsxLoader() : undefined;
if (loader) {
  const args = ['--conditions=source', '--import', loader, source, ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  const { main } = await import(built.href);
  process.exitCode = await main(process.argv);
}
