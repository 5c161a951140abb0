// Realistic values from @faker-js/faker. Faker's own generator is replaced: pseudonyms use a small
// deterministic generator seeded from the keyed hash of the value (reseeding it is cheap, unlike faker's
// Mersenne Twister), fake values use node:crypto randomness. Pseudonyms are stable for a given secret and
// faker version (a faker upgrade that changes its word lists changes them).
import { Faker, allLocales, type LocaleDefinition, type Randomizer } from '@faker-js/faker';
import type { UniformSource } from './random.js';
import { uniformUnit } from './random.js';

export const FAKE_KINDS: Record<string, (f: Faker) => string> = {
  first_name: (f) => f.person.firstName(),
  last_name: (f) => f.person.lastName(),
  full_name: (f) => f.person.fullName(),
  email: (f) => f.internet.email(),
  username: (f) => f.internet.username(),
  phone: (f) => f.phone.number(),
  city: (f) => f.location.city(),
  country: (f) => f.location.country(),
  street_address: (f) => f.location.streetAddress(),
  zip_code: (f) => f.location.zipCode(),
  company: (f) => f.company.name(),
  job_title: (f) => f.person.jobTitle(),
  iban: (f) => f.finance.iban(),
};

const locales = allLocales as unknown as Record<string, LocaleDefinition>;

export function isFakerLocale(name: string): boolean {
  return name !== 'base' && Object.hasOwn(locales, name);
}

/** sfc32, seeded from 128 bits of the keyed hash: deterministic, fast to reseed. Faker calls next()
 * unbound, so the state lives in a closure. */
function hashSeededRandomizer(): Randomizer & { reseed(digest: Uint8Array): void } {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 1;
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  return {
    reseed(digest) {
      const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
      a = view.getUint32(0);
      b = view.getUint32(4);
      c = view.getUint32(8);
      d = view.getUint32(12) | 1;
      for (let i = 0; i < 12; i++) nextU32();
    },
    next: () => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992,
    seed: () => {
      // Seeding goes through reseed() with a keyed hash only.
    },
  };
}

/** Faker's randomizer interface over a crypto source (swapped in per call). */
function cryptoRandomizer(): Randomizer & { source: UniformSource | undefined } {
  const randomizer = {
    source: undefined as UniformSource | undefined,
    next: () => uniformUnit(randomizer.source!),
    seed: () => {
      // Crypto randomness is never seeded.
    },
  };
  return randomizer;
}

/** Faker instances per locale, created on first use. */
export class FakerPool {
  private readonly seeded = new Map<string, { faker: Faker; randomizer: ReturnType<typeof hashSeededRandomizer> }>();
  private readonly random = new Map<string, { faker: Faker; randomizer: ReturnType<typeof cryptoRandomizer> }>();

  private localeChain(locale: string): LocaleDefinition[] {
    return [locales[locale]!, locales.en!, locales.base!];
  }

  pseudonym(locale: string, kind: string, digest: Uint8Array): string {
    let entry = this.seeded.get(locale);
    if (!entry) {
      const randomizer = hashSeededRandomizer();
      entry = { faker: new Faker({ locale: this.localeChain(locale), randomizer }), randomizer };
      this.seeded.set(locale, entry);
    }
    entry.randomizer.reseed(digest);
    return FAKE_KINDS[kind]!(entry.faker);
  }

  fake(locale: string, kind: string, source: UniformSource): string {
    let entry = this.random.get(locale);
    if (!entry) {
      const randomizer = cryptoRandomizer();
      entry = { faker: new Faker({ locale: this.localeChain(locale), randomizer }), randomizer };
      this.random.set(locale, entry);
    }
    entry.randomizer.source = source;
    return FAKE_KINDS[kind]!(entry.faker);
  }
}
