/**
 * A stop that was insisted on (a second Ctrl-C while the first one's stop
 * still runs): every process the stack leaves behind is killed at once, with
 * SIGKILL, and stack.json is removed; the caller then exits, which closes the
 * routers' and functions' ports and drops the data directory's lock.
 *
 * What is killed: the stack's descendants (revisions it started, the
 * dashboard), and the revisions the serving state records for this data
 * directory that are still ann-serving processes (ones adopted from an
 * earlier stack are not our children). Index build jobs are left alone: they
 * run detached like the cloud's jobs, write their outcome and exit by
 * themselves, and the next start reads it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { removeStackState } from './stack-state.js';

/** Kills what remains; returns the pids it signalled. */
export function killWhatRemains(dataDir: string): number[] {
  const targets = new Set<number>([...descendantsOf(process.pid), ...recordedRevisions(dataDir)]);
  const killed: number[] = [];
  for (const pid of targets) {
    if (pid === process.pid || commandLine(pid).includes('index-build-job')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // ESRCH: it ended by itself meanwhile.
    }
  }
  removeStackState(dataDir);
  return killed;
}

interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
}

/** Every process below `root`, from /proc (Linux); empty where /proc is missing. */
export function descendantsOf(root: number): number[] {
  const all = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const entry of all) {
      if (entry.ppid === parent && !found.includes(entry.pid)) {
        found.push(entry.pid);
        queue.push(entry.pid);
      }
    }
  }
  return found;
}

function processTable(): ProcEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const entries: ProcEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      entries.push({ pid: Number(name), ppid: Number(fields[1]) });
    } catch {
      // Gone meanwhile.
    }
  }
  return entries;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Pids of revisions recorded in `{dataDir}/serving.db` that are still model
 * servers (a recorded pid may since belong to an unrelated process).
 */
function recordedRevisions(dataDir: string): number[] {
  const file = path.join(dataDir, 'serving.db');
  if (!fs.existsSync(file)) return [];
  try {
    const db = new Database(file, { readonly: true, timeout: 500 });
    try {
      const rows = db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all() as {
        pid: number;
      }[];
      return rows.map((row) => row.pid).filter((pid) => commandLine(pid).includes('ann-serving'));
    } finally {
      db.close();
    }
  } catch {
    // Locked or unreadable: the descendants are still killed.
    return [];
  }
}
