// Evaluated first: web-streams-polyfill looks up globalThis.DOMException when it loads.
import { DOMException } from './dom-exception.js';
// Workers' frozen clock replaces Date before any other module can capture it.
import './clock.js';
// Builtins that ignore termination get bounded wrappers before anything captures them.
import './bounds.js';

Object.defineProperty(globalThis, 'DOMException', { value: DOMException, writable: true, configurable: true, enumerable: false });
