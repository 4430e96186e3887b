// node:buffer: the npm `buffer` package (feross, MIT) plus what Node adds around it.
import { Buffer as NpmBuffer, SlowBuffer, INSPECT_MAX_BYTES, kMaxLength } from 'buffer';
import { G } from './internals.js';

export const Buffer = NpmBuffer;

// The npm package predates Node's 'base64url' encoding (JWT libraries use it). base64-js already
// decodes '-' and '_' and missing padding, so decoding is base64's; encoding maps the alphabet.
const isUrl = (encoding) => typeof encoding === 'string' && encoding.toLowerCase() === 'base64url';
const toUrl = (b64) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const npmFrom = NpmBuffer.from, npmToString = NpmBuffer.prototype.toString, npmWrite = NpmBuffer.prototype.write;
const npmByteLength = NpmBuffer.byteLength, npmIsEncoding = NpmBuffer.isEncoding;
Buffer.from = function from(value, encodingOrOffset, length) {
  return Reflect.apply(npmFrom, this, [value, isUrl(encodingOrOffset) ? 'base64' : encodingOrOffset, length]);
};
Buffer.byteLength = function byteLength(string, encoding) {
  return npmByteLength(string, isUrl(encoding) ? 'base64' : encoding);
};
Buffer.isEncoding = function isEncoding(encoding) {
  return isUrl(encoding) || npmIsEncoding(encoding);
};
Buffer.prototype.toString = function toString(encoding, start, end) {
  if (isUrl(encoding)) return toUrl(Reflect.apply(npmToString, this, ['base64', start, end]));
  return Reflect.apply(npmToString, this, arguments);
};
Buffer.prototype.write = function write(string, offset, length, encoding) {
  const args = [...arguments];
  for (let i = 1; i < args.length; i++) if (isUrl(args[i])) args[i] = 'base64';
  return Reflect.apply(npmWrite, this, args);
};

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
