package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A tool generated code may ask for: {@code name} (dotted, e.g. {@code tickets.open}), the JSON
 * schema of its arguments (an object; see {@link ArgsSchema} for what is checked), its contract,
 * its cost in spend units, and its implementation; optionally a {@link ToolLookup} (reconciles an
 * {@code outcome_unknown} ledger row) and a {@link ToolRevert} (undoes an applied call in a rollback).
 */
public record Tool(String name, JsonNode argsSchema, Contract contract, long cost, ToolFunction function, ToolLookup lookup,
                   ToolRevert revert) {
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}(\\.[a-z][a-z0-9_]{0,62}){0,3}");

    public Tool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(argsSchema, "argsSchema");
        Objects.requireNonNull(contract, "contract");
        Objects.requireNonNull(function, "function");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a tool name is 1 to 4 dotted parts of a-z 0-9 _ (starting with a letter): " + name);
        }
        if (cost < 0) throw new IllegalArgumentException("a tool's cost is not negative");
        ArgsSchema.checkSchema(argsSchema);
    }

    /** A tool without lookup and revert. */
    public Tool(String name, JsonNode argsSchema, Contract contract, long cost, ToolFunction function) {
        this(name, argsSchema, contract, cost, function, null, null);
    }

    public Tool withLookup(ToolLookup lookup) {
        return new Tool(name, argsSchema, contract, cost, function, lookup, revert);
    }

    public Tool withRevert(ToolRevert revert) {
        return new Tool(name, argsSchema, contract, cost, function, lookup, revert);
    }
}
