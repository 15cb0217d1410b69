/**
 * Packs one function into a self-contained upload directory for
 * `gcloud functions deploy --source=<outDir>`: the handler and the workspace
 * code it uses (events/, shared/) bundled by esbuild into ES modules, plus a
 * package.json listing only the packages that cannot be bundled, pinned to
 * the versions in package-lock.json. Cloud Functions installs those and
 * starts the bundle with the functions-framework; no workspace is needed.
 *
 *   npx tsx --conditions=source scripts/pack-function.ts <register|deploy|verify> <outDir>
 *
 * Code splitting keeps every dynamic import a separate chunk, loaded only
 * when used: a cloud function never loads better-sqlite3 (the local backend)
 * and loads hnswlib or TF.js only when it builds an index or checks recall.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Packages left out of the bundle, each for a reason: native addons
 * (better-sqlite3, hnswlib-node), files read from the package folder at run
 * time (the Google clients load their .proto/.json descriptors and gax its
 * protos; TF.js's WASM backend its .wasm files), and the functions-framework,
 * which must be the very module instance the handler registers with.
 */
export const EXTERNAL_PACKAGES: readonly RegExp[] = [
  /^@google-cloud\//,
  /^google-gax$/,
  /^@tensorflow\//,
  /^better-sqlite3$/,
  /^hnswlib-node$/,
];

/**
 * Worker threads that bundled code starts by URL, relative to its own module
 * (`new URL('./hnsw-build-worker.js', import.meta.url)` in
 * shared/ann/search/shard-build.ts, `./shard-search-worker.js` in
 * parallel-hnsw-searcher.ts): bundled as entries of their own, beside the
 * chunks that start them (code reached by dynamic import lands in chunks/).
 */
const WORKER_ENTRIES: Readonly<Record<string, string>> = {
  'chunks/hnsw-build-worker': 'shared/ann/search/hnsw-build-worker.ts',
  'chunks/shard-search-worker': 'shared/ann/search/shard-search-worker.ts',
};

/** Lines prepended to every chunk so bundled CommonJS code finds `require` in an ES module. */
const ESM_REQUIRE_SHIM = [
  "import { createRequire as __recdeployCreateRequire } from 'node:module';",
  'const require = __recdeployCreateRequire(import.meta.url);',
].join('\n');

export interface PackResult {
  readonly outDir: string;
  /** The entry bundle, relative to outDir. */
  readonly main: string;
  /** Every file written, relative to outDir, sorted. */
  readonly files: readonly string[];
  /** External packages the bundle imports, with their pinned versions. */
  readonly dependencies: Readonly<Record<string, string>>;
  /** Every import specifier the bundle leaves to node_modules (e.g. `@google-cloud/firestore`). */
  readonly externalSpecifiers: readonly string[];
}

export interface PackOptions {
  /** The workspace below functions/ (register, deploy, verify). */
  readonly workspace: string;
  readonly outDir: string;
  /** The functions-framework target the start script names. */
  readonly entryPoint: string;
}

