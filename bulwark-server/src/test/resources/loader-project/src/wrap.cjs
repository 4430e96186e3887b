// A CommonJS module of the parent worker (wrangler's default rule types .cjs as CommonJS):
// DynamicWorkersTest's /cjs.
module.exports = { wrap: (s) => '[' + s + '] ' + __filename };
