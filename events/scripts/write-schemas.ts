/**
 * `npm run schemas`: writes events/schemas/*.json from the TypeBox schemas and
 * removes schema files no contract produces any more, so a renamed or retired
 * schema cannot linger in the published package.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemaFiles } from '../schema-files.js';

const directory = fileURLToPath(new URL('../schemas/', import.meta.url));
mkdirSync(directory, { recursive: true });

const files = renderSchemaFiles();
for (const file of files) writeFileSync(`${directory}${file.fileName}`, file.content);

const current = new Set(files.map((file) => file.fileName));
for (const name of readdirSync(directory)) {
  if (name.endsWith('.json') && !current.has(name)) rmSync(`${directory}${name}`);
}
console.log(`wrote ${files.length} schema files to ${directory}`);
