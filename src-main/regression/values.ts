import type { Project } from '../db/project.ts';

/** A decimal number as typed or written in a CSV ("3.5", "-2", "1e-3"); no hex, no blanks, no "Infinity". */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads a regression label from text and checks it against the project's target range; returns the
 * value or a message saying why it is refused.
 */
export function parseTargetValue(project: Project, text: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!NUMBER.test(trimmed) || !Number.isFinite(value)) return { error: `"${text}" is not a number` };
  const target = project.meta.target;
  if (target && ((target.min !== null && value < target.min) || (target.max !== null && value > target.max))) {
    return { error: `${value} is outside the range of ${target.name} (${target.min ?? '−∞'} to ${target.max ?? '∞'})` };
  }
  return { value };
}
