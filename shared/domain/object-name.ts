/**
 * Object names, prefixes and URI paths checked segment by segment before they
 * become a local path or a bucket prefix. A name is refused when any segment
 * could climb, stay put or split differently once it reaches a file system or
 * a URL parser: empty, `.` and `..` segments, backslashes, control
 * characters, and every percent-encoded form that decoding (once, or again
 * and again: `%252e%252e`) turns into one of those or into a `/`.
 *
 * Cloud Storage itself accepts almost any name (objects#naming, below), so a
 * bucket can hold `ann/../../escape`; a reader must not trust what it lists.
 */
import path from 'node:path';

/**
 * "Object names … 1–1,024 bytes long when UTF-8 encoded" (flat namespace),
 * https://cloud.google.com/storage/docs/objects#naming.
 */
export const MAX_OBJECT_NAME_BYTES = 1024;

/**
 * C0 controls, DEL and the C1 block. Cloud Storage forbids carriage returns
 * and line feeds in names and advises against #x7F–#x84 and #x86–#x9F (they
 * break XML listings): https://cloud.google.com/storage/docs/objects#naming.
 * None of them belongs in a path segment, so all are refused.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Half a surrogate pair is not Unicode: Cloud Storage wants valid UTF-8, and paths would mangle it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** One run of `%XX` escapes, decoded together so multi-byte UTF-8 sequences stay whole. */
const PERCENT_RUN = /(?:%[0-9a-f]{2})+/gi;

/** Why one `/`-separated segment cannot be a local path segment, or undefined when it can. */
export function segmentProblem(segment: string): string | undefined {
  return literalSegmentProblem(segment) ?? decodedSegmentProblem(segment);
}

/**
 * Why a relative `/`-separated name (an object name, or the part of one below
 * a prefix) is unsafe, naming the first offending segment; undefined when safe.
 */
export function objectNameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_OBJECT_NAME_BYTES) {
    return `the name is ${bytes} bytes long; Cloud Storage names are at most ${MAX_OBJECT_NAME_BYTES}`;
  }
  const segments = name.split('/');
  for (const [index, segment] of segments.entries()) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) {
      return `segment ${index + 1} of ${segments.length}, ${JSON.stringify(segment)}: ${problem}`;
    }
  }
  return undefined;
}

/**
 * Whether `candidate` lies strictly below `root` (not `root` itself), by
 * path segments: `/cache2/x` is not below `/cache`.
 */
export function isStrictlyInside(candidate: string, root: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(candidate));
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

/**
 * The local path of relative name `name` below `root`, or why there is none:
 * the name must pass objectNameProblem, and (belt and braces) the resolved
 * path must lie strictly inside `root`.
 */
export function localPathBelow(
  root: string,
  name: string,
): { readonly path: string } | { readonly problem: string } {
  const problem = objectNameProblem(name);
  if (problem !== undefined) return { problem };
  const resolved = path.resolve(root, ...name.split('/'));
  if (!isStrictlyInside(resolved, root)) {
    return { problem: `the path ${resolved} lies outside ${path.resolve(root)}` };
  }
  return { path: resolved };
}

function literalSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty segments ("//", or a leading or doubled "/") are not allowed';
  if (segment === '.') return '"." segments are not allowed';
  if (segment === '..') return '".." segments climb to the parent directory';
  if (segment.includes('\\')) {
    return 'backslashes are not allowed (a path separator on Windows and in URL parsers)';
  }
  if (CONTROL.test(segment)) return 'control characters are not allowed';
  if (LONE_SURROGATE.test(segment)) return 'it is not valid Unicode (a lone surrogate)';
  return undefined;
}

/**
 * A segment that some later reader might percent-decode must still be one
 * safe segment after every round of decoding. Each round that changes the
 * text shortens it (three characters per escaped byte become at most one),
 * so the loop ends.
 */
function decodedSegmentProblem(segment: string): string | undefined {
  let current = segment;
  for (let round = 1; ; round++) {
    const decoded = current.replace(PERCENT_RUN, (run) =>
      Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
    );
    if (decoded === current) return undefined;
    const shown = `percent-decoded${round === 1 ? '' : ` ${round} times`} it is ${JSON.stringify(decoded)}`;
    if (decoded.includes('/')) return `${shown}, which holds a "/"`;
    const problem = literalSegmentProblem(decoded);
    if (problem !== undefined) return `${shown}, and ${problem}`;
    current = decoded;
  }
}
