import { createHash, X509Certificate } from 'node:crypto';

/** The password Java is given for the run's trust store: it holds public certificates only. */
export const javaTrustStorePassword = 'replay-env';

/**
 * A Java KeyStore (JKS) holding `pems` as trusted certificate entries, so a Java child can trust the run's
 * CA through `-Djavax.net.ssl.trustStore` without running keytool (a JVM start, about a second of CPU, on
 * every run). The format is the JDK's own (sun.security.provider.JavaKeyStore): magic, version 2, entries
 * (tag 2, alias, date, "X.509", DER), then SHA-1 over the password as UTF-16BE, "Mighty Aphrodite" and
 * everything before it. Certificates Node cannot parse are left out.
 */
export function javaTrustStore(pems: readonly string[], now = Date.now()): Buffer {
  const entries = pems.flatMap((pem, index) => {
    try {
      return [{ alias: `cert-${index}`, der: new X509Certificate(pem).raw }];
    } catch {
      return [];
    }
  });
  const parts: Buffer[] = [int32(0xfeedfeed), int32(2), int32(entries.length)];
  for (const entry of entries) {
    parts.push(int32(2), utf(entry.alias), int64(now), utf('X.509'), int32(entry.der.length), entry.der);
  }
  const body = Buffer.concat(parts);
  const password = Buffer.from(javaTrustStorePassword, 'utf16le').swap16();
  const digest = createHash('sha1')
    .update(password)
    .update(Buffer.from('Mighty Aphrodite', 'utf8'))
    .update(body)
    .digest();
  return Buffer.concat([body, digest]);
}

/** The PEM certificates of a bundle file's text, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}

function int64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value));
  return buffer;
}

/** Java's DataOutput.writeUTF for ASCII text: a two-byte length, then the bytes. */
function utf(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}
