// performance, navigator and reportError as Workers has them.
import { reportException } from './report.js';

// As in workerd: the time origin is 0, so performance.now() is Date.now() (which advances only
// with I/O on Workers; see clock.js). There is no precise clock for Spectre reasons.
export const performance = {
  now() { return Date.now(); },
  get timeOrigin() { return 0; },
  toJSON() { return { timeOrigin: 0 }; },
};
Object.defineProperty(performance, Symbol.toStringTag, { value: 'Performance', configurable: true });

export const navigator = {};
Object.defineProperty(navigator, 'userAgent', { value: 'Cloudflare-Workers', enumerable: true });
// Workers reports one CPU, whatever the machine has.
Object.defineProperty(navigator, 'hardwareConcurrency', { value: 1, enumerable: true });
// workerd's enable_navigator_language: English only (configurable, as there).
Object.defineProperty(navigator, 'language', { value: 'en', enumerable: true, configurable: true });
Object.defineProperty(navigator, 'languages', { value: Object.freeze(['en']), enumerable: true, configurable: true });
Object.defineProperty(navigator, Symbol.toStringTag, { value: 'Navigator', configurable: true });

/** HTML's reportError: report the exception as uncaught (logged), without throwing. */
export function reportError(e) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'reportError' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'Value'.");
  reportException(e);
}
