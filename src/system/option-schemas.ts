/**
 * Pieces of the option schemas (src/system/options.ts): how a value is named in a reason, whole-number bounds, the flight recorder's setting.
 */
import { z } from 'zod';
import { MAX_RECORDER_ENTRIES, MAX_RECORDER_PAYLOAD_BYTES } from '../defaults.js';
import type { RecorderSetting } from '../liveness/recorder.js';

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

/** A whole number in [min, max], every failure (wrong type included) with one reason. */
export function wholeNumber(unit: string, min: number, max?: number): z.ZodNumber {
  const range = max === undefined ? `, at least ${min}` : ` from ${min} to ${max}`;
  const error = (issue: { input?: unknown }): string => `must be a whole number${unit ? ` of ${unit}` : ''}${range}, got ${describe(issue.input)}`;
  const n = z.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? n : n.max(max, { error });
}

const recorderEntries = wholeNumber('entries', 0, MAX_RECORDER_ENTRIES);
const recorderObjectSchema = z.strictObject({
  /** Messages kept; default DEFAULT_RECORDER_ENTRIES. */
  messages: recorderEntries.optional(),
  /** Bytes of each message's encoded payload kept; 0 (the default): none. */
  payloadBytes: wholeNumber('bytes', 0, MAX_RECORDER_PAYLOAD_BYTES).optional(),
});

/** `flightRecorder`: a number of messages, or `{ messages, payloadBytes }`; each problem at its own path. */
export const recorderSchema = z.custom<RecorderSetting>(() => true).superRefine((v, ctx) => {
  if (typeof v === 'number') {
    for (const issue of recorderEntries.safeParse(v).error?.issues ?? []) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const issue of recorderObjectSchema.safeParse(v).error?.issues ?? []) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return;
  }
  ctx.addIssue({ code: 'custom', message: `must be a number of messages from 0 to ${MAX_RECORDER_ENTRIES} or { messages, payloadBytes }, got ${describe(v)}` });
});
