import { Injectable } from '@nestjs/common';

/**
 * A stand-in for an upstream dependency of the probe. It starts out unavailable; tests switch it on to
 * show that a retry after a 5xx really runs again (§0.11 rule 5).
 */
@Injectable()
export class ProbeDownstream {
  private available = false;
  private calls = 0;

  setAvailable(available: boolean): void {
    this.available = available;
  }

  /** How often the probe endpoint actually ran (replays do not count). */
  callCount(): number {
    return this.calls;
  }

  call(): { available: boolean; call: number } {
    this.calls += 1;
    return { available: this.available, call: this.calls };
  }
}
