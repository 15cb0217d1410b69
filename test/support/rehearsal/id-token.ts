/**
 * Google-style ID tokens for the rehearsal: RS256 JWTs minted by the
 * metadata server (metadata-server.ts) and checked by the Cloud Run
 * simulator's router (service-router.ts), both with one local key pair.
 * The claims are those of a Google-signed ID token for a service account
 * (https://cloud.google.com/docs/authentication/token-types#id: iss
 * https://accounts.google.com, aud, azp, sub, email, email_verified, iat,
 * exp; one hour of validity).
 */
import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
/** Google ID tokens are valid for one hour (token-types#id, "ID token lifetime"). */
const LIFETIME_S = 3600;

export interface IdTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly azp: string;
  readonly sub: string;
  readonly email: string;
  readonly email_verified: boolean;
  readonly iat: number;
  readonly exp: number;
}

export type TokenCheck =
  | { readonly valid: true; readonly claims: IdTokenClaims }
  | { readonly valid: false; readonly reason: string };

/** Mints and checks ID tokens for one service account. */
export class IdTokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly keyId = randomUUID();
  /** A stable numeric id, as Google gives a service account (sub, azp). */
  private readonly uniqueId = String(100_000_000_000_000_000_000n + BigInt(Date.now()));

  constructor(readonly email: string) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  mint(audience: string, nowMs = Date.now()): string {
    const iat = Math.floor(nowMs / 1000);
    const claims: IdTokenClaims = {
      iss: GOOGLE_ISSUER,
      aud: audience,
      azp: this.uniqueId,
      sub: this.uniqueId,
      email: this.email,
      email_verified: true,
      iat,
      exp: iat + LIFETIME_S,
    };
    const head = encode({ alg: 'RS256', kid: this.keyId, typ: 'JWT' });
    const signed = `${head}.${encode(claims)}`;
    const signature = sign('sha256', Buffer.from(signed), this.privateKey).toString('base64url');
    return `${signed}.${signature}`;
  }

  /**
   * Whether `token` is one of ours, unexpired, from Google's issuer and for
   * one of `audiences`; the reason when it is not.
   */
  check(token: string, audiences: readonly string[], nowMs = Date.now()): TokenCheck {
    const parts = token.split('.');
    if (parts.length !== 3) return invalid('not a JWT (three dot-separated parts)');
    const [head = '', body = '', signature = ''] = parts;
    const header = decode(head);
    if (header?.alg !== 'RS256') return invalid('not an RS256 token');
    if (!this.signatureVerifies(`${head}.${body}`, signature)) {
      return invalid('signature does not verify');
    }
    const claims = decode(body) as Partial<IdTokenClaims> | undefined;
    if (claims?.iss !== GOOGLE_ISSUER) return invalid(`issuer ${String(claims?.iss)}`);
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return invalid('expired');
    if (typeof claims.aud !== 'string' || !audiences.includes(claims.aud)) {
      return invalid(`audience ${String(claims.aud)} is not one of ${audiences.join(', ')}`);
    }
    return { valid: true, claims: claims as IdTokenClaims };
  }

  private signatureVerifies(signed: string, signature: string): boolean {
    try {
      return verify(
        'sha256',
        Buffer.from(signed),
        this.publicKey,
        Buffer.from(signature, 'base64url'),
      );
    } catch {
      return false; // a malformed signature is just a wrong one
    }
  }
}

function invalid(reason: string): TokenCheck {
  return { valid: false, reason };
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
