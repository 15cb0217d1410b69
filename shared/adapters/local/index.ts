/** Embedded adapters: the real program on one machine (SQLite, files, processes). */
export * from './sqlite-database.js';
