export * from './protocol/index.js';
export * from './task-states.js';
export * from './words.js';
