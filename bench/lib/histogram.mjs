// A fixed latency histogram: 10 µs buckets up to 100 ms, then 10 ms buckets up to ~60 s.
// Two client processes merge by adding counts, so millions of deliveries never cross IPC.
const FINE = 10_000
const COARSE = 6_000
const STEP = 10

export class Histogram {
  constructor (counts = new Array(FINE + COARSE).fill(0), max = 0, count = 0) {
    this.counts = counts
    this.max = max
    this.count = count
  }

  record (ms) {
    const v = ms < 0 ? 0 : ms
    const i = v < 100 ? Math.floor(v * 100) : FINE + Math.min(COARSE - 1, Math.floor((v - 100) / STEP))
    this.counts[i]++
    this.count++
    if (v > this.max) this.max = v
  }

  merge (other) {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i]
    this.count += other.count
    this.max = Math.max(this.max, other.max)
    return this
  }

  /** Upper edge of the bucket holding the p-th value (nearest rank). */
  percentile (p) {
    if (this.count === 0) return null
    const rank = Math.max(1, Math.ceil(p * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(this.max, i < FINE ? (i + 1) / 100 : 100 + (i - FINE + 1) * STEP)
    }
    return this.max
  }

  summary () {
    return { count: this.count, p50: this.percentile(0.5), p95: this.percentile(0.95), p99: this.percentile(0.99), max: this.count === 0 ? null : this.max }
  }

  toJSON () {
    // Sparse form keeps the IPC message small.
    const sparse = []
    this.counts.forEach((c, i) => { if (c !== 0) sparse.push([i, c]) })
    return { sparse, max: this.max, count: this.count }
  }

  static fromJSON (json) {
    const h = new Histogram()
    for (const [i, c] of json.sparse) h.counts[i] = c
    h.max = json.max
    h.count = json.count
    return h
  }
}
