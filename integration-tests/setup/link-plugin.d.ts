/** See link-plugin.js. */
export function linkPlugin(): void
