import type { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidOptionError } from '../errors.js';

/**
 * Schema pieces shared by every policy's options, each carrying its own
 * "must be …" reason, and the one place a zod failure becomes an
 * InvalidOptionError naming the field (`retry.maxAttempts must be an integer
 * of at least 1, got 0`).
 */

export const policyName = z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string');

/** Duck-typed so a registry from another copy of prom-client is accepted too. */
export const registryOption = z.custom<Registry>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Registry).registerMetric === 'function' && typeof (v as Registry).getSingleMetric === 'function',
  { error: 'must be a prom-client Registry' },
);

export function integer(min: number, unit = ''): z.ZodNumber {
  const reason = unit ? `must be a whole number of ${unit}, at least ${min}` : `must be an integer of at least ${min}`;
  return z.number({ error: reason }).int(reason).min(min, reason);
}

export function ms(min = 0): z.ZodNumber {
  return integer(min, 'ms');
}

/** A fraction strictly between 0 and 1. */
export const ratio = z.number({ error: 'must be a number between 0 and 1 (exclusive)' }).gt(0, 'must be a number between 0 and 1 (exclusive)').lt(1, 'must be a number between 0 and 1 (exclusive)');

export function fn<F>(): z.ZodType<F> {
  return z.custom<F>((v) => typeof v === 'function', { error: 'must be a function' });
}

/** Fields every policy takes. */
export const commonFields = { name: policyName.optional(), registry: registryOption.optional() };

function describe(input: unknown): string {
  if (typeof input === 'function') return 'a function';
  if (typeof input === 'string') return JSON.stringify(input);
  if (typeof input === 'object' && input !== null) return Array.isArray(input) ? 'an array' : 'an object';
  return String(input);
}

function join(where: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), where);
}

/**
 * Validate `input` against `schema`; the first problem throws an
 * InvalidOptionError whose path starts with `where` (the policy kind).
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = join(where, issue.path);
  if (issue.code === 'unrecognized_keys') throw new InvalidOptionError(`${path}.${issue.keys[0]}`, 'is not a known option');
  if (issue.code === 'invalid_type' && issue.path.length === 0) throw new InvalidOptionError(where, `must be an object, got ${describe(issue.input)}`);
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(' | ');
    throw new InvalidOptionError(path, `must be one of ${allowed}, got ${describe(issue.input)}`);
  }
  const reason = issue.message.startsWith('must') ? issue.message : `is invalid: ${issue.message}`;
  throw new InvalidOptionError(path, 'input' in issue ? `${reason}, got ${describe(issue.input)}` : reason);
}
