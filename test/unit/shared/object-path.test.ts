import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import {
  fileUriPathProblem,
  localPathBelow,
  objectNameProblem,
  planObjectDownloads,
  readGsUri,
} from '@recdeploy/shared/object-path';
import { ArtifactUri } from '../../../events/fields.js';

const ROOT = '/srv/cache/bundle';

/** Segments an attacker would try, plain and encoded once or twice, among ordinary ones. */
const NASTY_SEGMENTS = [
  '',
  '.',
  '..',
  '...',
  '%2e',
  '%2E%2e',
  '.%2e',
  '%2e.',
  '%252e%252e',
  '%25252e%25252e',
  '%%32%65%%32%65',
  '%2f',
  '..%2f..',
  '%5c',
  '..\\..',
  '\\',
  '\u0000',
  'a\nb',
  '%0a',
  '\u0085',
  '%c2%85',
  '%c0%ae%c0%ae',
  '%',
  '%zz',
  'ann',
  'index',
  'a b',
  'żółw',
  '日本',
  '🙂',
  'x.y',
];
const nastySegment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'grapheme-ascii' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: 'binary' }) },
);
const nastyName = fc
  .array(nastySegment, { minLength: 1, maxLength: 6 })
  .map((segments) => segments.join('/'));

/** Every text a reader might make of `name` by percent-decoding it 0, 1, 2… times. */
function decodings(name: string): string[] {
  const texts = [name];
  for (let current = name; ;) {
    const next = current.replace(/(?:%[0-9a-f]{2})+/gi, (run) =>
      Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
    );
    if (next === current) return texts;
    texts.push(next);
    current = next;
  }
}

/** Where a reader lands that splits on `/` or `\` and resolves against ROOT. */
function landsInside(text: string): boolean {
  const resolved = path.resolve(ROOT, ...text.split(/[/\\]/));
  return resolved.startsWith(`${ROOT}/`);
}

