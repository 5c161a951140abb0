// Samples per second of the exact samplers (one core, CryptoRandom), against a baseline of drawing raw random
// bytes from node:crypto: 4 bytes (one 32-bit word) per sample, in the same buffered way the samplers draw.
// Run: npx tsx development/bench/mechanisms.bench.ts   (or npm run bench -- mechanisms)
import { randomFillSync } from 'node:crypto';
import {
  CryptoRandom,
  discreteGaussianSampler,
  discreteLaplaceSampler,
  exponentialMechanism,
  privateQuantile,
  sampleBernoulliExp,
  type IntegerSampler,
} from '@veil/mechanisms';
import { runBenchmark, type BenchCase, type CaseResult } from './harness.js';

const SAMPLES = 200_000;
const SCALES = ['0.5', '1', '10', '1000', '1000000'];
const rng = new CryptoRandom();
let sink = 0; // keeps results alive so nothing is optimised away

function samplerCase(name: string, sampler: IntegerSampler): BenchCase {
  return {
    name,
    units: SAMPLES,
    run: () => {
      let acc = 0;
      for (let i = 0; i < SAMPLES; i++) acc += sampler.sample(rng);
      sink += acc;
    },
  };
}

/** Average 32-bit words a sampler consumes per sample, from the source's own counter. */
function wordsPerSample(sampler: IntegerSampler, n = 50_000): number {
  const before = rng.wordsDrawn;
  for (let i = 0; i < n; i++) sink += sampler.sample(rng);
  return (rng.wordsDrawn - before) / n;
}

const laplace = SCALES.map((s) => [s, discreteLaplaceSampler(s)] as const);
const gaussian = SCALES.map((s) => [s, discreteGaussianSampler((Number(s) ** 2).toString())] as const);
const baselineBuffer = new Uint32Array(SAMPLES);
const candidates = Array.from({ length: 10_000 }, (_, i) => i % 997);
const quantileValues = Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 100_000 / 1000);

const notes = [
  ...laplace.map(([s, sampler]) => `discrete Laplace scale ${s}: ~${wordsPerSample(sampler).toFixed(2)} random words (4 bytes) per sample`),
  ...gaussian.map(([s, sampler]) => `discrete Gaussian σ ${s}: ~${wordsPerSample(sampler).toFixed(2)} random words (4 bytes) per sample`),
  'baseline: crypto.randomFillSync of 4 bytes per sample (one 32-bit word), the raw cost of the randomness alone',
  'exponential mechanism: 10,000 candidates per call; quantile: 100,000 values, grid 2^20 + 1, per call',
];

const report = await runBenchmark({
  name: 'mechanisms',
  unitName: 'samples',
  repeats: 10,
  warmups: 2,
  baseline: { name: 'raw random bytes (4 per sample)', units: SAMPLES, run: () => { randomFillSync(baselineBuffer); sink += baselineBuffer[0]!; } },
  cases: [
    ...laplace.map(([s, sampler]) => samplerCase(`discrete Laplace, scale ${s}`, sampler)),
    ...gaussian.map(([s, sampler]) => samplerCase(`discrete Gaussian, σ ${s}`, sampler)),
    {
      name: 'Bernoulli(exp(−1/3))',
      units: SAMPLES,
      run: () => {
        for (let i = 0; i < SAMPLES; i++) if (sampleBernoulliExp('1/3', rng)) sink++;
      },
    },
    {
      name: 'exponential mechanism, 10^4 candidates (calls)',
      units: 100,
      run: () => {
        for (let i = 0; i < 100; i++) sink += exponentialMechanism(candidates, { sensitivity: 1, epsilon: '0.1' }, rng);
      },
    },
    {
      name: 'private quantile, 10^5 values (calls)',
      units: 5,
      run: () => {
        for (let i = 0; i < 5; i++) sink += privateQuantile(quantileValues, { lower: 0, upper: 100, quantile: '0.5', epsilon: 1 }, rng);
      },
    },
  ],
  targets: [
    {
      description: '≥ 1,000,000 discrete Laplace samples/s at scale 10',
      holds: (r: Map<string, CaseResult>) => (r.get('discrete Laplace, scale 10')?.unitsPerSecond ?? 0) >= 1_000_000,
    },
    {
      description: '≥ 250,000 discrete Gaussian samples/s at σ 10',
      holds: (r: Map<string, CaseResult>) => (r.get('discrete Gaussian, σ 10')?.unitsPerSecond ?? 0) >= 250_000,
    },
  ],
  notes,
});
if (sink === Number.MIN_VALUE) console.log(report.name); // never true; uses sink
