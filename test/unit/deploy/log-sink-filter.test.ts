/**
 * The log sink's filter (deploy/setup.sh `pipeline_sink_filter`), read from
 * the script itself and evaluated on LogEntry shapes: the documented
 * PipelineJob example passes; task events, other states and other projects
 * do not. The evaluator knows only what the filter uses: `field="value"`
 * comparisons joined by AND (gcp-facts §A1: no bare OR terms). The docs
 * that show the filter show this one, word for word.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const setup = fileURLToPath(new URL('../../../deploy/setup.sh', import.meta.url));
const example = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL('../../../events/examples/vertex-pipeline-job-log-entry.json', import.meta.url),
    ),
    'utf8',
  ),
) as LogEntry;

interface LogEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  jsonPayload: Record<string, string>;
}

function filterFor(project: string): string {
  const result = spawnSync(
    'bash',
    ['-c', 'source "$1" && pipeline_sink_filter "$2"', 'sink-filter', setup, project],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

/** Each clause `path="value"`; throws on anything else, so the evaluator cannot be too lenient. */
function clauses(filter: string): { path: string[]; value: string }[] {
  return filter.split(/\s+AND\s+|\n/).map((clause) => {
    const match = /^([A-Za-z_.@]+)="([^"]*)"$/.exec(clause.trim());
    assert.ok(match, `unsupported clause: ${clause}`);
    return { path: (match[1] as string).split('.'), value: match[2] as string };
  });
}

function matches(filter: string, entry: unknown): boolean {
  return clauses(filter).every(({ path, value }) => {
    let node: unknown = entry;
    for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
    return node === value;
  });
}

describe('log sink filter (deploy/setup.sh)', function () {
  const project = example.resource.labels.resource_container as string;
  const filter = filterFor(project);

  it('is written out in full: log name pinned, resource type, SUCCEEDED only', function () {
    assert.equal(
      filter,
      `logName="projects/${project}/logs/aiplatform.googleapis.com%2Fpipeline_job_events"\n` +
        'AND resource.type="aiplatform.googleapis.com/PipelineJob"\n' +
        'AND jsonPayload.state="PIPELINE_STATE_SUCCEEDED"',
    );
  });

  it('routes the documented PipelineJob SUCCEEDED entry', function () {
    assert.equal(matches(filter, example), true);
  });

  it('leaves out task events (same resource type), other states and other projects', function () {
    const taskLog = example.logName.replace('pipeline_job_events', 'pipeline_job_task_events');
    assert.equal(matches(filter, { ...example, logName: taskLog }), false);
    for (const state of [
      'PIPELINE_STATE_FAILED',
      'PIPELINE_STATE_CANCELLED',
      'PIPELINE_STATE_RUNNING',
    ]) {
      assert.equal(
        matches(filter, { ...example, jsonPayload: { ...example.jsonPayload, state } }),
        false,
      );
    }
    assert.equal(matches(filterFor('other-project'), example), false);
  });

  it('is the filter docs/events.md and docs/deploy.md show, word for word', function () {
    // Each doc shows it in a fenced block right after a line naming the sink filter,
    // with P or PROJECT for the project id.
    for (const [doc, placeholder] of [
      ['docs/events.md', 'P'],
      ['docs/deploy.md', 'PROJECT'],
    ] as const) {
      const text = readFileSync(fileURLToPath(new URL(`../../../${doc}`, import.meta.url)), 'utf8');
      const shown = /sink(?:'s)? filter[^\n]*\n+```\n([^`]+)```/i.exec(text)?.[1];
      assert.ok(shown !== undefined, `${doc} shows the sink filter in a fenced block`);
      assert.equal(shown.trim(), filterFor(placeholder), doc);
    }
  });
});
