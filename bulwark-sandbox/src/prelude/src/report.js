// Reporting of exceptions that have nowhere to propagate (event listeners, timers, microtasks).
import { safeLog } from './host.js';
import { inspect } from './console.js';

export function reportException(err) {
  let text;
  try {
    text = `Uncaught ${inspect(err)}`;
  } catch {
    text = 'Uncaught exception (could not be formatted)';
  }
  safeLog('error', text);
}
