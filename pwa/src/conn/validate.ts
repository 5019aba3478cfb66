// Loaded lazily (zod and the protocol schemas are most of the app's weight): validates every frame
// and every command result before the app believes it.
import './zod-config.js';
import { CommandResults, PairClaimResponse, ServerFrame, UploadResponse } from '../../../shared/src/index.js';

export { PairClaimResponse, ServerFrame, UploadResponse };

/** Every command type's result schema: no reply reaches the app unchecked. */
export const results = CommandResults;

export type ResultSchemas = typeof results;
