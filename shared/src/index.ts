export * from './protocol/index.js';
export * from './push-outcomes.js';
export * from './schedule-words.js';
export * from './task-states.js';
export * from './words.js';
