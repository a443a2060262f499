// Small, fast, platform-independent hashing: every simulated value is derived
// from these, so they must give the same bits on every machine and Node version
// (integer maths only; no Math.random, no string-keyed Map iteration order).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** One MurmurHash3 round: folds a 32-bit word into the running hash. */
function mixWord(h: number, word: number): number {
  let k = Math.imul(word | 0, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 finaliser: spreads every input bit over the output. */
function finalise(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit key for a string (FNV-1a over UTF-16 code units, then finalised). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return finalise(h);
}

const TWO_32 = 4294967296;

/**
 * Hashes a key with integer words to an unsigned 32-bit value. Words may be any
 * safe integer (negative or above 2^32: both halves are mixed in).
 */
export function hashWords(key: number, ...words: number[]): number {
  let h = key | 0;
  for (const w of words) {
    const lo = w % TWO_32;
    const hi = Math.floor(w / TWO_32);
    h = mixWord(h, lo);
    h = mixWord(h, hi);
  }
  return finalise(h ^ (words.length * 8));
}

/** Uniform in [0, 1) from a hash of the key and words. */
export function unit(key: number, ...words: number[]): number {
  return hashWords(key, ...words) / TWO_32;
}

/**
 * Approximately standard-normal noise (Irwin–Hall of four uniforms, scaled to
 * unit variance; bounded to about ±3.46) from a hash of the key and words.
 */
export function gaussian(key: number, ...words: number[]): number {
  const a = hashWords(key, ...words);
  const b = hashWords(key ^ 0x5bd1e995, ...words);
  const sum = (a & 0xffff) / 65536 + (a >>> 16) / 65536 + (b & 0xffff) / 65536 + (b >>> 16) / 65536;
  return (sum - 2) * Math.sqrt(3);
}

/** A seeded pseudo-random sequence (sfc32), for building one day's schedule from one hash. */
export function prng(seed: number): () => number {
  let a = seed | 0;
  let b = hashWords(seed, 1) | 0;
  let c = hashWords(seed, 2) | 0;
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / TWO_32;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Rounds to a number of decimals the same way everywhere (half away from zero). */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(value) * f) / f;
  return value < 0 ? -r : r;
}
