// PLACEHOLDER until the structured serialization codec lands: JSON in UTF-8.
import { utf8Encode, utf8Decode } from './encoding.js';
export function serialize(value) { return utf8Encode(JSON.stringify(value)); }
export function deserialize(bytes) { return JSON.parse(utf8Decode(bytes)); }
