// Time-weighted average of a count of requests in flight.
//
// The autoscaler samples once per interval. An instantaneous reading of
// in-flight requests is noisy (a burst that lands exactly on the sample, or a
// gap between two requests), and the HPA scales up on one sample. The average
// over the interval — the area under the in-flight curve divided by its length —
// is Little's law's L = λ·W measured directly, and costs two clock reads per
// request.

export class InflightGauge {
  readonly #clock: () => number;
  #value = 0;
  #area = 0;
  #windowStart: number;
  #lastChange: number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
    this.#windowStart = this.#lastChange = clock();
  }

  /** Requests in flight now. */
  get value(): number {
    return this.#value;
  }

  /** A request started. */
  inc(): void {
    this.#advance(this.#clock());
    this.#value++;
  }

  /** A request ended. */
  dec(): void {
    this.#advance(this.#clock());
    if (this.#value > 0) this.#value--;
  }

  /** Average in flight since the previous call (or since creation), then starts a new window. */
  takeAverage(): number {
    const now = this.#clock();
    this.#advance(now);
    const span = now - this.#windowStart;
    const average = span > 0 ? this.#area / span : this.#value;
    this.#area = 0;
    this.#windowStart = now;
    return average;
  }

  #advance(now: number): void {
    this.#area += this.#value * (now - this.#lastChange);
    this.#lastChange = now;
  }
}
