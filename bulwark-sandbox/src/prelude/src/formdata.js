// FormData, plus multipart/form-data serialization and parsing.
import { toUSVString, webidlClass, makeIteratorClass, createPairIterator, isObjectLike, concatBytes } from './util.js';
import { Blob, File, isBlob, isFile, blobBytes } from './blob.js';
import { utf8Encode, utf8DecodeReplace } from './encoding.js';
import { inspectCustom } from './console.js';
import { randomHex } from './random.js';

const FormDataIteratorPrototype = makeIteratorClass('FormData');
let getFormDataList, isFormData;

function createEntry(name, value, filename) {
  name = toUSVString(name);
  if (isBlob(value)) {
    if (!isFile(value) || filename !== undefined) {
      const fname = filename !== undefined ? toUSVString(filename) : isFile(value) ? value.name : 'blob';
      const opts = { type: value.type };
      if (isFile(value)) opts.lastModified = value.lastModified;
      value = new File([value], fname, opts);
    }
  } else {
    value = toUSVString(value);
  }
  return [name, value];
}

export class FormData {
  #list = [];
  constructor(form = undefined) {
    if (form !== undefined) throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
  }
  append(name, value, filename = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'append' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
    if (arguments.length > 2 && !isBlob(value)) throw new TypeError("Failed to execute 'append' on 'FormData': parameter 2 is not of type 'Blob'.");
    this.#list.push(createEntry(name, value, filename));
  }
  delete(name) {
    name = toUSVString(name);
    this.#list = this.#list.filter((e) => e[0] !== name);
  }
  get(name) {
    name = toUSVString(name);
    for (const e of this.#list) if (e[0] === name) return e[1];
    return null;
  }
  getAll(name) {
    name = toUSVString(name);
    return this.#list.filter((e) => e[0] === name).map((e) => e[1]);
  }
  has(name) {
    name = toUSVString(name);
    return this.#list.some((e) => e[0] === name);
  }
  set(name, value, filename = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'set' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
    if (arguments.length > 2 && !isBlob(value)) throw new TypeError("Failed to execute 'set' on 'FormData': parameter 2 is not of type 'Blob'.");
    const entry = createEntry(name, value, filename);
    const i = this.#list.findIndex((e) => e[0] === entry[0]);
    if (i < 0) this.#list.push(entry);
    else {
      this.#list[i] = entry;
      this.#list = this.#list.filter((e, j) => j <= i || e[0] !== entry[0]);
    }
  }
  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError("Failed to execute 'forEach' on 'FormData': The callback provided as parameter 1 is not a function.");
    for (let i = 0; i < this.#list.length; i++) callback.call(thisArg, this.#list[i][1], this.#list[i][0], this);
  }
  entries() { return createPairIterator(FormDataIteratorPrototype, () => this.#list, 'key+value'); }
  keys() { return createPairIterator(FormDataIteratorPrototype, () => this.#list, 'key'); }
  values() { return createPairIterator(FormDataIteratorPrototype, () => this.#list, 'value'); }
  [inspectCustom]() { return { name: 'FormData', value: this.#list.map((e) => ({ name: e[0], value: e[1] })) }; }
  static {
    getFormDataList = (f) => f.#list;
    isFormData = (v) => isObjectLike(v) && #list in v;
  }
}
FormData.prototype[Symbol.iterator] = FormData.prototype.entries;
webidlClass(FormData);
Object.defineProperty(FormData.prototype, Symbol.iterator, { enumerable: false });
export { getFormDataList, isFormData };

const normalizeNewlines = (s) => s.replace(/\r\n|\r|\n/g, '\r\n');
const escapeName = (s) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');

/** Serialize a FormData as multipart/form-data. Returns { bytes, contentType }. */
export function serializeMultipart(formData) {
  const boundary = `----BulwarkFormBoundary${randomHex(16)}`;
  const chunks = [];
  for (const [rawName, value] of getFormDataList(formData)) {
    const name = escapeName(normalizeNewlines(rawName));
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"`;
    if (typeof value === 'string') {
      chunks.push(utf8Encode(`${head}\r\n\r\n${normalizeNewlines(value)}\r\n`));
    } else {
      head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      chunks.push(utf8Encode(head), blobBytes(value), utf8Encode('\r\n'));
    }
  }
  chunks.push(utf8Encode(`--${boundary}--\r\n`));
  return { bytes: concatBytes(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function indexOfBytes(hay, needle, from) {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = from; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function parseDispositionParams(value) {
  // form-data; name="x"; filename="y"
  const params = new Map();
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  let m;
  while ((m = re.exec(value)) !== null) {
    const key = m[1].toLowerCase();
    let v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (!params.has(key)) params.set(key, v);
  }
  return params;
}
const unescapeName = (s) => s.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');

/** Parse a multipart/form-data body into a FormData; throws TypeError on malformed input. */
export function parseMultipart(bytes, boundary) {
  const fail = () => new TypeError('Failed to parse body as FormData.');
  const fd = new FormData();
  const delim = utf8Encode(`--${boundary}`);
  const nextDelim = utf8Encode(`\r\n--${boundary}`);
  let pos = indexOfBytes(bytes, delim, 0);
  if (pos < 0) throw fail();
  pos += delim.length;
  for (;;) {
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) break; // closing delimiter
    // Skip transport padding and the CRLF after the delimiter.
    while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++;
    if (bytes[pos] !== 0x0d || bytes[pos + 1] !== 0x0a) throw fail();
    pos += 2;
    const headerEnd = indexOfBytes(bytes, utf8Encode('\r\n\r\n'), pos);
    let headerText;
    let bodyStart;
    if (headerEnd < 0) throw fail();
    headerText = utf8DecodeReplace(bytes.subarray(pos, headerEnd));
    bodyStart = headerEnd + 4;
    const end = indexOfBytes(bytes, nextDelim, bodyStart);
    if (end < 0) throw fail();
    const content = bytes.subarray(bodyStart, end);
    pos = end + nextDelim.length;
    let name = null, filename = null, contentType = null;
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const hname = line.slice(0, colon).trim().toLowerCase();
      const hvalue = line.slice(colon + 1).trim();
      if (hname === 'content-disposition') {
        if (!/^form-data\s*(;|$)/i.test(hvalue)) throw fail();
        const params = parseDispositionParams(hvalue);
        if (params.has('name')) name = unescapeName(params.get('name'));
        if (params.has('filename')) filename = unescapeName(params.get('filename'));
      } else if (hname === 'content-type') {
        contentType = hvalue;
      }
    }
    if (name === null) throw fail();
    if (filename !== null) {
      fd.append(name, new File([content], filename, { type: contentType ?? 'text/plain' }));
    } else {
      fd.append(name, utf8DecodeReplace(content));
    }
  }
  return fd;
}
