// URLPattern: the class on globalThis stays in the snapshot, its implementation (urlpattern-polyfill,
// ~20 KB, src/parts/urlpattern.js) is compiled into the isolate by the first use. The class has the
// polyfill's shape (the same constructor, methods, getters and static, with the same names and
// lengths, in the same order); an instance is built by the polyfill's constructor with this class's
// prototype (Reflect.construct with new.target), so it carries the polyfill's private state and each
// member here calls the polyfill's own.
import { H } from './host.js';
import { URL, basicParse, newRecord, defaultPort, HOSTNAME, PORT } from './url.js';
import { ReflectApply, ObjectGetOwnPropertyDescriptor } from './util.js';

const ReflectConstruct = Reflect.construct;
let impl = null;

function load() {
  if (impl === null) impl = H.preludePart('urlpattern')({ URL, basicParse, newRecord, defaultPort, HOSTNAME, PORT });
  return impl;
}

const getters = { __proto__: null };
function get(name, self) {
  let g = getters[name];
  if (g === undefined) g = getters[name] = ObjectGetOwnPropertyDescriptor(load().prototype, name).get;
  return ReflectApply(g, self, []);
}

export class URLPattern {
  // eslint-disable-next-line no-unused-vars
  constructor(input = {}, baseURL, options) {
    return ReflectConstruct(load(), arguments, new.target);
  }

  get [Symbol.toStringTag]() { return 'URLPattern'; }

  // eslint-disable-next-line no-unused-vars
  test(input = {}, baseURL) { return ReflectApply(load().prototype.test, this, arguments); }

  // eslint-disable-next-line no-unused-vars
  exec(input = {}, baseURL) { return ReflectApply(load().prototype.exec, this, arguments); }

  // eslint-disable-next-line no-unused-vars
  static compareComponent(component, left, right) { return ReflectApply(load().compareComponent, this, arguments); }

  get protocol() { return get('protocol', this); }
  get username() { return get('username', this); }
  get password() { return get('password', this); }
  get hostname() { return get('hostname', this); }
  get port() { return get('port', this); }
  get pathname() { return get('pathname', this); }
  get search() { return get('search', this); }
  get hash() { return get('hash', this); }
  get hasRegExpGroups() { return get('hasRegExpGroups', this); }
}
