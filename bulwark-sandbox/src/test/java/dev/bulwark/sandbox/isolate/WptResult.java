package dev.bulwark.sandbox.isolate;

import java.util.List;

/**
 * What one WPT file did in a Bulwark isolate.
 *
 * @param path     the file's WPT path
 * @param harness  the harness status: OK, ERROR (an uncaught exception, or the file failed to
 *                 load), TIMEOUT (the harness timeout ended it)
 * @param message  why the harness status is not OK, else null
 * @param subtests every subtest, in the order it was defined
 */
record WptResult(String path, String harness, String message, List<Subtest> subtests) {
    /** One subtest: PASS, FAIL, TIMEOUT, NOTRUN or PRECONDITION_FAILED. */
    record Subtest(String name, String status, String message) {
        boolean passed() {
            return status.equals("PASS");
        }
    }

    static WptResult error(String path, String message) {
        return new WptResult(path, "ERROR", message, List.of());
    }
}
