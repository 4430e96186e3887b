package dev.bulwark.sandbox.isolate;

/** Tiny WebAssembly modules assembled by hand, for bundles that carry a {@code wasm} module. */
final class WasmModules {
    private WasmModules() {}

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    /** {@code (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)} */
    static byte[] add() {
        return bytes(
                0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                  // \0asm, version 1
                0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,            // type 0: (i32, i32) -> i32
                0x03, 0x02, 0x01, 0x00,                                          // func 0: type 0
                0x07, 0x07, 0x01, 0x03, 'a', 'd', 'd', 0x00, 0x00,               // export "add" = func 0
                0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b // code: get 0, get 1, add
        );
    }

    /** {@code (func (export "trap") unreachable)} */
    static byte[] trap() {
        return bytes(
                0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                              // type 0: () -> ()
                0x03, 0x02, 0x01, 0x00,
                0x07, 0x08, 0x01, 0x04, 't', 'r', 'a', 'p', 0x00, 0x00,          // export "trap" = func 0
                0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b                         // code: unreachable
        );
    }
}
