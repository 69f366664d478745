/**
 * The driver's TLS identity for a TCP control plane: a fresh ECDSA P-256 key and a self-signed
 * X.509 v3 certificate, made at `init`. Node 20 can make keys and parse certificates
 * (`crypto.X509Certificate`) but cannot issue one, and Debian does not install the `openssl`
 * command by default, so the certificate is encoded here: a few DER structures, signed with
 * `crypto.sign`. Nobody validates it against a CA: an actor process pins its SHA-256
 * fingerprint, which the launcher hands it with the driver's address (see worker/join-driver.ts).
 */
import * as crypto from 'node:crypto';

/** What a TLS control server needs, and what joiners pin. */
export interface TlsIdentity {
  /** PEM private key (PKCS#8). Never leaves the driver process. */
  readonly key: string;
  /** PEM certificate. */
  readonly cert: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by ':' (Node's `fingerprint256` form). */
  readonly fingerprint256: string;
}

/** How long the certificate is valid: a driver that runs longer than this is unusual but fine (joiners pin, not validate). */
const VALIDITY_DAYS = 365;

/**
 * Make a new key and self-signed certificate whose subject is `commonName`.
 *
 * @example
 * ```ts
 * const id = makeSelfSignedIdentity('tensorwire-driver');
 * tls.createServer({ key: id.key, cert: id.cert });
 * ```
 */
export function makeSelfSignedIdentity(commonName = 'tensorwire-driver', now = new Date()): TlsIdentity {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const notAfter = new Date(now.getTime() + VALIDITY_DAYS * 86_400_000);
  const notBefore = new Date(now.getTime() - 60_000); // clocks of the hosts differ a little
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(crypto.randomBytes(16)),
    ecdsaWithSha256,
    name,
    seq(utcTime(notBefore), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = crypto.sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaWithSha256, bitString(signature));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: pem('CERTIFICATE', der),
    fingerprint256: fingerprint256(der),
  };
}

/** Node's `X509Certificate.fingerprint256` form of a DER certificate's SHA-256. */
export function fingerprint256(der: Buffer): string {
  return crypto.createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** The same fingerprint written any common way ('AB:CD..', 'abcd..') in the one form used for comparison. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[:\s]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex.match(/../g)!.join(':') : '';
}

// ---- DER, only the few types a certificate needs ----------------------------------------

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/** A positive INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const sub: number[] = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) sub.unshift(0x80 | (v & 0x7f));
    out.push(...sub);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime (YYMMDDHHMMSSZ): valid for years 1950-2049, which a fresh certificate's are. */
function utcTime(d: Date): Buffer {
  const s = d.toISOString(); // 2024-05-01T12:34:56.789Z
  return tlv(0x17, Buffer.from(`${s.slice(2, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}Z`, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
