import { buildProgram, reportError } from './main.ts';

buildProgram().parseAsync(process.argv).catch(reportError);
