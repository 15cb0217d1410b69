/**
 * What `recdeploy start` tells a person while it works: one line per phase
 * (train, register, index, deploy, verify, canary) ending with ✔ or ✖ and how
 * long it took. On a terminal an ora spinner shows the phase that is running
 * (its text follows the phase's progress, e.g. the training epochs); on a pipe
 * (CI, `| tee`) nothing is animated: only the finished lines, and progress as
 * plain indented lines.
 */
import ora, { type Ora } from 'ora';

export interface Narrator {
  /** A permanent line (a running spinner is cleared first and drawn again after it). */
  line(text: string): void;
  /** A phase begins: `phase: text` on a spinner (terminal) or nothing yet (pipe). */
  begin(phase: string, text: string): void;
  /** Progress of the running phase (spinner text on a terminal, an indented line on a pipe). */
  progress(text: string): void;
  /**
   * The running phase (or `phase`, when none runs) ended: `✔ phase: text (1.2 s)`.
   * `seconds` overrides the time measured since begin (a run's phases are timed
   * by the run's own history).
   */
  end(outcome: 'ok' | 'failed', text: string, options?: { phase?: string; seconds?: number }): void;
  /** Stops a spinner that still runs (the phase is left unfinished). */
  close(): void;
}

export interface NarratorOptions {
  /** Writes one line to stderr. */
  readonly err: (line: string) => void;
  /** Animate with a spinner (stderr is a terminal and not CI). */
  readonly tty: boolean;
  /** The stream the spinner draws on (process.stderr). */
  readonly stream?: NodeJS.WriteStream;
}

/** Seconds as the phase lines show them: 0.4 s, 12.3 s, 2 min 05 s. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '? s';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
}

export function createNarrator(options: NarratorOptions): Narrator {
  let running: { phase: string; startedAt: number; spinner?: Ora } | undefined;
  const finish = (symbol: string, text: string): void => {
    const spinner = running?.spinner;
    if (spinner) spinner.stopAndPersist({ symbol, text });
    else options.err(`${symbol} ${text}`);
  };
  return {
    line(text) {
      const spinner = running?.spinner;
      if (spinner?.isSpinning) {
        spinner.clear();
        options.err(text);
        spinner.render();
      } else {
        options.err(text);
      }
    },
    begin(phase, text) {
      running?.spinner?.stop();
      running = { phase, startedAt: Date.now() };
      if (!options.tty) return;
      running.spinner = ora({
        text: `${phase}: ${text}`,
        stream: options.stream ?? process.stderr,
        // Raw stdin would turn Ctrl-C into a keypress instead of the terminal's SIGINT.
        discardStdin: false,
        // ora restores a hidden cursor through signal handlers of its own; ours decide the stop.
        hideCursor: false,
      }).start();
    },
    progress(text) {
      const spinner = running?.spinner;
      if (spinner && running) {
        spinner.text = `${running.phase}: ${text}`;
        spinner.render();
      } else {
        options.err(`  ${text}`);
      }
    },
    end(outcome, text, endOptions = {}) {
      const symbol = outcome === 'ok' ? '✔' : '✖';
      const other = endOptions.phase !== undefined && endOptions.phase !== running?.phase;
      const phase = endOptions.phase ?? running?.phase ?? '?';
      const seconds =
        endOptions.seconds ??
        (running === undefined || other ? undefined : (Date.now() - running.startedAt) / 1000);
      const line = `${phase}: ${text}${seconds === undefined ? '' : ` (${formatSeconds(seconds)})`}`;
      // A phase that ended inside the running one (index within deploy) keeps its spinner going.
      if (other) return this.line(`${symbol} ${line}`);
      finish(symbol, line);
      running = undefined;
    },
    close() {
      running?.spinner?.stop();
      running = undefined;
    },
  };
}
