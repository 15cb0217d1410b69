/**
 * Who can reach the dashboard, from the address it actually bound, for its
 * "dashboard listening" log line. The dashboard has no login of its own:
 * bound beyond loopback, anyone who reaches the port reads every run, unless
 * something in front decides who gets through (Cloud Run IAM on a private
 * service, IAP). On a machine, that deserves a warning; on Cloud Run
 * (K_SERVICE set) binding every interface is how the front end reaches the
 * container, and the service's IAM is what protects it.
 */

export interface Exposure {
  /** For the listening line: who can reach it. */
  readonly access: string;
  /** Set when reachable from the network outside Cloud Run: logged as a warning. */
  readonly warning?: string;
}

export function describeExposure(
  address: string,
  port: number,
  env: Readonly<Record<string, string | undefined>>,
): Exposure {
  if (isLoopback(address)) return { access: 'this machine only (loopback)' };
  const where = isUnspecified(address) ? `every interface (${address})` : address;
  if (env.K_SERVICE !== undefined) {
    return {
      access:
        `network: ${where}, behind Cloud Run; the dashboard has no login of its own, ` +
        'Cloud Run IAM decides who opens it (private with --no-allow-unauthenticated, as deploy/ sets it)',
    };
  }
  return {
    access: `network: ${where}; unauthenticated`,
    warning:
      `the dashboard listens on ${where} port ${port} and has no login of its own: anyone who ` +
      'can reach that port reads every run. Keep it behind Cloud Run IAM or IAP, or set ' +
      'HOST=127.0.0.1 to keep it on this machine',
  };
}

function isLoopback(address: string): boolean {
  return /^(127\.|::ffff:127\.)/.test(address) || address === '::1';
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
