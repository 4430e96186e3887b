package dev.bulwark.objects.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether user SQL may run, from SQLite tokens (never from a regex over the raw text,
 * which quotes and comments can fool). The rules follow workerd's authorizer where the JDBC
 * driver gives us no authorizer hook:
 * <ul>
 *   <li>no name (identifier, quoted identifier, or string literal, since SQLite accepts a string
 *       where a name is expected) may begin with a reserved prefix ({@code _cf_}, {@code _bw_});</li>
 *   <li>no {@code ATTACH}/{@code DETACH}, {@code VACUUM}, {@code load_extension}, transaction
 *       statements, or {@code ROLLBACK} in any form (a conflict clause {@code OR ROLLBACK} would
 *       end the implicit transaction behind the storage's back);</li>
 *   <li>{@code sqlite_*} objects may be read but not written, created, dropped or altered, and
 *       {@code sqlite_*()} functions ({@code sqlite_version()}, ...) may not be called;</li>
 *   <li>only the pragmas workerd allows, with the arguments it allows;</li>
 *   <li>virtual tables only with the fts5, fts5vocab, rtree and rtree_i32 modules;</li>
 *   <li>no TEMP objects (the temp schema is outside the database's size limit).</li>
 * </ul>
 */
final class SqlGuard {

    static final List<String> RESERVED_PREFIXES = List.of("_cf_", "_bw_");

    static final String TRANSACTION_MESSAGE = "To execute a transaction, please use the "
            + "state.storage.transaction() or state.storage.transactionSync() APIs instead of the SQL "
            + "BEGIN TRANSACTION or SAVEPOINT statements. The JavaScript API is safer because it will "
            + "automatically roll back on exceptions, and because it interacts correctly with Durable "
            + "Objects' automatic atomic write coalescing.";

    private enum PragmaArgs { NONE, BOOLEAN, NAME, OPTIONAL_NAME, NUMBER_OR_NONE, NUMBER_NAME_OR_NONE }

    private static final Map<String, PragmaArgs> PRAGMAS = Map.ofEntries(
            Map.entry("data_version", PragmaArgs.NONE),
            Map.entry("page_size", PragmaArgs.NONE),
            Map.entry("table_list", PragmaArgs.OPTIONAL_NAME),
            Map.entry("table_info", PragmaArgs.NAME),
            Map.entry("table_xinfo", PragmaArgs.NAME),
            Map.entry("case_sensitive_like", PragmaArgs.BOOLEAN),
            Map.entry("foreign_keys", PragmaArgs.BOOLEAN),
            Map.entry("defer_foreign_keys", PragmaArgs.BOOLEAN),
            Map.entry("ignore_check_constraints", PragmaArgs.BOOLEAN),
            Map.entry("legacy_alter_table", PragmaArgs.BOOLEAN),
            Map.entry("recursive_triggers", PragmaArgs.BOOLEAN),
            Map.entry("reverse_unordered_selects", PragmaArgs.BOOLEAN),
            Map.entry("foreign_key_check", PragmaArgs.OPTIONAL_NAME),
            Map.entry("foreign_key_list", PragmaArgs.NAME),
            Map.entry("index_info", PragmaArgs.NAME),
            Map.entry("index_list", PragmaArgs.NAME),
            Map.entry("index_xinfo", PragmaArgs.NAME),
            Map.entry("quick_check", PragmaArgs.NUMBER_NAME_OR_NONE),
            Map.entry("optimize", PragmaArgs.NUMBER_OR_NONE));

    private static final Set<String> BOOLEANS = Set.of("0", "1", "on", "off", "true", "false", "yes", "no");

    private static final Set<String> VTABLE_MODULES = Set.of("fts5", "fts5vocab", "rtree", "rtree_i32");

    /** Words after which the next name is the object a statement writes, creates or drops. */
    private static final Set<String> WRITE_TARGET_BEFORE =
            Set.of("into", "update", "table", "index", "trigger", "view", "on", "reindex", "from");

    private SqlGuard() {}

    /** Checks one statement; throws {@link StorageException} (kind AUTH) when it may not run. */
    static void check(List<SqlToken> stmt) {
        for (int i = 0; i < stmt.size(); i++) {
            SqlToken t = stmt.get(i);
            if (t.isName() && !likePattern(stmt, i)) {
                for (String prefix : RESERVED_PREFIXES) {
                    if (SqlTokenizer.asciiStartsWithIgnoreCase(t.value(), prefix)) {
                        throw denied("access to the reserved name '" + t.value() + "' is not allowed "
                                + "(names beginning with _cf_ or _bw_ are reserved; bind a string "
                                + "value starting with them as a parameter)");
                    }
                }
                if (SqlTokenizer.asciiEqualsIgnoreCase(t.value(), "sqlite_dbpage")) {
                    throw denied("access to sqlite_dbpage is not allowed");
                }
            }
            if (t.is("ATTACH") || t.is("DETACH")) throw denied("ATTACH and DETACH are not allowed");
            if (t.is("VACUUM")) throw denied("VACUUM is not allowed");
            if (t.is("load_extension")) throw denied("loading extensions is not allowed");
            if (t.is("ROLLBACK")) throw denied(TRANSACTION_MESSAGE);
        }
        int first = SqlTokenizer.skipExplain(stmt, 0);
        if (first >= stmt.size()) return;
        SqlToken head = stmt.get(first);
        if (head.is("BEGIN") || head.is("COMMIT") || head.is("END") || head.is("SAVEPOINT")
                || head.is("RELEASE")) {
            throw denied(TRANSACTION_MESSAGE);
        }
        if (head.is("PRAGMA")) {
            checkPragma(stmt, first + 1);
            return;
        }
        checkSqliteWrites(stmt, first);
        checkSqliteFunctions(stmt, first);
        checkVirtualTable(stmt, first);
        checkTemp(stmt, first);
    }

    /**
     * No CREATE TEMP ... and no {@code temp.} name in a CREATE (as workerd's authorizer): a TEMP
     * table lives in memory or a temporary file, where max_page_count does not bound it.
     */
    private static void checkTemp(List<SqlToken> stmt, int first) {
        if (!stmt.get(first).is("CREATE")) return;
        if (first + 1 < stmt.size() && (stmt.get(first + 1).is("TEMP") || stmt.get(first + 1).is("TEMPORARY"))) {
            throw denied("TEMP tables, views, indexes and triggers are not allowed");
        }
        for (int i = first + 1; i + 1 < stmt.size(); i++) {
            SqlToken t = stmt.get(i), next = stmt.get(i + 1);
            if (t.isName() && SqlTokenizer.asciiEqualsIgnoreCase(t.value(), "temp")
                    && next.kind() == SqlToken.Kind.PUNCT && next.value().equals(".")) {
                throw denied("objects in the temp schema are not allowed");
            }
        }
    }

    /** As workerd's authorizer: no {@code sqlite_*()} function (what the build is, its options). */
    private static void checkSqliteFunctions(List<SqlToken> stmt, int first) {
        for (int i = first; i + 1 < stmt.size(); i++) {
            SqlToken t = stmt.get(i);
            if (t.kind() != SqlToken.Kind.WORD || !SqlTokenizer.asciiStartsWithIgnoreCase(t.value(), "sqlite_")) continue;
            SqlToken next = stmt.get(i + 1);
            if (next.kind() == SqlToken.Kind.PUNCT && next.value().equals("(")) {
                // SQLite's own message for a function its authorizer denies.
                throw new StorageException(StorageException.Kind.AUTH,
                        "not authorized to use function: " + t.value() + ": SQLITE_AUTH");
            }
        }
    }

    /**
     * True for a quoted pattern right after LIKE or GLOB ({@code name NOT LIKE '_cf_%'}, as
     * Cloudflare's docs list tables): in an expression a lone quoted token is a column of a table
     * the statement names (checked on its own) or a string, never a table.
     */
    private static boolean likePattern(List<SqlToken> stmt, int i) {
        SqlToken t = stmt.get(i);
        if (t.kind() == SqlToken.Kind.WORD || i == 0) return false;
        SqlToken before = stmt.get(i - 1);
        if (!before.is("LIKE") && !before.is("GLOB")) return false;
        // "_bw_kv".key would name the table: not a pattern.
        return i + 1 == stmt.size() || !stmt.get(i + 1).value().equals(".");
    }

    private static void checkSqliteWrites(List<SqlToken> stmt, int first) {
        SqlToken head = stmt.get(first);
        // A SELECT (or WITH ... SELECT) reads; sqlite_* may appear in its FROM clauses.
        boolean writes = !(head.is("SELECT") || head.is("VALUES"));
        if (head.is("WITH")) writes = stmt.stream().anyMatch(t -> t.is("INSERT") || t.is("UPDATE")
                || t.is("DELETE") || t.is("REPLACE"));
        for (int i = first; i < stmt.size(); i++) {
            SqlToken t = stmt.get(i);
            if (!t.isName() || !SqlTokenizer.asciiStartsWithIgnoreCase(t.value(), "sqlite_")) continue;
            if (!writes) continue;
            // The name written may be schema-qualified: main.sqlite_x.
            int before = i - 1;
            if (before >= first + 1 && stmt.get(before).value().equals(".")) before -= 2;
            if (before < first) continue;
            SqlToken prev = stmt.get(before);
            boolean target = prev.kind() == SqlToken.Kind.WORD
                    && WRITE_TARGET_BEFORE.contains(prev.value().toLowerCase(java.util.Locale.ROOT));
            // IF [NOT] EXISTS before a name: DROP TABLE IF EXISTS sqlite_x.
            if (prev.is("EXISTS")) target = true;
            // In a statement that writes, FROM names a read source except in DELETE FROM.
            if (prev.is("FROM") && !(before - 1 >= first && stmt.get(before - 1).is("DELETE"))) {
                target = false;
            }
            // sqlite_version() and friends after ON in a join are function calls, not targets
            // (CREATE INDEX ... ON sqlite_x(...) is one).
            boolean call = i + 1 < stmt.size() && stmt.get(i + 1).value().equals("(")
                    && stmt.get(i + 1).kind() == SqlToken.Kind.PUNCT;
            if (call && prev.is("ON") && !head.is("CREATE")) target = false;
            if (head.is("ALTER") || head.is("DROP")) target = true;
            if (target) throw denied("writing to " + t.value() + " is not allowed");
        }
    }

    private static void checkVirtualTable(List<SqlToken> stmt, int first) {
        if (!stmt.get(first).is("CREATE")) return;
        int i = first + 1;
        if (i < stmt.size() && stmt.get(i).is("VIRTUAL")) {
            for (int j = i; j + 1 < stmt.size(); j++) {
                if (stmt.get(j).is("USING")) {
                    String module = stmt.get(j + 1).value().toLowerCase(java.util.Locale.ROOT);
                    if (!VTABLE_MODULES.contains(module)) {
                        throw denied("virtual table module '" + stmt.get(j + 1).value() + "' is not allowed");
                    }
                    return;
                }
            }
        }
    }

    private static void checkPragma(List<SqlToken> stmt, int i) {
        if (i + 1 < stmt.size() && stmt.get(i + 1).value().equals(".")
                && stmt.get(i + 1).kind() == SqlToken.Kind.PUNCT) {
            if (!SqlTokenizer.asciiEqualsIgnoreCase(stmt.get(i).value(), "main")) {
                throw denied("pragmas on schemas other than main are not allowed");
            }
            i += 2;
        }
        if (i >= stmt.size() || stmt.get(i).kind() != SqlToken.Kind.WORD) throw denied("malformed PRAGMA");
        String name = stmt.get(i).value().toLowerCase(java.util.Locale.ROOT);
        PragmaArgs args = PRAGMAS.get(name);
        if (args == null) throw denied("PRAGMA " + stmt.get(i).value() + " is not allowed");
        List<SqlToken> rest = stmt.subList(i + 1, stmt.size());
        SqlToken arg = pragmaArgument(rest);
        boolean ok = switch (args) {
            case NONE -> rest.isEmpty();
            case BOOLEAN -> rest.isEmpty()
                    || (arg != null && BOOLEANS.contains(arg.value().toLowerCase(java.util.Locale.ROOT)));
            case NAME -> arg != null && arg.isName();
            case OPTIONAL_NAME -> rest.isEmpty() || (arg != null && arg.isName());
            case NUMBER_OR_NONE -> rest.isEmpty() || (arg != null && arg.kind() == SqlToken.Kind.NUMBER);
            case NUMBER_NAME_OR_NONE -> rest.isEmpty()
                    || (arg != null && (arg.kind() == SqlToken.Kind.NUMBER || arg.isName()));
        };
        if (!ok) throw denied("PRAGMA " + stmt.get(i).value() + " is not allowed with these arguments");
    }

    /** The single argument of {@code = value} or {@code (value)}, or null if the shape is other. */
    private static SqlToken pragmaArgument(List<SqlToken> rest) {
        // A sign before a number is part of the value in SQLite's grammar (PRAGMA optimize(-1)).
        if (rest.size() >= 3 && rest.get(1).kind() == SqlToken.Kind.PUNCT
                && (rest.get(1).value().equals("-") || rest.get(1).value().equals("+"))
                && rest.get(2).kind() == SqlToken.Kind.NUMBER) {
            rest = new ArrayList<>(rest);
            rest.remove(1);
        }
        if (rest.size() == 2 && rest.get(0).value().equals("=") && rest.get(0).kind() == SqlToken.Kind.PUNCT) {
            return rest.get(1);
        }
        if (rest.size() == 3 && rest.get(0).value().equals("(") && rest.get(2).value().equals(")")
                && rest.get(0).kind() == SqlToken.Kind.PUNCT && rest.get(2).kind() == SqlToken.Kind.PUNCT) {
            return rest.get(1);
        }
        return null;
    }

    /** Bulwark's reason, then what SQLite's authorizer says when it denies a statement. */
    private static StorageException denied(String why) {
        return new StorageException(StorageException.Kind.AUTH, why + ": not authorized: SQLITE_AUTH");
    }
}
