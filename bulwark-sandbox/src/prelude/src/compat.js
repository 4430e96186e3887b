// The worker's compatibility switches: which behaviours its compatibility date and flags turn on
// (workerd's CompatibilityFlags). Java decides each one (Compatibility.java) and sends them all
// at load in one int (PreludeSwitch.java, ModuleLinker): bit n is the switch at index n of
// SWITCHES, the same order as PreludeSwitch's constants (PreludeSwitchTest checks that they agree).
// Other prelude modules ask compat(BIT). To add a switch: a name at the end of both lists.
export const SWITCHES = Object.freeze([
  'CACHE_OPTION',
  'ABORT_SIGNAL_RPC',
  'WEAK_REF',
  'NAVIGATOR_LANGUAGE',
  'EVENT_TARGET_THIS',
  'GLOBAL_MESSAGE_CHANNEL',
  'STRIP_AUTHORIZATION',
  'STRIP_BOM',
  'FETCH_ITERABLE',
  'FETCH_ITERABLE_ADJUSTMENT',
  'REPLACE_SURROGATES',
  'CLOSE_REASON_LIMIT',
  'WEBSOCKET_BLOB',
  'ENCODER_BACKPRESSURE',
  'WEBSOCKET_AUTO_REPLY',
  'REQUIRE_DEFAULT',
  'BIND_ALS_SNAPSHOT',
  'RPC_PARAMS_DUP_STUBS',
  'ENHANCED_ERRORS',
]);

export const CACHE_OPTION = 1 << 0;
export const ABORT_SIGNAL_RPC = 1 << 1;
export const WEAK_REF = 1 << 2;
export const NAVIGATOR_LANGUAGE = 1 << 3;
export const EVENT_TARGET_THIS = 1 << 4;
export const GLOBAL_MESSAGE_CHANNEL = 1 << 5;
export const STRIP_AUTHORIZATION = 1 << 6;
export const STRIP_BOM = 1 << 7;
export const FETCH_ITERABLE = 1 << 8;
export const FETCH_ITERABLE_ADJUSTMENT = 1 << 9;
export const REPLACE_SURROGATES = 1 << 10;
export const CLOSE_REASON_LIMIT = 1 << 11;
export const WEBSOCKET_BLOB = 1 << 12;
export const ENCODER_BACKPRESSURE = 1 << 13;
export const WEBSOCKET_AUTO_REPLY = 1 << 14;
export const REQUIRE_DEFAULT = 1 << 15;
export const BIND_ALS_SNAPSHOT = 1 << 16;
export const RPC_PARAMS_DUP_STUBS = 1 << 17;
export const ENHANCED_ERRORS = 1 << 18;

// Before any load (the snapshot, the prelude's own tests): what a bundle with no compatibility
// date gets (Compatibility.java), the behaviour Bulwark had before it honoured these switches.
let bits = CACHE_OPTION | WEAK_REF | NAVIGATOR_LANGUAGE | EVENT_TARGET_THIS | GLOBAL_MESSAGE_CHANNEL | STRIP_AUTHORIZATION
  | STRIP_BOM | REPLACE_SURROGATES | CLOSE_REASON_LIMIT | ENCODER_BACKPRESSURE | WEBSOCKET_AUTO_REPLY;

/** Whether the worker's compatibility turns this switch on. */
export function compat(bit) { return (bits & bit) !== 0; }

/** All the switches at once, set when the worker is linked. */
export function setCompatibility(b) { bits = b | 0; }
