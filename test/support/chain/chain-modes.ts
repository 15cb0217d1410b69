/**
 * The modes the chain scenarios run in: `local` always; `cloud` (the
 * rehearsal on the cloud adapters, test/support/rehearsal/rehearsal-chain.ts)
 * when the Firestore and Pub/Sub emulators are there (scripts/test.sh starts
 * them). A mode that cannot run says why instead of starting.
 */
import type { ChainMode, ChainUnderTest } from './chain-under-test.js';
import { localChain, localChainIfStarted } from './local-chain.js';
import {
  holdRehearsalChain,
  rehearsalChain,
  rehearsalChainIfStarted,
  rehearsalUnavailable,
  releaseRehearsalChain,
} from '../rehearsal/rehearsal-chain.js';

export interface ChainModeEntry {
  readonly mode: ChainMode;
  /** What the suite's title says about the adapters. */
  readonly title: string;
  /** The process's chain of this mode, started on first use. */
  readonly chain: () => Promise<ChainUnderTest>;
  /** Why this mode cannot run here; undefined when it can. */
  readonly unavailable?: string;
}

export function chainModes(env: NodeJS.ProcessEnv = process.env): ChainModeEntry[] {
  const unavailable = rehearsalUnavailable(env);
  return [
    {
      mode: 'local',
      title: 'on the embedded adapters (functions-framework, local bus, child processes)',
      chain: localChain,
    },
    {
      mode: 'cloud',
      title:
        'on the cloud adapters (emulators, Vertex/GCS/Cloud Run simulators, functions in their own processes)',
      chain: rehearsalChain,
      ...(unavailable === undefined ? {} : { unavailable }),
    },
  ];
}

/**
 * Declares the scenarios of `body` once per mode, in a suite titled after it;
 * a mode that cannot run here gets one pending test whose title says why.
 */
export function describeInChainModes(body: (mode: ChainModeEntry) => void): void {
  for (const mode of chainModes()) {
    describe(`deployment chain ${mode.title}`, function () {
      if (mode.unavailable !== undefined) {
        it(`is not run in ${mode.mode} mode here: ${mode.unavailable}`);
        return;
      }
      this.timeout(240_000);
      if (mode.mode === 'cloud') {
        holdRehearsalChain();
        after(releaseRehearsalChain);
      }
      body(mode);
    });
  }
}

/** Stops whichever chains this process started (a root `after` hook of the scenario files). */
export async function stopStartedChains(): Promise<void> {
  const chains = [localChainIfStarted(), rehearsalChainIfStarted()];
  await Promise.allSettled(
    chains.map(async (chain) => {
      if (chain !== undefined) await (await chain).stop();
    }),
  );
}
