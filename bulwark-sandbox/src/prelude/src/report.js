// Reporting of exceptions that have nowhere to propagate (event listeners, timers, microtasks) and
// of unhandled rejections: logged, unless a listener of the global scope's event canceled it.
import { safeLog } from './host.js';
import { inspect } from './console.js';

// Fires 'error' at the global scope (global-scope.js); true when a listener canceled it.
let dispatchError = () => false;

export function onUncaught(dispatch) {
  dispatchError = dispatch;
}

export function reportException(err) {
  try {
    if (dispatchError(err)) return;
  } catch {
    // a failed dispatch still logs the exception
  }
  log('Uncaught', err);
}

export function reportRejection(reason) {
  log('Uncaught (in promise)', reason);
}

function log(what, err) {
  let text;
  try {
    text = `${what} ${inspect(err)}`;
  } catch {
    text = `${what} exception (could not be formatted)`;
  }
  safeLog('error', text);
}
