/**
 * Prometheus metrics for `GET /metrics`, on a registry of their own (no
 * process-wide default registry, so tests can run several servers). Label
 * values come from fixed sets (route names, outcomes), never from URLs, so a
 * client cannot blow up the series count.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AbandonedStage } from '../admission/abandoned.js';
import type { AdmissionController, ShedReason } from '../admission/admission-controller.js';
import type { ServingModel } from '../model/serving-model.js';

/** What happened to a request, from its HTTP status. */
export type Outcome = 'ok' | 'client_error' | 'unavailable' | 'server_error';

export function outcomeOf(status: number): Outcome {
  if (status < 400) return 'ok';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'client_error' : 'server_error';
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'outcome'>;
  private readonly latency: Histogram<'route' | 'outcome'>;
  private readonly batchSize: Histogram;
  private readonly shed: Counter<'reason'>;
  private readonly abandoned: Counter<'stage'>;
  private readonly admissionDelay: Gauge;
  private readonly admissionShedding: Gauge;
  private admission: AdmissionController | undefined;
  private readonly catalogue: Gauge;
  private readonly backend: Gauge<'backend'>;
  private readonly executor: Gauge<'executor'>;
  private readonly mode: Gauge<'mode'>;
  private readonly searchThreads: Gauge;
  private readonly ready: Gauge;
  private readonly modelInfo: Gauge<'training_run_id' | 'fingerprint'>;
  private model: ServingModel | undefined;
  private readonly replayInstances: Gauge;
  private readonly replayWrites: Counter<'result'>;
  private replaySample: { readonly size: number } | undefined;

  constructor() {
    const registers = [this.registry];
    // process_resident_memory_bytes, heap, event-loop lag: what a memory or stall investigation needs.
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'ann_serving_requests_total',
      help: 'Requests answered, by route and outcome.',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'ann_serving_request_duration_seconds',
      help: 'Time from the full request body to the response, by route and outcome.',
      labelNames: ['route', 'outcome'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'ann_serving_batch_size',
      help: 'Instances per micro-batch sent to the encoder and searcher.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.shed = new Counter({
      name: 'ann_serving_load_shed_total',
      help: 'Predict requests refused with 503 to shed load, by reason: event_loop or queue_delay (admission at arrival), sojourn (waited too long, refused at dequeue), queue_full (the batch queue bound).',
      labelNames: ['reason'],
      registers,
    });
    this.abandoned = new Counter({
      name: 'ann_serving_abandoned_requests_total',
      help: 'Predict requests whose client went away before the answer; their remaining work was dropped, by stage.',
      labelNames: ['stage'],
      registers,
    });
    this.admissionDelay = new Gauge({
      name: 'ann_serving_admission_delay_seconds',
      help: 'Admission control: the queueing delay a predict request arriving now would meet (event-loop lag or oldest queued request).',
      registers,
      collect: () => this.admissionDelay.set((this.admission?.estimatedDelayMs() ?? 0) / 1000),
    });
    this.admissionShedding = new Gauge({
      name: 'ann_serving_admission_shedding',
      help: 'Admission control: 1 while overload is standing and predict requests beyond the delay target are refused.',
      registers,
      collect: () => this.admissionShedding.set(this.admission?.shedding ? 1 : 0),
    });
    this.catalogue = new Gauge({
      name: 'ann_serving_catalogue_size',
      help: 'Candidate products in the loaded model.',
      registers,
    });
    this.backend = new Gauge({
      name: 'ann_serving_encoder_backend',
      help: 'The TensorFlow.js backend encoding queries (value 1 on the active one).',
      labelNames: ['backend'],
      registers,
    });
    this.executor = new Gauge({
      name: 'ann_serving_encoder_executor',
      help: 'What computes query embeddings: fast-path (typed arrays) or tfjs (value 1 on the active one).',
      labelNames: ['executor'],
      registers,
    });
    this.mode = new Gauge({
      name: 'ann_serving_search_mode',
      help: 'How candidates are retrieved: ann (HNSW) or exact (value 1 on the active one).',
      labelNames: ['mode'],
      registers,
    });
    this.searchThreads = new Gauge({
      name: 'ann_serving_search_threads',
      help: 'Threads one search runs on: the HNSW shard count when shards are searched in parallel, 1 on the main thread alone.',
      registers,
    });
    this.modelInfo = new Gauge({
      name: 'ann_serving_model_info',
      help: 'Value 1, labelled with the training run and the fingerprint of the loaded model (the X-Recdeploy-Run-Id and X-Recdeploy-Fingerprint of its answers; training_run_id empty when unknown).',
      labelNames: ['training_run_id', 'fingerprint'],
      registers,
    });
    this.ready = new Gauge({
      name: 'ann_serving_model_ready',
      help: '1 once the model and index are loaded and predict is served; 0 again if search fails for good.',
      registers,
      collect: () => {
        if (this.model?.failure) this.ready.set(0);
      },
    });
    this.replayInstances = new Gauge({
      name: 'ann_serving_replay_sample_instances',
      help: 'Predict instances held in the replay sample (0 while REPLAY_SAMPLE_SIZE is 0, the default).',
      registers,
      collect: () => this.replayInstances.set(this.replaySample?.size ?? 0),
    });
    this.replayWrites = new Counter({
      name: 'ann_serving_replay_sample_writes_total',
      help: 'Writes of the replay sample to REPLAY_SAMPLE_URI, by result (an error is retried at the next interval).',
      labelNames: ['result'],
      registers,
    });
  }

  /** Reports the replay sample's size on every scrape (replay/replay-sampler.ts). */
  watchReplaySample(sample: { readonly size: number }): void {
    this.replaySample = sample;
  }

  observeReplayWrite(result: 'ok' | 'error'): void {
    this.replayWrites.inc({ result });
  }

  observeRequest(route: string, status: number, seconds: number): void {
    const labels = { route, outcome: outcomeOf(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  observeBatch(size: number): void {
    this.batchSize.observe(size);
  }

  observeShed(reason: ShedReason = 'queue_full'): void {
    this.shed.inc({ reason });
  }

  observeAbandoned(stage: AbandonedStage): void {
    this.abandoned.inc({ stage });
  }

  /** Reports the admission controller's state on every scrape. */
  watchAdmission(controller: AdmissionController): void {
    this.admission = controller;
  }

  modelLoaded(model: ServingModel): void {
    this.catalogue.set(model.catalogueSize);
    this.backend.set({ backend: model.encoderBackend }, 1);
    this.executor.set({ executor: model.encoderExecutor }, 1);
    this.mode.set({ mode: model.mode }, 1);
    this.searchThreads.set(model.searchThreads ?? 0);
    if (model.fingerprint) {
      const { trainingRunId, id } = model.fingerprint;
      this.modelInfo.set({ training_run_id: trainingRunId ?? '', fingerprint: id }, 1);
    }
    this.ready.set(1);
    this.model = model;
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
