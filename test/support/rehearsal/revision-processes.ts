/**
 * The containers of the Cloud Run simulator's revisions, as local processes.
 * The image decides what runs: an ann-serving image starts services/ann-serving
 * (the command the local platform uses, defaultServingCommand) with the
 * template's env, PORT on a free loopback port, the K_* variables Cloud Run
 * sets (https://cloud.google.com/run/docs/container-contract, "Environment
 * variables") and the rehearsal's extra env. Any other image (TF Serving: no
 * binary here) fails the revision with the reason. A revision is ready once
 * its startup probe passes (startup-probe.ts); a process that exits, before
 * or after, makes it failed. Each process leads its own process group, and
 * close() SIGKILLs every group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { allocatePort } from '../../../shared/adapters/local/local-serving-ports.js';
import { explainLogTail } from '../../../shared/adapters/local/local-revision-log.js';
import { defaultServingCommand } from '../../../shared/adapters/local/local-serving-command.js';
import type { RevisionTemplateWire } from '../fakes/cloud-run-fake-wire.js';
import { REPO_ROOT } from '../service-process.js';
import { runStartupProbe, type ProbeWire } from './startup-probe.js';

/** What Cloud Run says when the container never listened (the operation's and Ready condition's message after "Revision '…' is not ready and cannot serve traffic."; gcloud output quoted in n3d1117/chatgpt-telegram-bot#524). */
const FAILED_TO_LISTEN = (port: number) =>
  `The user-provided container failed to start and listen on the port defined provided by the PORT=${port} environment variable. Logs for this revision might contain more information.`;
/** What Cloud Run says when the configured startup probe never passed (see cloud-run-fake.ts, failRevision). */
const FAILED_PROBE = 'The user-provided container failed the configured startup probe checks.';

export type RevisionState = 'starting' | 'ready' | { readonly failed: string };

export interface RevisionProcessesOptions {
  /** Added to every revision's environment (after the template's env: the rehearsal's endpoints win). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Multiplies the startup probe's durations (e.g. 0.05 in tests). Default 1. */
  readonly probeScale?: number;
  /** Where each revision's stdout and stderr go: `{logDir}/{revision}.log`. */
  readonly logDir: string;
}

interface Revision {
  state: RevisionState;
  port?: number;
  child?: ChildProcess;
}

/** Whether an image is one of recdeploy's ann-serving images (`…/ann-serving:tag` or `@digest`). */
export function isAnnServingImage(image: string): boolean {
  const name = image.split('/').pop() ?? '';
  return name.split(/[:@]/)[0] === 'ann-serving';
}

export class RevisionProcesses {
  private readonly revisions = new Map<string, Revision>();
  private closing = false;

  /** Kills what still runs when this process exits however it ends (a forced stop, a crash). */
  private readonly killOnExit = () => {
    for (const { child } of this.revisions.values()) killGroup(child);
  };

  constructor(private readonly options: RevisionProcessesOptions) {
    fs.mkdirSync(options.logDir, { recursive: true });
    // Revisions run in process groups of their own, which outlive this process otherwise.
    process.once('exit', this.killOnExit);
  }

  start(serviceId: string, revision: string, template: RevisionTemplateWire): void {
    const entry: Revision = { state: 'starting' };
    this.revisions.set(revision, entry);
    this.launch(serviceId, revision, template, entry).catch((error: unknown) => {
      entry.state = { failed: `the simulator could not start it: ${String(error)}` };
    });
  }

  state(revision: string): RevisionState {
    return (
      this.revisions.get(revision)?.state ?? { failed: `no container was started for ${revision}` }
    );
  }

  /** The loopback port of a ready revision's process; undefined when it is not serving. */
  port(revision: string): number | undefined {
    const entry = this.revisions.get(revision);
    return entry?.state === 'ready' ? entry.port : undefined;
  }

  /** The log file of a revision's process. */
  logFile(revision: string): string {
    return path.join(this.options.logDir, `${revision}.log`);
  }

  async close(): Promise<void> {
    this.closing = true;
    process.removeListener('exit', this.killOnExit);
    const exits: Promise<void>[] = [];
    for (const { child } of this.revisions.values()) {
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) continue;
      exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
      killGroup(child);
    }
    await Promise.all(exits);
  }

  private async launch(
    serviceId: string,
    revision: string,
    template: RevisionTemplateWire,
    entry: Revision,
  ): Promise<void> {
    const container = template.containers?.[0] ?? {};
    const image = container.image ?? '';
    if (!isAnnServingImage(image)) {
      entry.state = {
        failed: `The rehearsal cannot run image ${image}: only ann-serving images start as local processes (there is no TF Serving binary here).`,
      };
      return;
    }
    const port = await allocatePort('127.0.0.1', new Set());
    if (this.closing) return; // close() has already killed what there was: start nothing more
    entry.port = port;
    const logFile = this.logFile(revision);
    const out = fs.openSync(logFile, 'a');
    const command = defaultServingCommand(REPO_ROOT);
    let child: ChildProcess;
    try {
      child = spawn(command.command, [...command.args], {
        cwd: command.cwd,
        env: this.environment(serviceId, revision, container.env ?? [], port),
        stdio: ['ignore', out, out],
        detached: true, // its own process group, killed as one in close()
      });
    } finally {
      fs.closeSync(out);
    }
    entry.child = child;
    let exited = false;
    child.once('error', (error) => {
      exited = true;
      entry.state = { failed: `the process could not be started: ${error.message}` };
    });
    child.once('exit', (code, signal) => {
      exited = true;
      // Closing, or already failed (its probe gave up and killed it): nothing new to say.
      if (this.closing || typeof entry.state === 'object') return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      entry.state = {
        failed: `${FAILED_TO_LISTEN(port)} (rehearsal: the process ${how}; ${logFile}: ${explainLogTail(logFile, 0)})`,
      };
    });
    const passed = await runStartupProbe({
      probe: container.startupProbe as ProbeWire | undefined,
      port,
      scale: this.options.probeScale ?? 1,
      alive: () => !exited && !this.closing,
    });
    if (exited || this.closing) return;
    if (passed) {
      entry.state = 'ready';
      return;
    }
    entry.state = { failed: `${FAILED_PROBE} (rehearsal: ${logFile})` };
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Only what a container gets: nothing of the simulator's own environment but PATH and HOME. */
  private environment(
    serviceId: string,
    revision: string,
    env: readonly { name?: string; value?: string }[],
    port: number,
  ): Record<string, string> {
    const vars: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
    };
    for (const { name, value } of env) if (name) vars[name] = value ?? '';
    return {
      ...vars,
      ...this.options.extraEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
      K_SERVICE: serviceId,
      K_REVISION: revision,
      K_CONFIGURATION: serviceId,
      // A Cloud Run instance starts with an empty filesystem: ann-serving's
      // default cache (os.tmpdir(), shared by every process and earlier run)
      // could hand a revision another run's bundle under the same gs:// path.
      MODEL_CACHE_DIR: path.join(this.options.logDir, 'model-cache', revision),
    };
  }
}

/** SIGKILLs a revision's whole process group (the server's own children too). */
function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone
  }
}
