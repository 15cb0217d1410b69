/**
 * Loads TensorFlow.js once per process with the fastest backend available:
 * `@tensorflow/tfjs-node-gpu` (CUDA), `@tensorflow/tfjs-node` (native
 * TensorFlow; both are installed in container images only), else
 * `@tensorflow/tfjs` on the WASM backend (SIMD, single-threaded in Node),
 * else the pure-JS CPU backend. Memoised on purpose: TF.js keeps its engine,
 * backends and kernel registry in process-wide globals, so loading it twice
 * could only disagree with itself.
 */
export type Tf = typeof import('@tensorflow/tfjs');

/** Backends in the order they are tried. */
export type TfBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** The loaded TF.js namespace and the backend it runs on ('tensorflow', 'wasm' or 'cpu'). */
export interface TfRuntime {
  readonly tf: Tf;
  readonly backend: string;
  /** Why faster backends were skipped, for the startup log. */
  readonly skipped: readonly string[];
}

/** Options of `loadTf`. */
export interface LoadTfOptions {
  /** Backends to try, in order; default all of them. Only the first call's choice counts. */
  readonly backends?: readonly TfBackendName[];
}

const ALL: readonly TfBackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
let loading: Promise<TfRuntime> | undefined;

/** The process's TF.js runtime; the first call loads it, later calls get the same one. */
export function loadTf(options: LoadTfOptions = {}): Promise<TfRuntime> {
  loading ??= load(options.backends ?? ALL);
  return loading;
}

async function load(order: readonly TfBackendName[]): Promise<TfRuntime> {
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const tf = await tryBackend(name);
      return { tf, backend: tf.getBackend(), skipped };
    } catch (error) {
      skipped.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${skipped.join('; ')})`);
}

async function tryBackend(name: TfBackendName): Promise<Tf> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    // A variable specifier: these packages are optional and absent from package.json.
    const specifier: string =
      name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    const tf = (await import(specifier)) as Tf;
    if (!(await tf.setBackend('tensorflow')))
      throw new Error('tensorflow backend did not initialise');
    return tf;
  }
  const tf = await import('@tensorflow/tfjs');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(name))) throw new Error(`${name} backend did not initialise`);
  await tf.ready();
  return tf;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