describe('object-path: names checked segment by segment', () => {
  it('never accepts a name that lands outside the root, however often it is decoded', () => {
    fc.assert(
      fc.property(nastyName, (name) => {
        if (objectNameProblem(name) !== undefined) return;
        for (const text of decodings(name)) assert.ok(landsInside(text), `${name} → ${text}`);
        // …nor through a URL parser, which resolves %2e as a dot (the file: route).
        const parsed = new URL(`file://${ROOT}/${name.replace(/[?#]/g, '_')}`).pathname;
        assert.ok(parsed.startsWith(`${ROOT}/`), `${name} → ${parsed}`);
        const local = localPathBelow(ROOT, name);
        assert.ok('path' in local && local.path.startsWith(`${ROOT}/`));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses every name holding a dot, empty, backslash or control segment in any encoding', () => {
    fc.assert(
      fc.property(nastyName, (name) => {
        const bad = decodings(name).some((text) =>
          text.split('/').some(
            (segment) =>
              ['', '.', '..'].includes(segment) ||
              // eslint-disable-next-line no-control-regex -- what is refused
              /[\\\u0000-\u001f\u007f-\u009f]/.test(segment),
          ),
        );
        if (bad) assert.notEqual(objectNameProblem(name), undefined, name);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts ordinary names: bundle files, spaces, unicode, dots inside names', () => {
    for (const name of [
      'models/run-1/ann/index/shard-0.bin',
      'ann/vocab/city name.txt',
      'modèles/żółw/日本/🙂.json',
      'a.b/...c/x..y',
      'percent/100%/a%zz',
      'runs/7#1/[x]*?',
    ]) {
      assert.equal(objectNameProblem(name), undefined, name);
    }
    const ordinarySegment = fc
      .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
      .filter((s) => !/[/\\%\p{Cc}]/u.test(s) && s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(ordinarySegment, { minLength: 1, maxLength: 8 }), (segments) => {
        const name = segments.join('/');
        fc.pre(Buffer.byteLength(name) <= 1024);
        assert.equal(objectNameProblem(name), undefined, name);
      }),
    );
  });

  it('names the offending segment and refuses names above 1024 bytes', () => {
    assert.equal(
      objectNameProblem('ann/%2e%2e/x'),
      'segment 2 of 3, "%2e%2e": percent-decoded it is "..", and ".." segments climb to the parent directory',
    );
    assert.match(objectNameProblem('é'.repeat(513)) ?? '', /1026 bytes long/);
    assert.equal(objectNameProblem('a'.repeat(1024)), undefined);
  });
});

describe('object-path: gs:// and file:// URIs', () => {
  it('reads a bucket and a name, one trailing slash allowed', () => {
    assert.deepEqual(readGsUri('gs://models/runs/7/'), {
      location: { bucket: 'models', name: 'runs/7' },
    });
    assert.deepEqual(readGsUri('gs://models'), { location: { bucket: 'models', name: '' } });
    assert.deepEqual(readGsUri('gs://models/'), { location: { bucket: 'models', name: '' } });
    for (const [uri, problem] of [
      ['gs://models//', /empty object name segment/],
      ['gs://models/runs/7//', /segment 3 of 3, "": empty/],
      ['gs://models/../../victim', /unsafe object name "\.\.\/\.\.\/victim": segment 1 of 3/],
      ['gs://../x', /invalid bucket name "\.\."/],
      ['s3://models/x', /uses the s3: scheme/],
    ] as const) {
      const read = readGsUri(uri);
      assert.ok('problem' in read, uri);
      assert.match(read.problem, problem);
    }
    assert.equal(fileUriPathProblem('file:///models/1/'), undefined);
    assert.equal(fileUriPathProblem('file:///'), undefined);
    assert.match(fileUriPathProblem('file:///m/%2E./x') ?? '', /segment 2 of 3, "%2E\."/);
  });

  it('the event contract accepts no artifact URI a reader would refuse', () => {
    const pattern = new RegExp(ArtifactUri.pattern ?? '');
    const unicodePattern = new RegExp(ArtifactUri.pattern ?? '', 'u'); // as ajv compiles it
    let accepted = 0;
    fc.assert(
      fc.property(fc.constantFrom('gs://models/', 'file:///'), nastyName, (start, name) => {
        const uri = start + name;
        assert.equal(pattern.test(uri), unicodePattern.test(uri), uri);
        if (!pattern.test(uri)) return;
        accepted++;
        const problem = start === 'file:///' ? fileUriPathProblem(uri) : undefined;
        const read = readGsUri(uri);
        assert.equal(problem, undefined, uri);
        if (start === 'gs://models/') assert.ok('location' in read, uri);
      }),
      { numRuns: 3000 },
    );
    assert.ok(
      accepted > 100,
      `only ${accepted} generated URIs were accepted: the test says little`,
    );
  });
});

describe('object-path: planning a download', () => {
  const objects = (...names: string[]) => names.map((name) => ({ name }));

  it('maps names below the prefix strictly inside the directory; placeholders and clashes left out', () => {
    const plan = planObjectDownloads(
      objects('m/', 'm/ann/', 'm/ann/a.bin', 'm/ann/x', 'm/ann/x/y', 'm/z z/é'),
      'm/',
      ROOT,
      'gs://models/m',
    );
    assert.deepEqual(
      plan.downloads.map((d) => [d.relative, d.destination]),
      [
        ['ann/a.bin', `${ROOT}/ann/a.bin`],
        ['ann/x/y', `${ROOT}/ann/x/y`],
        ['z z/é', `${ROOT}/z z/é`],
      ],
    );
    assert.deepEqual(plan.clashes, ['m/ann/x']);
  });

  it('fails on any listing that holds a hostile name, wherever it is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a.bin', 'ann/b', 'c/d/e'), { maxLength: 5 }),
        nastyName.filter(
          (name) => name !== '' && !name.endsWith('/') && objectNameProblem(name) !== undefined,
        ),
        fc.nat(),
        (ordinary, hostile, at) => {
          const names: string[] = [...ordinary];
          names.splice(at % (names.length + 1), 0, hostile);
          assert.throws(
            () =>
              planObjectDownloads(objects(...names.map((n) => `m/${n}`)), 'm/', ROOT, 'gs://b/m'),
            (error: Error & { code?: string }) =>
              error.code === 'ARTIFACT.FORBIDDEN' &&
              error.message.startsWith('gs://b/m holds an object that cannot be downloaded safely'),
          );
        },
      ),
      { numRuns: 1000 },
    );
    assert.throws(
      () => planObjectDownloads(objects('other/x'), 'm/', ROOT, 'gs://b/m'),
      /"other\/x": it lies outside the listed prefix "m\/"/,
    );
  });
});
