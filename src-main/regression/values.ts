import type { Project } from '../db/project.ts';

/** A decimal number as typed or written in a CSV ("3.5", "-2", "1e-3"); no hex, no blanks, no "Infinity". */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Largest magnitude of a label: the database refuses ±1e308 and beyond, and sums of squares must stay finite. */
export const MAX_TARGET_MAGNITUDE = 1e300;

/**
 * Why a finite number cannot be a label of this target (beyond ±MAX_TARGET_MAGNITUDE, or outside the
 * target's range), or null. The one check behind the CLI, the CSV readers and db/labels.ts.
 */
export function targetRangeError(target: { name: string | null; min: number | null; max: number | null } | null, value: number): string | null {
  if (Math.abs(value) > MAX_TARGET_MAGNITUDE) return `${value} is too large: a value must lie between -1e300 and 1e300`;
  if (target && ((target.min !== null && value < target.min) || (target.max !== null && value > target.max))) {
    return `${value} is outside the range of ${target.name ?? 'the target'} (${target.min ?? '−∞'} to ${target.max ?? '∞'})`;
  }
  return null;
}

/**
 * Reads a regression label from text and checks it against the project's target range; returns the
 * value or a message saying why it is refused.
 */
export function parseTargetValue(project: Project, text: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!NUMBER.test(trimmed) || !Number.isFinite(value)) return { error: `"${text}" is not a number` };
  const error = targetRangeError(project.meta.target, value);
  return error === null ? { value } : { error };
}
