export * from './commands.js';
export * from './diff.js';
export * from './entities.js';
export * from './events.js';
export * from './frames.js';
export * from './http.js';
export * from './memory.js';
export * from './schedules.js';
