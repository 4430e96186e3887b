// A test-only reader for FileAPI/blob and FileAPI/file: WPT's FileAPI/support/Blob.js reads a
// blob's bytes with FileReader, which Workers (and so Bulwark) do not have. This adapter is
// declared inside the test's function scope (not on globalThis, so "FileReader" in globalThis
// stays false) and reads through blob.text() / blob.arrayBuffer(), so those tests measure Blob.
class FileReader {
  constructor() { this.result = null; this.onload = null; this.onerror = null; }
  readAsText(blob) { this._read(blob.text()); }
  readAsArrayBuffer(blob) { this._read(blob.arrayBuffer()); }
  _read(promise) {
    promise.then((value) => {
      this.result = value;
      if (this.onload) this.onload.call(this, { type: 'load', target: this });
    }, (error) => {
      if (this.onerror) this.onerror.call(this, { type: 'error', target: this, error });
    });
  }
}
