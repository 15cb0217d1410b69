/**
 * The deploy files as the Cloud Build and trigger tests read them: the
 * configs and triggers parsed, the substitutions a text uses, a gcloud
 * argument list's flags, Cloud Build's glob matching, the workspaces a
 * deployable builds, and the deploy step of a function.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEPLOYABLES, type Deployable } from '../../../deploy/cloudbuild-plan.js';
import type { FunctionDeployment } from '../../../deploy/function-deployment.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

export interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args: string[];
  env?: string[];
  waitFor?: string[];
  volumes?: { name: string; path: string }[];
}
export interface CloudBuildConfig {
  steps: Step[];
  substitutions?: Record<string, string>;
  options?: Record<string, unknown>;
  timeout?: string;
}
export interface Trigger {
  name: string;
  filename: string;
  includedFiles: string[];
  github: { owner: string; name: string; push: { branch: string } };
  serviceAccount: string;
  substitutions: Record<string, string>;
}

/** https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values */
export const BUILT_IN = new Set([
  'PROJECT_ID',
  'BUILD_ID',
  'PROJECT_NUMBER',
  'LOCATION',
  'TRIGGER_NAME',
  'COMMIT_SHA',
  'REVISION_ID',
  'SHORT_SHA',
  'REPO_NAME',
  'REPO_FULL_NAME',
  'BRANCH_NAME',
  'TAG_NAME',
  'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH',
  'SERVICE_ACCOUNT_EMAIL',
  'SERVICE_ACCOUNT',
]);
export const CONFIG_KEYS = new Set([
  'steps',
  'timeout',
  'queueTtl',
  'logsBucket',
  'options',
  'substitutions',
  'tags',
  'serviceAccount',
  'secrets',
  'availableSecrets',
  'artifacts',
  'images',
]);
export const STEP_KEYS = new Set([
  'name',
  'args',
  'env',
  'allowFailure',
  'allowExitCodes',
  'dir',
  'id',
  'waitFor',
  'entrypoint',
  'secretEnv',
  'volumes',
  'timeout',
  'script',
  'automapSubstitutions',
]);

export function files(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(repoRoot, dir))) {
    const relative = path.posix.join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') continue;
    if (statSync(path.join(repoRoot, relative)).isDirectory())
      out.push(...files(relative, pattern));
    else if (pattern.test(entry)) out.push(relative);
  }
  return out.sort();
}

export const CONFIG_FILES = ['cloudbuild.yaml', ...DEPLOYABLES.map((d) => d.configPath)];
export const configOf = (file: string) => parse(read(file)) as CloudBuildConfig;

/** Every `$NAME` / `${NAME}` a string uses (`$$` is an escaped dollar). */
export function substitutionsUsed(text: string): string[] {
  const names: string[] = [];
  for (const match of text
    .replaceAll('$$', '')
    .matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g)) {
    names.push((match[1] ?? match[2]) as string);
  }
  return names;
}

/** A gcloud/docker argument list's `--flag=value` pairs (bare flags map to ''). */
export function flagsOf(args: readonly string[]): Map<string, string> {
  return new Map(
    args
      .filter((a) => a.startsWith('--'))
      .map((a) => {
        const at = a.indexOf('=');
        return at < 0 ? [a.slice(2), ''] : [a.slice(2, at), a.slice(at + 1)];
      }),
  );
}

/** Cloud Build's substitutions, as a trigger run in project `p`, region `r` would apply them. */
export function substitute(text: string, subs: Record<string, string>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_, a?: string, b?: string) => {
      const name = (a ?? b) as string;
      const value = subs[name];
      assert.ok(value !== undefined, `no value for $${name}`);
      return value;
    },
  );
}
export const TRIGGER_SUBS = {
  PROJECT_ID: 'recs-project',
  _REGION: 'europe-west1',
  SHORT_SHA: 'abc1234',
  _IMAGE_TAG: 'latest',
};

/** Glob of Cloud Build includedFiles (** spans folders, * does not). */
export function globMatches(glob: string, file: string): boolean {
  const regex = glob
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${regex}$`).test(file);
}

/** The workspace folder a deployable builds (functions/x, services/y), if it is a Node one. */
export function workspaceOf(deployable: Deployable): string | undefined {
  const own = deployable.includedFiles.find((glob) =>
    /^(functions|services)\/[^/]+\/\*\*$/.test(glob),
  );
  return own?.replace(/\/\*\*$/, '');
}

/** The @recdeploy/* workspaces a workspace depends on, transitively, as folders. */
export function workspaceDependencies(workspace: string): string[] {
  const folderOf: Record<string, string> = {
    '@recdeploy/shared': 'shared',
    '@recdeploy/events': 'events',
  };
  const found = new Set<string>();
  const visit = (dir: string) => {
    const pkg = JSON.parse(read(`${dir}/package.json`)) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      const folder = folderOf[name];
      assert.ok(
        !name.startsWith('@recdeploy/') || folder,
        `${dir} depends on ${name}: which folder?`,
      );
      if (folder !== undefined && !found.has(folder)) {
        found.add(folder);
        visit(folder);
      }
    }
  };
  visit(workspace);
  return [...found].sort();
}

export function expectedEnv(d: FunctionDeployment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(d.env).map(([key, value]) => [
      key,
      value.replaceAll('{project}', '$PROJECT_ID').replaceAll('{region}', '${_REGION}'),
    ]),
  );
}

export function deployStepOf(d: FunctionDeployment): Step {
  const step = configOf(`deploy/cloudbuild/function-${d.workspace}.yaml`).steps.find(
    (s) => s.args[0] === 'functions' && s.args[1] === 'deploy',
  );
  assert.ok(step, d.name);
  return step;
}
