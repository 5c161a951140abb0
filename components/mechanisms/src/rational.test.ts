import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { Rational, toRational } from './rational.js';

describe('Rational', () => {
  it('parses decimals, exponents, fractions, numbers and Decimals exactly', () => {
    expect(toRational('0.1').toString()).toBe('1/10');
    expect(toRational('1e-9').toString()).toBe('1/1000000000');
    expect(toRational('-2.50').toString()).toBe('-5/2');
    expect(toRational('.5E1').toString()).toBe('5');
    expect(toRational('3/6').toString()).toBe('1/2');
    expect(toRational(0.5).toString()).toBe('1/2');
    expect(toRational(0.1).den).toBe(2n ** 55n); // a double is the binary fraction it is
    expect(toRational(new Decimal('1.25')).toString()).toBe('5/4');
    expect(toRational(7n).toString()).toBe('7');
  });

  it('rejects what is not a finite number, naming the parameter', () => {
    expect(() => toRational('abc', 'epsilon')).toThrow(/epsilon must be a finite number/);
    expect(() => toRational(Number.NaN, 'delta')).toThrow(/delta must be finite/);
    expect(() => toRational('1/0', 'scale')).toThrow(/scale has a zero denominator/);
  });

  it('does exact arithmetic and floors', () => {
    const a = toRational('7/3');
    expect(a.add(toRational('1/6')).toString()).toBe('5/2');
    expect(a.floor()).toBe(2n);
    expect(a.neg().floor()).toBe(-3n);
    expect(a.ceil()).toBe(3n);
    expect(a.mulPow2(-2).toString()).toBe('7/12');
    expect(a.cmp(new Rational(7n, 3n))).toBe(0);
  });

  it('rounds decimal strings exactly in the asked direction', () => {
    expect(toRational('1/3').toDecimalString(5, 'up')).toBe('0.33334');
    expect(toRational('1/3').toDecimalString(5, 'down')).toBe('0.33333');
    expect(toRational('-1/3').toDecimalString(5, 'up')).toBe('-0.33333');
    expect(toRational('2/3').toDecimalString(3)).toBe('0.667');
    expect(toRational('1/1800').toDecimalString(6, 'up')).toBe('0.000555556');
    expect(toRational('123456').toDecimalString(3, 'down')).toBe('123000');
    expect(toRational('0.000125').toDecimalString(2)).toBe('0.00012'); // half to even
    expect(toRational('99999/100').toDecimalString(3, 'up')).toBe('1000');
    expect(toRational('0.5').toDecimalString(10, 'up')).toBe('0.5');
  });
});
