// `errand doctor`'s checks, for the CLI and anything else that wants them.
export { formatChecks, runDoctor, type Check, type CheckStatus, type DoctorOptions } from './checks.js';
