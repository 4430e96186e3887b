export const greeting = 'hello';
export let renders = 0;
export function counted() { renders++; }
