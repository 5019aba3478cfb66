// `errand doctor`'s checks, for the CLI and anything else that wants them.
export { type Check, type CheckStatus, type DoctorOptions, formatChecks, runDoctor } from './checks.js';
