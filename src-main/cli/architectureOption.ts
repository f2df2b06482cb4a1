/** `--architecture`, shared by init, train, simulate and the architecture command. */
import { InvalidArgumentError } from 'commander';
import { ARCHITECTURES, type Architecture } from '../bdl/architectures.ts';
import { ArchitectureName } from '../service/contract.ts';

export const ARCHITECTURE_HELP = `network: ${ArchitectureName.options.join(' | ')} (default gal-cnn at 28 px, resnet from 64 px up)`;

export function parseArchitecture(value: string): Architecture {
  const parsed = ArchitectureName.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`expected one of ${ArchitectureName.options.join(', ')}`);
  return parsed.data;
}

/** One line per architecture, for `architecture --help`-style listings. */
export function describeArchitectures(): string {
  return ArchitectureName.options.map((a) => `  ${a.padEnd(8)} ${ARCHITECTURES[a].description}`).join('\n');
}
