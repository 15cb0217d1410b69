#!/usr/bin/env node
// A stand-in for `gcloud` that deploy/setup.sh runs in tests (put first on
// PATH as `gcloud`). It appends every call's arguments to GCLOUD_STUB_LOG as
// one JSON line and keeps the resources created so far in GCLOUD_STUB_STATE,
// so `describe` finds what an earlier `create` made: a second run of the
// script sees an existing project, as it would in the cloud.
'use strict';
const fs = require('node:fs');

const args = process.argv.slice(2);
fs.appendFileSync(process.env.GCLOUD_STUB_LOG, `${JSON.stringify(args)}\n`);
const stateFile = process.env.GCLOUD_STUB_STATE;
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : [];

const VERBS = new Set(['describe', 'create', 'update', 'enable', 'import']);
const positional = args.filter((a) => !a.startsWith('--'));
const verbAt = positional.findIndex((a) => VERBS.has(a));
const verb = positional[verbAt];
const group = positional.slice(0, verbAt).join(' ');
const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// `scheduler jobs create|update pubsub NAME`: the target type comes before the name.
const typed =
  group === 'scheduler jobs' && ['pubsub', 'http', 'app-engine'].includes(positional[verbAt + 1]);
const named = positional[verbAt + (typed ? 2 : 1)] ?? '';
// Keys name a resource the way `describe` does: databases by --database, accounts by e-mail.
const name =
  group === 'firestore databases'
    ? flag('database')
    : group === 'iam service-accounts' && verb === 'create'
      ? `${named}@${flag('project')}.iam.gserviceaccount.com`
      : named;
const key = `${group}:${name}`;
const format = flag('format');

function save() {
  fs.writeFileSync(stateFile, JSON.stringify(state));
}

if (group === 'projects' && verb === 'describe') {
  process.stdout.write('123456789012\n');
} else if (group === 'firestore indexes composite' && verb === 'create') {
  const index = `index:${flag('collection-group')}:${args.filter((a) => a.startsWith('--field-config=')).join(' ')}`;
  if (state.includes(index)) {
    process.stderr.write(
      'ERROR: (gcloud.firestore.indexes.composite.create) ALREADY_EXISTS: index already exists\n',
    );
    process.exit(1);
  }
  state.push(index);
  save();
} else if (group === 'builds triggers' && verb === 'import') {
  // The rendered trigger file is gone when the script ends: keep what was imported.
  const source = flag('source');
  const imported = { file: source.split('/').pop(), content: fs.readFileSync(source, 'utf8') };
  fs.appendFileSync(process.env.GCLOUD_STUB_IMPORTS, `${JSON.stringify(imported)}\n`);
} else if (verb === 'describe') {
  if (!state.includes(key)) {
    process.stderr.write(`ERROR: NOT_FOUND: ${key}\n`);
    process.exit(1);
  }
  if (group === 'logging sinks' && format === 'value(writerIdentity)') {
    process.stdout.write(
      'serviceAccount:service-123456789012@gcp-sa-logging.iam.gserviceaccount.com\n',
    );
  }
} else if (verb === 'create') {
  if (state.includes(key)) {
    process.stderr.write(`ERROR: ALREADY_EXISTS: ${key}\n`);
    process.exit(1);
  }
  state.push(key);
  save();
}
