import { randomFillSync } from 'node:crypto';
import { Ids } from '../../application/ports/ids.port';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * `<prefix>_<ULID>` ids (§0.5): 48-bit millisecond time + 80 random bits, canonical upper-case
 * Crockford base32. Monotonic within a millisecond (the random part is incremented), so ids made by
 * one process sort in creation order.
 */
export class UlidIds implements Ids {
  private lastTime = -1;
  private lastRandom: Uint8Array = new Uint8Array(10);

  constructor(private readonly now: () => number = Date.now) {}

  next(prefix: string): string {
    return `${prefix}_${this.ulid()}`;
  }

  ulid(): string {
    let time = this.now();
    if (time <= this.lastTime) {
      time = this.lastTime;
      incrementRandom(this.lastRandom);
    } else {
      this.lastTime = time;
      this.lastRandom = randomPart();
    }
    return encodeTime(time) + encodeRandom(this.lastRandom);
  }
}

function encodeTime(time: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[time % 32] + out;
    time = Math.floor(time / 32);
  }
  return out;
}

/** Random bytes are drawn from a pool refilled 4 KiB at a time (one CSPRNG call per ~400 milliseconds of ids). */
const POOL = new Uint8Array(4096);
let poolOffset = POOL.length;

function randomPart(): Uint8Array {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const part = POOL.slice(poolOffset, poolOffset + 10);
  // Never handed out twice.
  POOL.fill(0, poolOffset, poolOffset + 10);
  poolOffset += 10;
  return part;
}

export function encodeRandom(b: Uint8Array): string {
  // 80 bits → 16 base32 characters, most significant first; each 5 bytes (40 bits) are 8 characters.
  return encode40(b[0], b[1], b[2], b[3], b[4]) + encode40(b[5], b[6], b[7], b[8], b[9]);
}

function encode40(b0: number, b1: number, b2: number, b3: number, b4: number): string {
  const low = ((b1 << 24) | (b2 << 16) | (b3 << 8) | b4) >>> 0;
  return (
    CROCKFORD[b0 >>> 3] +
    CROCKFORD[((b0 & 7) << 2) | (low >>> 30)] +
    CROCKFORD[(low >>> 25) & 31] +
    CROCKFORD[(low >>> 20) & 31] +
    CROCKFORD[(low >>> 15) & 31] +
    CROCKFORD[(low >>> 10) & 31] +
    CROCKFORD[(low >>> 5) & 31] +
    CROCKFORD[low & 31]
  );
}

function incrementRandom(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] === 0xff) {
      bytes[i] = 0;
      continue;
    }
    bytes[i] += 1;
    return;
  }
}
