/**
 * The parts of a run's body: the model and what the run asked for, the step
 * timeline (register → deploy → verify, a running step counting up), where
 * it serves and with which share of traffic (from the serving record).
 * The verification checks: verification-parts.js.
 */
import { between, duration, h, link, num, time } from './dom.js';
import { state, trafficOf } from './state.js';
import { errorText } from './failure-words.js';
import { STEPS, stepTone } from './words.js';

export function identity(run) {
  const config = run.deploymentConfig ? Object.entries(run.deploymentConfig) : [];
  return [
    h('h4', {}, 'Model'),
    h(
      'dl',
      {},
      h('dt', {}, 'Endpoint'),
      h('dd', { class: 'mono' }, run.modelEndpointId),
      h('dt', {}, 'Run id'),
      h('dd', { class: 'mono', 'data-testid': 'run-id' }, run.runId),
      h('dt', {}, 'Type'),
      h('dd', { 'data-testid': 'model-type' }, `${run.modelType} · ${run.retrievalAlgorithm}`),
      h('dt', {}, 'Blessed'),
      h(
        'dd',
        {},
        h(
          'span',
          {
            class: `chip ${run.isBlessed ? 'tone-good' : 'tone-warn'}`,
            'data-testid': 'blessed',
          },
          run.isBlessed ? 'blessed' : 'not blessed',
        ),
      ),
      h('dt', {}, 'Metrics'),
      h(
        'dd',
        { class: 'chips', 'data-testid': 'metrics' },
        Object.entries(run.metrics || {}).map(([name, value]) =>
          h('span', { class: 'chip', 'data-metric': name }, `${name} ${num(value)}`),
        ),
      ),
      h('dt', {}, 'Artifact'),
      h('dd', { class: 'mono' }, run.artifactUri),
      run.registry
        ? [
            h('dt', {}, 'Registry'),
            h(
              'dd',
              { class: 'mono', 'data-testid': 'registry' },
              `${run.registry.model} @ ${run.registry.version}`,
            ),
          ]
        : null,
      config.length > 0
        ? [
            h('dt', {}, 'Asked for'),
            h(
              'dd',
              { class: 'chips' },
              config.map(([k, v]) => h('span', { class: 'chip' }, `${k} ${v}`)),
            ),
          ]
        : null,
      h('dt', {}, 'Created'),
      h('dd', {}, time(run.createdAt)),
    ),
  ];
}

export function steps(run) {
  return h(
    'ol',
    { class: 'steps', 'data-testid': 'steps' },
    STEPS.map((name) => {
      const step = run.steps[name] || { status: 'pending', attempts: 0 };
      let timing = '';
      let since;
      if (step.startedAt && step.endedAt) timing = duration(between(step.startedAt, step.endedAt));
      else if (step.status === 'in_progress' && step.startedAt) since = step.startedAt;
      const retrying = step.error && step.status === 'pending';
      return h(
        'li',
        {
          'data-testid': 'step',
          'data-step': name,
          'data-step-status': step.status,
          'data-step-attempts': step.attempts,
        },
        h('span', { class: 'step-name' }, name),
        h(
          'span',
          { class: `chip ${stepTone(step.status)}`, 'data-testid': 'step-status' },
          step.status.replace('_', ' '),
        ),
        h(
          'span',
          { class: 'muted' },
          h(
            'span',
            { 'data-testid': 'step-attempts' },
            `${step.attempts} ${step.attempts === 1 ? 'attempt' : 'attempts'}`,
          ),
          timing ? [' · ', h('span', { 'data-testid': 'step-duration' }, timing)] : null,
          since
            ? [
                ' · running for ',
                h(
                  'span',
                  { 'data-testid': 'step-duration', 'data-running-since': since },
                  duration(Date.now() - Date.parse(since)),
                ),
              ]
            : null,
        ),
        step.error
          ? h(
              'span',
              {
                class: `step-error${retrying ? ' retrying' : ''}`,
                'data-testid': 'step-error',
                'data-code': step.error.code,
              },
              retrying ? `Attempt ${step.attempts} failed, will retry. ` : '',
              errorText(step.error, run),
            )
          : null,
      );
    }),
  );
}

export function serving(run) {
  const s = run.serving;
  if (!s) return [h('h4', {}, 'Serving'), h('p', { class: 'muted' }, 'Not deployed yet.')];
  return [
    h('h4', {}, 'Serving'),
    h(
      'dl',
      { 'data-testid': 'serving' },
      h('dt', {}, 'Runtime'),
      h(
        'dd',
        { 'data-testid': 'serving-runtime' },
        s.mode ? `${s.runtime} (mode ${s.mode})` : s.runtime,
      ),
      s.runtimeReason
        ? [h('dt', {}, 'Why'), h('dd', { 'data-testid': 'runtime-reason' }, s.runtimeReason)]
        : null,
      h('dt', {}, 'Service'),
      h('dd', { class: 'mono', 'data-testid': 'serving-service' }, s.service),
      s.revision
        ? [
            h('dt', {}, 'Revision'),
            h('dd', { class: 'mono', 'data-testid': 'serving-revision' }, s.revision),
          ]
        : null,
      trafficRow(run),
      s.url ? [h('dt', {}, 'URL'), h('dd', {}, link(s.url, 'serving-url'))] : null,
      s.tagUrl ? [h('dt', {}, 'Tag URL'), h('dd', {}, link(s.tagUrl, 'serving-tag-url'))] : null,
      s.image ? [h('dt', {}, 'Image'), h('dd', { class: 'mono' }, s.image)] : null,
    ),
  ];
}

function trafficRow(run) {
  const s = run.serving;
  if (!s.revision) return null;
  const record = state.serving.get(s.service);
  let text;
  if (!record) text = 'unknown: nothing observed serving this service yet';
  else {
    const share = trafficOf(run);
    if (share > 0) text = `${share}% of ${s.service}`;
    else if (record.liveRevision)
      text = `0%: ${s.service} serves ${record.liveRevision}${record.liveRunId ? ` (run ${record.liveRunId})` : ''}`;
    else text = `0%: nothing serves ${s.service}`;
  }
  return [h('dt', {}, 'Traffic'), h('dd', { 'data-testid': 'serving-traffic' }, text)];
}
