/** Deterministic pseudo-random bytes that are never 0 (so a missed copy cannot look right). */
export function fillPattern(bytes: Uint8Array, seed: number): void {
  let x = (seed * 2654435761) >>> 0 || 1;
  const words = Math.floor(bytes.byteLength / 4);
  const aligned = bytes.byteOffset % 4 === 0;
  if (aligned && words > 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (let i = 0; i < words; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      u32[i] = (x | 0x01010101) >>> 0;
    }
  }
  for (let i = aligned ? words * 4 : 0; i < bytes.byteLength; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = (x & 0xfe) | 1;
  }
}

/** A fresh buffer holding the pattern for `seed` (what the producer registered). */
export function expectedPattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafeSlow(size);
  fillPattern(b, seed);
  return b;
}

/** A CPU TransportTensor over `bytes`. */
export function cpuTensor(bytes: Uint8Array) {
  return { device: 'cpu', nbytes: bytes.byteLength, bytes: () => bytes };
}
