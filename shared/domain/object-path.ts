/**
 * The `@recdeploy/shared/object-path` entry: checks that keep every gs://
 * object name, prefix and file:// path inside its root, for ann-serving's
 * download and for the artifact stores alike.
 */
export * from './object-name.js';
export * from './artifact-uri.js';
export * from './object-download-plan.js';
