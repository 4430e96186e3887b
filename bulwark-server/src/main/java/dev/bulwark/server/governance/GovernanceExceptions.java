package dev.bulwark.server.governance;

/** The refusals the HTTP layer makes on governance's behalf, as {@link GovernanceException}s. */
public final class GovernanceExceptions {
    private GovernanceExceptions() {}

    public static GovernanceException methodNotAllowed(String method) {
        return GovernanceException.of(405, "method_not_allowed", method + " is not allowed here");
    }

    public static GovernanceException internal() {
        return GovernanceException.of(500, "internal", "internal error");
    }

    public static GovernanceException notFound() {
        return GovernanceException.of(404, "not_found", "no such endpoint");
    }

    public static GovernanceException badRequest(String message) {
        return GovernanceException.of(400, "bad_request", message);
    }

    public static GovernanceException invalidCode(String message) {
        return GovernanceException.of(400, "invalid_worker_code", message);
    }

    public static GovernanceException tooLarge(int max) {
        return GovernanceException.of(413, "request_too_large", "the request body is over " + max + " bytes");
    }

    public static GovernanceException resultNotJson(String message) {
        return GovernanceException.of(500, "result_not_json", "the result cannot be written as JSON: " + message);
    }

    /** The admission in a request body; 400 {@code bad_request} with the reason when it is not one. */
    public static Admission admission(Object body) {
        try {
            return Admission.from(body);
        } catch (IllegalArgumentException e) {
            throw badRequest(e.getMessage());
        }
    }
}
