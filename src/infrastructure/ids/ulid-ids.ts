import { randomBytes } from 'node:crypto';
import { Ids } from '../../application/ports/ids.port';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * `<prefix>_<ULID>` ids (§0.5): 48-bit millisecond time + 80 random bits, canonical upper-case
 * Crockford base32. Monotonic within a millisecond (the random part is incremented), so ids made by
 * one process sort in creation order.
 */
export class UlidIds implements Ids {
  private lastTime = -1;
  private lastRandom = new Uint8Array(10);

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
      this.lastRandom = new Uint8Array(randomBytes(10));
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

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits → 16 base32 characters, most significant first.
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
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
