// node:buffer: the npm `buffer` package (feross, MIT) plus what Node adds around it.
import { Buffer as NpmBuffer, SlowBuffer, INSPECT_MAX_BYTES, kMaxLength } from 'buffer';
import { G } from './internals.js';

export const Buffer = NpmBuffer;

const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: (1 << 29) - 24 });

function isUtf8(input) {
  try {
    new G.TextDecoder('utf-8', { fatal: true }).decode(input);
    return true;
  } catch {
    return false;
  }
}
function isAscii(input) {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

export function bufferModule() {
  return {
    Buffer, SlowBuffer, INSPECT_MAX_BYTES, kMaxLength, kStringMaxLength: constants.MAX_STRING_LENGTH, constants,
    Blob: G.Blob, File: G.File, atob: G.atob, btoa: G.btoa, isUtf8, isAscii,
  };
}
