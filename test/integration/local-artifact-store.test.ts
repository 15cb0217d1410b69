import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, PermanentError, RecordingLogger } from '@recdeploy/shared';
// Imported from its file until shared/adapters/local/index.ts exports it.
import { LocalArtifactStore } from '../../shared/adapters/local/local-artifact-store.js';

/** Asserts a PermanentError with `code` whose message matches every pattern. */
function assertRejects(code: string, ...patterns: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof PermanentError, `expected a PermanentError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.retryable, false);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

function write(file: string, contents: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, contents);
}

/** Every file below `dir` as relative path → contents. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = fs.readFileSync(full, 'utf8');
  }
  return files;
}

describe('LocalArtifactStore on real directories', () => {
  let base = '';
  let root = '';
  let linkedRoot = '';
  let outside = '';
  let logger: RecordingLogger;
  let store: LocalArtifactStore;
  const url = (file: string): string => `file://${file}`;

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-artifacts-')));
    root = path.join(base, 'root');
    outside = path.join(base, 'outside');
    fs.mkdirSync(root);
    write(path.join(outside, 'secret.txt'), 'secret');
    write(path.join(`${root}2`, 'secret.txt'), 'sibling secret');
    // The second root is itself a symlink: allowed, and checked through its real path.
    fs.mkdirSync(path.join(base, 'real-root'));
    linkedRoot = path.join(base, 'linked-root');
    fs.symlinkSync(path.join(base, 'real-root'), linkedRoot);
    logger = new RecordingLogger();
    store = new LocalArtifactStore({ roots: [root, `${linkedRoot}/`], logger });
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  describe('configuration', () => {
    it('refuses relative roots and an empty root list, listing every problem', () => {
      assert.throws(
        () => new LocalArtifactStore({ roots: ['models', '/abs', './x'], logger }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.deepEqual(error.problems, [
            'ARTIFACT_ROOTS: artifact root "models" is not an absolute path',
            'ARTIFACT_ROOTS: artifact root "./x" is not an absolute path',
          ]);
          return true;
        },
      );
      assert.throws(
        () => new LocalArtifactStore({ roots: [], logger }),
        /at least one artifact root directory is required/,
      );
    });

    it('keeps the roots resolved, without trailing separators', () => {
      assert.deepEqual(store.roots, [root, linkedRoot]);
    });
  });

  describe('checkUri', () => {
    it('returns the normal form of URIs below a root, existing or not', () => {
      assert.equal(store.checkUri(url(`${root}/runs/7/`)), url(`${root}/runs/7`));
      assert.equal(store.checkUri(url(`${root}/a%20b/c`)), url(`${root}/a%20b/c`));
      assert.equal(store.checkUri(`file://localhost${root}/x`), url(`${root}/x`));
      assert.equal(store.checkUri(url(root)), url(root));
      assert.equal(store.checkUri(url(`${linkedRoot}/m`)), url(`${linkedRoot}/m`));
    });

    const forbidden: [string, (r: string, o: string) => string, RegExp][] = [
      [
        'another scheme',
        () => 'gs://bucket/model',
        /uses the gs: scheme; this local store accepts only file:\/\/ URIs/,
      ],
      ['a bare path', (r) => r, /is not a file:\/\/ URI/],
      [
        'a host',
        () => 'file://data/models',
        /names the host "data"; write an absolute path with three slashes/,
      ],
      [
        'a ".." segment',
        (r) => url(`${r}/../outside/secret.txt`),
        /has an unsafe path: segment \d+ of \d+, "\.\.": "\.\." segments climb to the parent directory/,
      ],
      [
        'a ".." segment resolving inside',
        (r) => url(`${r}/a/../b`),
        /segment \d+ of \d+, "\.\.": "\.\." segments climb/,
      ],
      ['a "." segment', (r) => url(`${r}/a/./b`), /"\.": "\." segments are not allowed/],
      ['an empty segment', (r) => url(`${r}/a//b`), /"": empty segments/],
      [
        'a percent-encoded ".."',
        (r) => url(`${r}/%2e%2e/outside/secret.txt`),
        /"%2e%2e": percent-decoded it is "\.\.", and "\.\." segments climb/,
      ],
      [
        'a mixed-case encoded ".."',
        (r) => url(`${r}/.%2E/outside`),
        /"\.%2E": percent-decoded it is "\.\."/,
      ],
      [
        'a doubly encoded ".."',
        (r) => url(`${r}/%252e%252e/outside`),
        /"%252e%252e": percent-decoded 2 times it is "\.\."/,
      ],
      ['an encoded line feed', (r) => url(`${r}/a%0Ab`), /control characters are not allowed/],
      ['backslash segments', (r) => url(`${r}\\..\\outside`), /backslashes are not allowed/],
      ['an encoded NUL', (r) => url(`${r}/a%00b`), /contains a NUL byte/],
      [
        'an encoded slash',
        (r) => url(`${r}/a%2Fb`),
        /"a%2Fb": percent-decoded it is "a\/b", which holds a "\/"/,
      ],
      ['a query', (r) => url(`${r}/a?x=1`), /has a query or fragment/],
      [
        'a sibling directory sharing the prefix',
        (r) => url(`${r}2/secret.txt`),
        /root2\/secret\.txt is outside the configured artifact roots/,
      ],
      [
        'a path elsewhere',
        (_r, o) => url(`${o}/secret.txt`),
        /outside\/secret\.txt is outside the configured artifact roots/,
      ],
    ];
    for (const [what, uriFor, pattern] of forbidden) {
      it(`refuses ${what} with ARTIFACT.FORBIDDEN`, () => {
        assert.throws(
          () => store.checkUri(uriFor(root, outside)),
          assertRejects(
            'ARTIFACT.FORBIDDEN',
            pattern,
            /ARTIFACT_ROOTS/,
            new RegExp(`below ${root}, ${linkedRoot} `),
          ),
        );
      });
    }

    it('refuses a symlink leading out, for existing and not-yet-existing paths below it', () => {
      fs.symlinkSync(outside, path.join(root, 'escape'));
      for (const uri of [url(`${root}/escape/secret.txt`), url(`${root}/escape/new/dir`)]) {
        assert.throws(
          () => store.checkUri(uri),
          assertRejects(
            'ARTIFACT.FORBIDDEN',
            /leads outside the configured artifact roots through a symbolic link/,
            new RegExp(`it resolves to ${outside}/`),
          ),
        );
      }
    });

    it('refuses a symlinked file leading out and a dangling symlink', () => {
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'secret.txt'));
      fs.symlinkSync(path.join(base, 'nowhere'), path.join(root, 'dangling'));
      assert.throws(
        () => store.checkUri(url(`${root}/secret.txt`)),
        assertRejects('ARTIFACT.FORBIDDEN', /through a symbolic link/),
      );
      assert.throws(
        () => store.checkUri(url(`${root}/dangling/x`)),
        assertRejects('ARTIFACT.FORBIDDEN', /dangling symbolic link/),
      );
    });

    it('allows a symlink that stays inside the roots', async () => {
      write(path.join(linkedRoot, 'models', 'm.json'), '{"ok":true}');
      fs.symlinkSync(path.join(linkedRoot, 'models'), path.join(root, 'alias'));
      assert.equal(store.checkUri(url(`${root}/alias/m.json`)), url(`${root}/alias/m.json`));
      assert.equal(await store.readText(url(`${root}/alias/m.json`)), '{"ok":true}');
    });
  });

  describe('readText', () => {
    it('reads UTF-8 text through a symlinked root', async () => {
      write(path.join(base, 'real-root', 'm', 'manifest.json'), '{"name":"zażółć"}');
      assert.equal(await store.readText(url(`${linkedRoot}/m/manifest.json`)), '{"name":"zażółć"}');
    });

    it('answers ARTIFACT.NOT_FOUND for a missing file and for a directory', async () => {
      fs.mkdirSync(path.join(root, 'dir'));
      await assert.rejects(
        store.readText(url(`${root}/missing.json`)),
        assertRejects('ARTIFACT.NOT_FOUND', new RegExp(`nothing at file://${root}/missing\\.json`)),
      );
      await assert.rejects(
        store.readText(url(`${root}/dir`)),
        assertRejects('ARTIFACT.NOT_FOUND', /is not a regular file/),
      );
    });

    it('checks the size before reading: maxBytes is allowed, one more is not', async () => {
      write(path.join(root, 'ten.txt'), '0123456789');
      assert.equal(await store.readText(url(`${root}/ten.txt`), 10), '0123456789');
      await assert.rejects(store.readText(url(`${root}/ten.txt`), 9), (error: unknown) => {
        assertRejects('ARTIFACT.TOO_LARGE', /ten\.txt is 10 bytes, above the 9-byte limit/)(error);
        assert.deepEqual((error as PermanentError).metadata, {
          uri: url(`${root}/ten.txt`),
          size: 10,
          maxBytes: 9,
        });
        return true;
      });
    });

    it('limits text to 1 MiB by default', async () => {
      write(path.join(root, 'big.txt'), Buffer.alloc(1024 * 1024 + 1, 'a'));
      await assert.rejects(
        store.readText(url(`${root}/big.txt`)),
        assertRejects('ARTIFACT.TOO_LARGE', /1048577 bytes, above the 1048576-byte limit/),
      );
    });

    it('refuses forbidden URIs before touching the disk', async () => {
      await assert.rejects(
        store.readText(url(`${root}/%2e%2e/outside/secret.txt`)),
        assertRejects('ARTIFACT.FORBIDDEN'),
      );
    });
  });

  describe('exists', () => {
    it('is true for a file and a non-empty directory, false for an empty or missing one', async () => {
      write(path.join(root, 'bundle', 'ann', 'manifest.json'), '{}');
      fs.mkdirSync(path.join(root, 'empty'));
      assert.equal(await store.exists(url(`${root}/bundle/ann/manifest.json`)), true);
      assert.equal(await store.exists(url(`${root}/bundle`)), true);
      assert.equal(await store.exists(url(`${root}/empty`)), false);
      assert.equal(await store.exists(url(`${root}/missing`)), false);
      assert.equal(await store.exists(url(`${root}/bundle/ann/manifest.json/x`)), false);
      await assert.rejects(
        store.exists(url(`${outside}/secret.txt`)),
        assertRejects('ARTIFACT.FORBIDDEN'),
      );
    });
  });

  describe('openDirectory', () => {
    beforeEach(() => {
      write(path.join(root, 'bundle', 'saved_model.pb'), 'pb');
      write(path.join(root, 'bundle', 'ann', 'manifest.json'), '{}');
    });

    it('hands out the directory in place; release() leaves it alone', async () => {
      const whole = await store.openDirectory(url(`${root}/bundle/`));
      assert.equal(whole.path, path.join(root, 'bundle'));
      await whole.release();
      assert.deepEqual(tree(path.join(root, 'bundle')), {
        'saved_model.pb': 'pb',
        'ann/manifest.json': '{}',
      });
      const ann = await store.openDirectory(url(`${root}/bundle`), 'ann');
      assert.equal(ann.path, path.join(root, 'bundle', 'ann'));
    });

    it('answers ARTIFACT.NOT_FOUND for nothing, a file and an empty directory', async () => {
      fs.mkdirSync(path.join(root, 'bundle', 'empty'));
      await assert.rejects(
        store.openDirectory(url(`${root}/nothing`)),
        assertRejects('ARTIFACT.NOT_FOUND', /nothing at file:\/\/.*\/nothing/),
      );
      await assert.rejects(
        store.openDirectory(url(`${root}/bundle`), 'saved_model.pb'),
        assertRejects(
          'ARTIFACT.NOT_FOUND',
          /\(subdirectory saved_model\.pb\) is a file, not a directory/,
        ),
      );
      await assert.rejects(
        store.openDirectory(url(`${root}/bundle/empty`)),
        assertRejects('ARTIFACT.NOT_FOUND', /is an empty directory/),
      );
    });

    it('refuses a subdirectory that climbs out, is absolute or hides a ".."', async () => {
      for (const subdir of ['../../outside', 'ann/../..', outside, '%2e%2e', 'a\\..']) {
        await assert.rejects(
          store.openDirectory(url(`${root}/bundle`), subdir),
          assertRejects(
            'ARTIFACT.FORBIDDEN',
            /must be a relative path of safe segments: segment \d of/,
          ),
        );
      }
      fs.symlinkSync(outside, path.join(root, 'bundle', 'out'));
      await assert.rejects(
        store.openDirectory(url(`${root}/bundle`), 'out'),
        assertRejects('ARTIFACT.FORBIDDEN', /through a symbolic link/),
      );
    });
  });

  describe('putDirectory', () => {
    let source = '';
    beforeEach(() => {
      source = path.join(base, 'build');
      write(path.join(source, 'index.json'), '{"v":2}');
      write(path.join(source, 'shards', '0.bin'), 'zero');
      write(path.join(source, 'shards', 'deep', '1.bin'), 'one');
    });

    it('creates missing parents and copies the whole tree, leaving no staging behind', async () => {
      const target = path.join(root, 'bundle', 'ann', 'index');
      await store.putDirectory(source, url(target));
      assert.deepEqual(tree(target), {
        'index.json': '{"v":2}',
        'shards/0.bin': 'zero',
        'shards/deep/1.bin': 'one',
      });
      assert.deepEqual(fs.readdirSync(path.dirname(target)), ['index']);
      assert.deepEqual(logger.lines, [
        {
          level: 'info',
          message: 'artifact directory written',
          meta: { uri: url(target), files: 3 },
        },
      ]);
    });

    it('replaces an existing target: stale files disappear', async () => {
      const target = path.join(root, 'index');
      write(path.join(target, 'index.json'), '{"v":1}');
      write(path.join(target, 'stale.bin'), 'old');
      await store.putDirectory(source, url(target));
      assert.deepEqual(Object.keys(tree(target)).sort(), [
        'index.json',
        'shards/0.bin',
        'shards/deep/1.bin',
      ]);
      assert.equal(fs.readFileSync(path.join(target, 'index.json'), 'utf8'), '{"v":2}');
      assert.deepEqual(fs.readdirSync(root), ['index']);
    });

    it('leaves the previous target untouched when the copy fails half-way', async () => {
      const target = path.join(root, 'index');
      write(path.join(target, 'index.json'), '{"v":1}');
      write(path.join(source, 'zz-after', 'more.bin'), 'more');
      fs.symlinkSync(outside, path.join(source, 'shards', 'linked-dir'));
      await assert.rejects(
        store.putDirectory(source, url(target)),
        assertRejects(
          'INPUT.INVALID',
          /linked-dir is a symbolic link to something other than a regular file/,
        ),
      );
      assert.deepEqual(tree(target), { 'index.json': '{"v":1}' });
      assert.deepEqual(fs.readdirSync(root), ['index']);
    });

    it('copies a symlinked file as a file', async () => {
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(source, 'copied.txt'));
      const target = path.join(root, 'with-link');
      await store.putDirectory(source, url(target));
      assert.equal(fs.lstatSync(path.join(target, 'copied.txt')).isFile(), true);
      assert.equal(fs.readFileSync(path.join(target, 'copied.txt'), 'utf8'), 'secret');
    });

    it('refuses targets outside the roots, a root itself, and a missing source', async () => {
      await assert.rejects(
        store.putDirectory(source, url(`${root}2/x`)),
        assertRejects('ARTIFACT.FORBIDDEN', /is outside the configured artifact roots/),
      );
      await assert.rejects(
        store.putDirectory(source, url(root)),
        assertRejects('ARTIFACT.FORBIDDEN', /is an artifact root; write to a directory below it/),
      );
      await assert.rejects(
        store.putDirectory(path.join(base, 'none'), url(`${root}/x`)),
        assertRejects('INPUT.INVALID', /source directory .*\/none does not exist/),
      );
      assert.deepEqual(fs.readdirSync(root), []);
      assert.deepEqual(fs.readdirSync(`${root}2`), ['secret.txt']);
    });
  });
});
