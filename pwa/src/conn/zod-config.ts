// Imported before any schema is built: no code generation in zod. The daemon's CSP has no
// 'unsafe-eval', and zod would otherwise probe for it (a CSP violation report on every start)
// when each object schema is created, before falling back to the same checks without it.
import { z } from 'zod';

z.config({ jitless: true });
