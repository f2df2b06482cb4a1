import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './tmp.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs ./bin/episteme as a user would, with a private EPISTEME_HOME. */
export function episteme(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(path.join(repoRoot, 'bin/episteme'), args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export async function epistemeJson<T = any>(args: string[]): Promise<T> {
  const result = await episteme([...args, '--json']);
  if (result.code !== 0) throw new Error(`episteme ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
