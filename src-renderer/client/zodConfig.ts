/**
 * Imported first by the renderer entry: zod 4 probes `new Function` (and compiles object parsers with it)
 * unless jitless. The renderer's CSP forbids eval, and the probe alone would be reported as a CSP
 * violation, so this must run before any schema (the contract) is constructed.
 */
import { z } from 'zod';

z.config({ jitless: true });
