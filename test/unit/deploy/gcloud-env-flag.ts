/** Reading back what deploy/function-deployment.ts puts in `--set-env-vars`. */
/**
 * The variables of a `--set-env-vars` value, split as gcloud splits it: on
 * commas, or on the delimiter a `^D^` prefix names (gcloud topic escaping);
 * a pair's first `=` ends its name.
 */
export function envOfFlag(value: string): Record<string, string> {
  const escaped = /^\^([^^]+)\^/.exec(value);
  const delimiter = escaped?.[1] ?? ',';
  const pairs = (escaped ? value.slice(escaped[0].length) : value).split(delimiter);
  return Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}