/** Bundles functions/<workspace> into `outDir` (emptied first). */
export async function packFunction(options: PackOptions): Promise<PackResult> {
  const workspaceDir = path.join(repoRoot, 'functions', options.workspace);
  const entry = path.join(workspaceDir, 'src', 'index.ts');
  const functionPackage = readJson(path.join(workspaceDir, 'package.json')) as {
    name: string;
    version: string;
  };
  const outDir = path.resolve(options.outDir);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const result = await esbuild.build({
    entryPoints: {
      index: entry,
      ...Object.fromEntries(
        Object.entries(WORKER_ENTRIES).map(([out, source]) => [out, path.join(repoRoot, source)]),
      ),
    },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['source'],
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: ESM_REQUIRE_SHIM },
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [externalPackages()],
  });
  for (const warning of result.warnings) {
    process.stderr.write(`pack-function: ${warning.text}\n`);
  }

  await assertRelativeUrlsResolve(result.metafile);

  const lock = readJson(path.join(repoRoot, 'package-lock.json')) as LockFile;
  const externalSpecifiers = externalImports(result.metafile);
  const dependencies = pinnedVersions(new Set(externalSpecifiers.map(packageNameOf)), lock);
  const rootPackage = readJson(path.join(repoRoot, 'package.json')) as {
    allowScripts?: Record<string, boolean>;
  };
  const packageJson = {
    name: `${functionPackage.name.replace(/^@[^/]+\//, '')}-packed`,
    version: functionPackage.version,
    private: true,
    description: `${functionPackage.name} bundled by scripts/pack-function.ts for gcloud functions deploy`,
    type: 'module',
    main: 'index.js',
    engines: { node: '>=20' },
    scripts: {
      start: `functions-framework --target=${options.entryPoint} --signature-type=cloudevent`,
    },
    dependencies,
    // npm versions that gate install scripts must still build the native addons.
    ...(rootPackage.allowScripts === undefined ? {} : { allowScripts: rootPackage.allowScripts }),
  };
  await writeFile(path.join(outDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  const files = await listFiles(outDir);
  return { outDir, main: 'index.js', files, dependencies, externalSpecifiers };
}

/**
 * Bundled code that opens a file next to itself (`new URL('./x…', import.meta.url)`)
 * finds it only if the pack put it there: fail the pack instead of the
 * function at run time. Template URLs are checked by their static prefix.
 */
async function assertRelativeUrlsResolve(metafile: esbuild.Metafile): Promise<void> {
  const missing: string[] = [];
  for (const output of Object.keys(metafile.outputs).filter((file) => file.endsWith('.js'))) {
    const code = await readFile(output, 'utf8');
    for (const match of code.matchAll(/new URL\(\s*["'`]\.\/([^"'`$]+)/g)) {
      const prefix = match[1] ?? '';
      const siblings = await readdir(path.dirname(output));
      if (!siblings.some((name) => name.startsWith(prefix) && name.endsWith('.js'))) {
        missing.push(`${path.basename(output)} opens ./${prefix}… which is not in the pack`);
      }
    }
  }
  if (missing.length > 0) throw new Error(`pack-function: ${missing.join('; ')}`);
}

/** Marks the {@link EXTERNAL_PACKAGES} external, whoever imports them. */
function externalPackages(): esbuild.Plugin {
  return {
    name: 'recdeploy-externals',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) =>
        EXTERNAL_PACKAGES.some((pattern) => pattern.test(packageNameOf(args.path)))
          ? { path: args.path, external: true }
          : undefined,
      );
    },
  };
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const BUILTINS = new Set(builtinModules);

/** Package specifiers imported (statically or dynamically) from outside the bundle, sorted. */
function externalImports(metafile: esbuild.Metafile): string[] {
  const specifiers = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external) continue;
      const specifier = imported.path;
      if (specifier.startsWith('node:') || BUILTINS.has(packageNameOf(specifier))) continue;
      specifiers.add(specifier);
    }
  }
  return [...specifiers].sort();
}

interface LockFile {
  readonly packages: Readonly<Record<string, { readonly version?: string }>>;
}

/** The lockfile's version of each package; a package the lockfile lacks is an error. */
function pinnedVersions(names: ReadonlySet<string>, lock: LockFile): Record<string, string> {
  const pinned: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of [...names].sort()) {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (version === undefined) missing.push(name);
    else pinned[name] = version;
  }
  if (missing.length > 0) {
    throw new Error(
      `pack-function: ${missing.join(', ')} imported by the bundle but not in package-lock.json`,
    );
  }
  return pinned;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(dir, relative)));
    else files.push(relative);
  }
  return files.sort();
}

/** The descriptor of functions/<workspace> (functions/<workspace>/src/deployment.ts). */
async function entryPointOf(workspace: string): Promise<string> {
  const file = path.join(repoRoot, 'functions', workspace, 'src', 'deployment.ts');
  const module = (await import(pathToFileURL(file).href)) as {
    deployment?: { entryPoint?: unknown };
  };
  const entryPoint = module.deployment?.entryPoint;
  if (typeof entryPoint !== 'string') throw new Error(`${file} exports no deployment.entryPoint`);
  return entryPoint;
}

async function main(argv: readonly string[]): Promise<number> {
  const [workspace, outDir] = argv;
  if (workspace === undefined || outDir === undefined || argv.length !== 2) {
    process.stderr.write('usage: pack-function.ts <register|deploy|verify> <outDir>\n');
    return 2;
  }
  const known = (await readdir(path.join(repoRoot, 'functions'))).sort();
  if (!known.includes(workspace)) {
    process.stderr.write(
      `pack-function: no function "${workspace}" (functions/ has ${known.join(', ')})\n`,
    );
    return 2;
  }
  const packed = await packFunction({
    workspace,
    outDir,
    entryPoint: await entryPointOf(workspace),
  });
  process.stdout.write(
    `packed functions/${workspace} into ${packed.outDir}: ${packed.files.length} files, ` +
      `dependencies ${Object.entries(packed.dependencies)
        .map(([name, version]) => `${name}@${version}`)
        .join(', ')}\n`,
  );
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `pack-function: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
