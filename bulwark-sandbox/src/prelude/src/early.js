// Evaluated first: web-streams-polyfill looks up globalThis.DOMException when it loads.
import { DOMException } from './dom-exception.js';

Object.defineProperty(globalThis, 'DOMException', { value: DOMException, writable: true, configurable: true, enumerable: false });
