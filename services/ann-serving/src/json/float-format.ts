/**
 * Float output as TF Serving writes it (`WriteDecimal` in json_tensor.cc):
 * printf `%g` with 6 significant digits, or 9 when 6 do not round-trip to
 * the same float32; `.0` appended to whole numbers outside exponent form;
 * non-finite values as the bare tokens `NaN`, `Infinity`, `-Infinity`
 * (which `JSON.stringify` would turn into `null`).
 */

/** A float32 value as TF Serving's JSON writer prints it. */
export function formatFloat32(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  let text = formatG(value, 6);
  if (Math.fround(Number(text)) !== value) text = formatG(value, 9);
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

/**
 * C's `%.<precision>g` for a finite double. toPrecision rounds the same way
 * and is fast; it differs from %g only in layout: it keeps trailing zeros,
 * writes exponents without padding (`e+6`, not `e+06`), and uses fixed
 * notation down to 1e-6 where %g switches to exponents below 1e-4.
 */
export function formatG(value: number, precision: number): string {
  const text = value.toPrecision(precision);
  const e = text.indexOf('e');
  if (e < 0) {
    // "0.0000…" (or "-0.0000…") means an exponent below -4: %g writes that as an exponent.
    if (!text.startsWith('0.0000') && !text.startsWith('-0.0000')) return stripZeros(text);
    return exponentialG(value, precision);
  }
  const exponent = text.slice(e + 1);
  const digits = exponent.slice(1);
  return `${stripZeros(text.slice(0, e))}e${exponent[0]}${digits.length < 2 ? '0' : ''}${digits}`;
}

/** The general path of %g, from toExponential (used for the small-magnitude case). */
function exponentialG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponential = value.toExponential(precision - 1);
  const e = exponential.indexOf('e');
  const exponent = Number(exponential.slice(e + 1));
  if (exponent < -4 || exponent >= precision) {
    const magnitude = Math.abs(exponent);
    const sign = exponent < 0 ? '-' : '+';
    return `${stripZeros(exponential.slice(0, e))}e${sign}${magnitude < 10 ? '0' : ''}${magnitude}`;
  }
  return stripZeros(value.toFixed(precision - 1 - exponent));
}

/** `%g` drops trailing fractional zeros and a trailing decimal point. */
function stripZeros(text: string): string {
  if (!text.includes('.')) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end--;
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  return text.slice(0, end);
}
