#!/usr/bin/env node
// `npm run build` and the first half of `npm start`: `tsc -b` (incremental:
// only projects whose inputs changed are compiled), with one phase line in the
// style of the stack's narration. On a terminal an ora spinner shows the
// elapsed seconds and ends "✔ build: up to date in 0.9 s" (nothing to do) or
// "✔ build: built in 18.2 s"; on a pipe (CI, `| tee`) plain lines. A compile
// error prints tsc's output and exits with tsc's code. Plain JavaScript: it
// must run before anything is built. Arguments go to tsc (`-- --verbose`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import ora from 'ora';

const root = path.resolve(import.meta.dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const PHASE = 'build: compiling TypeScript (tsc -b, incremental)';
// A terminal that reports no width (`script` without a size) would make ora clear endless rows.
const tty = process.stderr.isTTY === true && !process.env.CI && (process.stderr.columns ?? 0) > 0;

/** Seconds as the stack's phase lines show them: 0.4 s, 12.3 s, 2 min 05 s. */
function formatSeconds(seconds) {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
}

/**
 * The tsbuildinfo file of every project in the root tsconfig.json, with its
 * modification time (undefined before the first build). tsc -b leaves them
 * all alone when nothing changed, so an unchanged set means "up to date".
 */
function buildInfoTimes() {
  const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  return (config.references ?? []).map(({ path: project }) => {
    const file = path.join(root, project, 'dist', 'tsconfig.tsbuildinfo');
    return fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  });
}

/** Runs tsc -b; resolves with its exit code and everything it printed. */
function runTsc(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-b', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const startedAt = Date.now();
const elapsed = () => formatSeconds((Date.now() - startedAt) / 1000);
const before = buildInfoTimes();
let spinner;
let ticker;
if (tty) {
  // ora's own handlers would restore the cursor on Ctrl-C; it is never hidden here.
  spinner = ora({ text: PHASE, stream: process.stderr, discardStdin: false, hideCursor: false });
  spinner.start();
  ticker = setInterval(() => (spinner.text = `${PHASE} ${elapsed()}`), 200);
} else {
  process.stderr.write(`${PHASE}\n`);
}

const args = ['--pretty', String(tty), ...process.argv.slice(2)];
const { code, output } = await runTsc(args).catch((error) => ({
  code: 1,
  output: `tsc could not start: ${error.message}\n`,
}));
clearInterval(ticker);
const changed = buildInfoTimes().some((time, i) => time !== before[i]);
const text =
  code !== 0
    ? `build: failed in ${elapsed()} (tsc -b exit code ${code})`
    : `build: ${changed ? 'built' : 'up to date'} in ${elapsed()}`;
const symbol = code === 0 ? '✔' : '✖';
if (spinner) spinner.stopAndPersist({ symbol, text });
else process.stderr.write(`${symbol} ${text}\n`);
if (output.trim() !== '') process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
process.exitCode = code;
