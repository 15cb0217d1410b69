/**
 * The one servable this process serves, through its lifecycle: LOADING
 * while the bundle loads (the server already listens, so Cloud Run's
 * startup probe can ask), AVAILABLE once model and index are in memory, END
 * when loading failed. Name and version are known from configuration before
 * the model is, so status requests can answer during LOADING.
 */
import type { ServableState } from '../protocol/model-responses.js';
import type { ServingModel } from './serving-model.js';

export class ModelSlot {
  private current: ServingModel | undefined;
  private failure: Error | undefined;

  constructor(
    readonly name: string,
    readonly version: number,
  ) {}

  get state(): ServableState {
    if (this.current) return 'AVAILABLE';
    return this.failure ? 'END' : 'LOADING';
  }

  /** The loaded model, or undefined while loading or after a failed load. */
  get model(): ServingModel | undefined {
    return this.current;
  }

  /** Why loading failed, if it did. */
  get loadError(): Error | undefined {
    return this.failure;
  }

  ready(model: ServingModel): void {
    this.current = model;
  }

  failed(error: Error): void {
    this.failure = error;
  }
}
